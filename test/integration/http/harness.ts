import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import {
  expressMiddleware,
  fastifyPlugin,
  nodeHttpHandler,
  type RequestContext,
  type ServerPolicyOptions,
} from '../../../src/adapters/http/index.js';

/** What every test server runs for an admitted request: it answers 200 with the returned body. */
export type TestHandler = (context: RequestContext, path: string) => string | Promise<string>;

export interface Running {
  readonly port: number;
  /** The node:http server underneath, for shutdown registration and counting. */
  readonly server: Server;
  close(): Promise<void>;
}

export interface Adapter {
  readonly name: 'node:http' | 'express' | 'fastify';
  /** Starts a server on 127.0.0.1, port 0, whose every route runs `handler` under `options`. */
  start(options: ServerPolicyOptions, handler: TestHandler): Promise<Running>;
  /** Whether the adapter registers its server with `options.shutdown` itself. */
  readonly registersWithShutdown: boolean;
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function closeNodeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export const adapters: readonly Adapter[] = [
  {
    name: 'node:http',
    registersWithShutdown: false,
    async start(options, handler) {
      const server = createServer(
        nodeHttpHandler(async (req, res, context) => {
          const body = await handler(context, req.url ?? '/');
          res.end(body);
        }, options),
      );
      const port = await listen(server);
      return { port, server, close: () => closeNodeServer(server) };
    },
  },
  {
    name: 'express',
    registersWithShutdown: true,
    async start(options, handler) {
      const app = express();
      app.use(expressMiddleware(options));
      app.use(async (req, res) => {
        res.send(await handler(res.locals.bulwark, req.url));
      });
      const server = createServer(app);
      const port = await listen(server);
      return { port, server, close: () => closeNodeServer(server) };
    },
  },
  {
    name: 'fastify',
    registersWithShutdown: true,
    async start(options, handler) {
      const app = Fastify();
      await app.register(fastifyPlugin(options));
      app.all('/*', async (request) => handler(request.bulwark, request.url));
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = (app.server.address() as AddressInfo).port;
      return {
        port,
        server: app.server,
        async close() {
          app.server.closeAllConnections();
          await app.close().catch(() => {});
        },
      };
    },
  },
];

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request on a fresh connection (no keep-alive agent to leave sockets behind). */
export function call(
  port: number,
  path: string,
  options: { headers?: Record<string, string>; method?: string; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A raw connection whose request is sent in two parts: the request line and first header now
 * (so the server counts the connection as busy, not idle), the end of the head later.
 */
export async function splitRequest(
  port: number,
  path: string,
): Promise<{
  socket: Socket;
  finish(): Promise<{ status: number; head: string }>;
}> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  const ended = once(socket, 'close');
  return {
    socket,
    async finish() {
      socket.write('\r\n');
      await ended;
      const head = text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase();
      return { status: Number(head.split(' ')[1]), head };
    },
  };
}

/** A promise you resolve from outside: holds a request in its handler until released. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Waits, one event-loop turn at a time, for a condition that a socket event will make true. */
export async function eventually(condition: () => boolean, what: string): Promise<void> {
  const giveUp = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > giveUp) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
