import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server saw of one request. */
export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type Handler = (request: IncomingMessage, response: ServerResponse, seen: Seen) => void;

/**
 * A real node:http server on 127.0.0.1, port 0, for the client's tests: it records each
 * request (body read in full) and counts the connections it accepted and still has open.
 */
export class TestServer {
  readonly seen: Seen[] = [];
  /** Connections accepted since the start. */
  connectionsAccepted = 0;
  /** Requests whose connection closed before the response was finished. */
  abandoned = 0;
  readonly #server: Server;

  private constructor(
    handler: Handler,
    readonly url: string = '',
  ) {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const seen: Seen = {
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString(),
        };
        this.seen.push(seen);
        response.on('close', () => {
          if (response.writableFinished) return;
          this.abandoned++;
          this.#server.emit('abandoned');
        });
        handler(request, response, seen);
        this.#server.emit('seen', seen);
      });
    });
    this.#server.on('connection', () => this.connectionsAccepted++);
  }

  static async start(handler: Handler): Promise<TestServer> {
    const server = new TestServer(handler);
    server.#server.listen(0, '127.0.0.1');
    await once(server.#server, 'listening');
    const { port } = server.#server.address() as AddressInfo;
    Object.assign(server, { url: `http://127.0.0.1:${port}` });
    return server;
  }

  /** Connections open now. */
  openConnections(): Promise<number> {
    return new Promise((resolve, reject) =>
      this.#server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );
  }

  /** Resolves once the server has seen `count` requests in all. */
  async requestsReach(count: number): Promise<void> {
    while (this.seen.length < count) await once(this.#server, 'seen');
  }

  /** Resolves once `abandoned` reaches `count`. */
  async abandonedReach(count: number): Promise<void> {
    while (this.abandoned < count) await once(this.#server, 'abandoned');
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

/** Answers `status` with a small body whose length is known. */
export function answer(status: number, headers: Record<string, string> = {}): Handler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'text/plain', ...headers });
    response.end(`status ${status}`);
  };
}

/** Never answers. */
export const stall: Handler = () => {};

/** A port on loopback with nothing listening: connecting to it is refused. */
export async function closedPort(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return `http://127.0.0.1:${port}`;
}
