/**
 * A tiny scriptable HTTP server for the examples: it listens on 127.0.0.1 on a free port and
 * lets `route` answer each request, told how many requests its path has had so far.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Answers one request; `n` is 1 for the first request to this path, 2 for the second, ... */
export type Route = (request: IncomingMessage, response: ServerResponse, n: number) => void;

export interface LocalServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** Requests received so far, all paths together. */
  readonly requests: number;
  /** Stops listening and drops every open connection, stalled ones included. */
  close(): Promise<void>;
}

const warmUpPath = '/__warm-up';

/** Starts a server on 127.0.0.1 on a free port; requests to it are not counted or routed. */
export async function startServer(route: Route): Promise<LocalServer> {
  const perPath = new Map<string, number>();
  let requests = 0;
  const server = createServer((request, response) => {
    if (request.url === warmUpPath) {
      response.writeHead(204).end();
      return;
    }
    requests++;
    const path = request.url ?? '/';
    const n = (perPath.get(path) ?? 0) + 1;
    perPath.set(path, n);
    route(request, response, n);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Node loads its fetch implementation on the first call, which can take 100 ms or more on a
  // busy machine: do that here, so it does not eat into the examples' short timeouts.
  await (await fetch(`${url}${warmUpPath}`)).text();
  return {
    url,
    get requests() {
      return requests;
    },
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Answers with a JSON body. */
export function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** Answers after `ms`, unless the client hangs up first (then no timer is left behind). */
export function sendLater(response: ServerResponse, ms: number, status: number, body: unknown) {
  const timer = setTimeout(() => send(response, status, body), ms);
  response.on('close', () => clearTimeout(timer));
}
