import { once } from 'node:events';
import { Agent, createServer, request, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, connect as http2Connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { gracefulShutdown } from '../../src/index.js';

interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  readonly body: string;
}

function get(port: number, path: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode!, connection: res.headers.connection, body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('graceful shutdown of real servers in this process', () => {
  it('HTTP/1 keep-alive: idle connections are closed, the busy one is answered with Connection: close', async () => {
    const held: ServerResponse[] = [];
    const server = createServer((req, res) => {
      if (req.url === '/hold') held.push(res);
      else res.end('quick');
    });
    const shutdown = gracefulShutdown({ signals: [], exit: false });
    shutdown.server(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    // Two agents, two connections: one left idle after a quick answer, one busy.
    const agent = new Agent({ keepAlive: true });
    const busyAgent = new Agent({ keepAlive: true });
    try {
      const idle = await get(port, '/quick', agent);
      expect(idle.connection).toBe('keep-alive');
      const idleSocket = Object.values(agent.freeSockets).flat()[0]!;
      const idleClosed = once(idleSocket, 'close');
      const holding = get(port, '/hold', busyAgent);
      while (held.length === 0) await once(server, 'request');
      expect(shutdown.requests).toBe(1);

      shutdown.begin('test');
      await idleClosed;
      expect(shutdown.state).toBe('draining');
      held[0]!.end('held');
      expect(await holding).toEqual({ status: 200, connection: 'close', body: 'held' });
      expect(await shutdown.done).toBe(0);
      expect(shutdown.requests).toBe(0);
      expect(server.listening).toBe(false);
    } finally {
      agent.destroy();
      busyAgent.destroy();
      server.closeAllConnections();
    }
  });

  it('HTTP/2: an open stream finishes after the GOAWAY, then the session ends', async () => {
    const server = createHttp2Server();
    const streams: import('node:http2').ServerHttp2Stream[] = [];
    server.on('stream', (stream) => streams.push(stream));
    const shutdown = gracefulShutdown({ signals: [], exit: false });
    shutdown.server(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = http2Connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const req = client.request({ ':path': '/hold' });
      req.setEncoding('utf8');
      let body = '';
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      while (streams.length === 0) await once(server, 'stream');
      const goaway = once(client, 'goaway');
      shutdown.begin('test');
      await goaway;
      streams[0]!.respond({ ':status': 200 });
      streams[0]!.end('held');
      await once(req, 'end');
      expect(body).toBe('held');
      expect(await shutdown.done).toBe(0);
    } finally {
      client.destroy();
    }
  });
});
