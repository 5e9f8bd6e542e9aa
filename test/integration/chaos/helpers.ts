import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer, request } from 'node:http';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ChaosProxy } from '../../../src/chaos/index.js';

/** Everything a test opened, closed after it whatever happened. */
export class Cleanup {
  private readonly steps: (() => unknown)[] = [];

  add(step: () => unknown): void {
    this.steps.push(step);
  }

  proxy(proxy: ChaosProxy): ChaosProxy {
    this.add(() => proxy.close());
    return proxy;
  }

  socket(socket: Socket): Socket {
    this.add(() => socket.destroy());
    return socket;
  }

  async run(): Promise<void> {
    const steps = this.steps.splice(0).reverse();
    for (const step of steps) await step();
  }
}

export async function listen<S extends Server | HttpServer>(
  server: S,
  cleanup: Cleanup,
): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.add(async () => {
    const closed = once(server, 'close');
    server.close();
    if ('closeAllConnections' in server) server.closeAllConnections();
    await closed;
  });
  return (server.address() as AddressInfo).port;
}

/**
 * An HTTP service: GET /bytes/<n> answers n bytes (a repeating pattern, with a content-length),
 * anything else answers 'ok'. It closes a connection after its response when the client asks
 * (`get` does, unless told to keep the connection alive).
 */
export async function startHttpService(cleanup: Cleanup): Promise<string> {
  const server = createHttpServer((req, res) => {
    const match = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    const body = match === null ? Buffer.from('ok') : pattern(Number(match[1]));
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  const port = await listen(server, cleanup);
  return `127.0.0.1:${port}`;
}

export function pattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = 97 + (i % 26);
  return bytes;
}

/** A TCP echo service: each connection gets its own bytes back. `onData` sees them first. */
export async function startEchoService(
  cleanup: Cleanup,
  onData: (chunk: Buffer) => void = () => {},
): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', onData);
    socket.pipe(socket);
  });
  cleanup.add(() => {
    for (const socket of sockets) socket.destroy();
  });
  const port = await listen(server, cleanup);
  return `127.0.0.1:${port}`;
}

export interface Fetched {
  readonly status: number;
  readonly body: Buffer;
  /** How many 'data' events the body arrived in. */
  readonly chunks: number;
  /** From sending the request to the end of the body (or the error). */
  readonly ms: number;
}

export class FetchError extends Error {
  constructor(
    readonly code: string | undefined,
    readonly received: number,
    readonly ms: number,
    cause: unknown,
  ) {
    super(`request failed with ${code} after ${received} body bytes`, { cause });
  }
}

/**
 * A GET through node:http on a fresh connection (no agent), which the server closes after its
 * answer unless `keepAlive`. `timeoutMs` is the client's own idle timeout: when it fires, the
 * request fails with code 'CLIENT_TIMEOUT'.
 */
export function get(
  proxy: ChaosProxy,
  path: string,
  { timeoutMs = 10_000, keepAlive = false } = {},
): Promise<Fetched> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let received = 0;
    const fail = (error: NodeJS.ErrnoException) =>
      reject(new FetchError(error.code, received, performance.now() - started, error));
    const req = request(
      {
        host: proxy.address.host,
        port: proxy.address.port,
        path,
        agent: false,
        headers: { connection: keepAlive ? 'keep-alive' : 'close' },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          parts.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(parts),
            chunks: parts.length,
            ms: performance.now() - started,
          }),
        );
      },
    );
    req.setTimeout(timeoutMs, () => {
      const error: NodeJS.ErrnoException = new Error('client timeout');
      error.code = 'CLIENT_TIMEOUT';
      req.destroy(error);
    });
    req.on('error', fail);
    req.end();
  });
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection<E = FetchError>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected a rejection');
}

/** A raw TCP client to the proxy, collecting what it receives. */
export async function dial(proxy: ChaosProxy, cleanup: Cleanup): Promise<Client> {
  const socket = cleanup.socket(connect(proxy.address.port, proxy.address.host));
  await once(socket, 'connect');
  return new Client(socket);
}

export class Client {
  readonly chunks: Buffer[] = [];
  ended = false;
  error: NodeJS.ErrnoException | undefined;
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    socket.on('end', () => {
      this.ended = true;
    });
    socket.on('error', (error) => {
      this.error = error;
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves once `bytes` bytes in all have arrived; rejects if the socket closes first. */
  receive(bytes: number): Promise<Buffer> {
    const { socket } = this;
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.received.length < bytes) return;
        stop();
        resolve(this.received);
      };
      const onClose = () => {
        stop();
        reject(new Error(`closed after ${this.received.length} of ${bytes} bytes`));
      };
      const stop = () => {
        socket.off('data', check);
        socket.off('close', onClose);
      };
      if (this.received.length >= bytes) resolve(this.received);
      else if (socket.destroyed) onClose();
      else {
        socket.on('data', check);
        socket.on('close', onClose);
      }
    });
  }
}

/**
 * Counts of the handles that could be left behind: servers, sockets and timers. A handle
 * closed just now is listed until the event loop's next turn, so this waits two turns first.
 */
export async function openHandles(): Promise<Record<string, number>> {
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  const counts: Record<string, number> = { TCPServerWrap: 0, TCPSocketWrap: 0, Timeout: 0 };
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind in counts) counts[kind]!++;
  }
  return counts;
}
