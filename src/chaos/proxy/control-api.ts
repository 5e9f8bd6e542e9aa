import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe } from '../../core/policy.js';
import { type Endpoint, formatEndpoint } from './address.js';
import { ToxicExistsError, ToxicNotFoundError } from './errors.js';
import type { ProxyCore } from './proxy.js';
import type { ToxicChanges, ToxicSpec } from './toxics.js';

/** Request bodies are small JSON documents; anything bigger is refused. */
const MAX_BODY_BYTES = 64 * 1024;

/** An answer the API gives on purpose, with its status code. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly allow?: string,
  ) {
    super(message);
  }
}

type Reply = { status: number; body?: unknown };

/** The HTTP control API of one proxy, in Toxiproxy's shape. */
export interface ControlApi {
  readonly url: string;
  close(): Promise<void>;
}

export async function startControlApi(proxy: ProxyCore, at: Endpoint): Promise<ControlApi> {
  const server = createServer((request, response) => {
    void handle(proxy, request, response);
  });
  server.listen({ host: at.host, port: at.port, exclusive: true });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${formatEndpoint({ host: at.host, port })}`,
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

async function handle(
  proxy: ProxyCore,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  let reply: Reply;
  try {
    reply = await route(proxy, request);
  } catch (error) {
    const status = statusOf(error);
    if (error instanceof ApiError && error.allow !== undefined) {
      response.setHeader('allow', error.allow);
    }
    const message = error instanceof Error ? error.message : describe(error);
    reply = { status, body: { error: message, status } };
  }
  if (reply.body === undefined) {
    response.writeHead(reply.status).end();
    return;
  }
  const json = JSON.stringify(reply.body);
  response
    .writeHead(reply.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(json),
    })
    .end(json);
}

function statusOf(error: unknown): number {
  if (error instanceof ApiError) return error.status;
  if (error instanceof TypeError || error instanceof URIError) return 400;
  if (error instanceof ToxicNotFoundError) return 404;
  if (error instanceof ToxicExistsError) return 409;
  return 500;
}

async function route(proxy: ProxyCore, request: IncomingMessage): Promise<Reply> {
  const method = request.method ?? 'GET';
  const path = new URL(request.url ?? '/', 'http://control').pathname;
  const parts = path
    .split('/')
    .filter((part) => part !== '')
    .map(decodeURIComponent);
  const allow = (...methods: string[]) => {
    if (!methods.includes(method)) {
      throw new ApiError(405, `${method} is not allowed on ${path}`, methods.join(', '));
    }
  };

  if (parts.length === 1 && parts[0] === 'reset') {
    allow('POST');
    await proxy.enable();
    proxy.removeAllToxics();
    return { status: 204 };
  }
  if (parts[0] !== 'proxies') throw new ApiError(404, `no such endpoint: ${path}`);
  if (parts.length === 1) {
    allow('GET');
    return { status: 200, body: { [proxy.name]: proxy.toJSON() } };
  }
  if (parts[1] !== proxy.name) throw new ApiError(404, `no such proxy: ${parts[1]}`);

  if (parts.length === 2) {
    allow('GET', 'POST', 'PATCH');
    if (method !== 'GET') await updateProxy(proxy, await readJson(request));
    return { status: 200, body: proxy.toJSON() };
  }
  if (parts[2] !== 'toxics' || parts.length > 4) {
    throw new ApiError(404, `no such endpoint: ${path}`);
  }
  if (parts.length === 3) {
    allow('GET', 'POST');
    if (method === 'GET') return { status: 200, body: proxy.toxics() };
    return { status: 200, body: proxy.addToxic((await readJson(request)) as ToxicSpec) };
  }
  const name = parts[3]!;
  allow('GET', 'POST', 'PATCH', 'DELETE');
  if (method === 'GET') return { status: 200, body: proxy.toxic(name) };
  if (method === 'DELETE') {
    proxy.removeToxic(name);
    return { status: 204 };
  }
  const changes = (await readJson(request)) as ToxicChanges;
  return { status: 200, body: proxy.updateToxic(name, changes) };
}

/**
 * `POST /proxies/:name`: only `enabled` can change. Toxiproxy clients send the proxy back
 * whole, so its name, listen and upstream may come along unchanged, and its toxics, which are
 * ignored here as Toxiproxy ignores them (they change through `/toxics`).
 */
async function updateProxy(proxy: ProxyCore, body: unknown): Promise<void> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new TypeError(`chaosProxy: a proxy update must be an object (got ${describe(body)})`);
  }
  const current = proxy.toJSON();
  for (const [key, value] of Object.entries(body)) {
    if (key === 'enabled') {
      if (typeof value !== 'boolean') {
        throw new TypeError(`chaosProxy: "enabled" must be a boolean (got ${describe(value)})`);
      }
    } else if (key === 'name' || key === 'listen' || key === 'upstream') {
      if (value !== current[key]) {
        throw new TypeError(
          `chaosProxy: "${key}" cannot change (it is ${describe(current[key])}, got ${describe(value)})`,
        );
      }
    } else if (key !== 'toxics') {
      throw new TypeError(
        `chaosProxy: a proxy update has no field "${key}" (it takes enabled, name, listen, upstream, toxics)`,
      );
    }
  }
  const { enabled } = body as { enabled?: boolean };
  if (enabled === true) await proxy.enable();
  else if (enabled === false) await proxy.disable();
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, `the body must be JSON (got ${describe(text.slice(0, 100))})`);
  }
}
