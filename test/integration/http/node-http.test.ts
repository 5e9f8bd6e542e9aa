import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { healthRoutes, nodeHttpHandler } from '../../../src/adapters/http/index.js';
import {
  bulkhead,
  fallback,
  healthRegistry,
  loadShedder,
  pipeline,
  retry,
} from '../../../src/index.js';
import { call } from './harness.js';

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(
  listener: (request: IncomingMessage, response: ServerResponse) => unknown,
  options?: { captureRejections?: boolean },
): Promise<number> {
  // node:http takes captureRejections only as the default of every new emitter.
  const previous = EventEmitter.captureRejections;
  EventEmitter.captureRejections = options?.captureRejections ?? previous;
  const server = createServer(listener as (req: IncomingMessage, res: ServerResponse) => void);
  EventEmitter.captureRejections = previous;
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Both kinds of shedder: a load shedder's free slot is taken without `execute`. */
const shedders = [
  { kind: 'bulkhead', make: () => bulkhead({ limit: 1 }) },
  { kind: 'loadShedder', make: () => loadShedder({ limit: 1 }) },
];

describe('nodeHttpHandler', () => {
  it.each(shedders)(
    'releases the slot of a handler that throws, and hands node the error (500 with captureRejections), $kind',
    async ({ make }) => {
      const shedder = make();
      const handler = nodeHttpHandler(
        (request, response) => {
          if (request.url === '/throw') throw new Error('boom');
          response.end('fine');
        },
        { shedder },
      );
      const port = await serve(handler, { captureRejections: true });
      expect((await call(port, '/throw')).status).toBe(500);
      expect(shedder.running).toBe(0);
      expect(await call(port, '/ok')).toMatchObject({ status: 200, body: 'fine' });
    },
  );

  it.each(shedders)(
    'rejects the promise it returns with the error of an async handler, after releasing its slot, $kind',
    async ({ make }) => {
      const shedder = make();
      const failure = new Error('async boom');
      const handler = nodeHttpHandler(
        async (request, response) => {
          await Promise.resolve();
          if (request.url === '/reject') throw failure;
          response.end('fine');
        },
        { shedder },
      );
      const caught: unknown[] = [];
      const port = await serve((request, response) =>
        handler(request, response).catch((error: unknown) => {
          caught.push(error);
          response.statusCode = 500;
          response.end();
        }),
      );
      expect((await call(port, '/reject')).status).toBe(500);
      expect(caught).toEqual([failure]);
      expect(shedder.running).toBe(0);
      expect((await call(port, '/ok')).status).toBe(200);
    },
  );

  it('makes the signal only when read, and leaves no listener once the response is done', async () => {
    const counts: number[] = [];
    let response: ServerResponse | undefined;
    const port = await serve(
      nodeHttpHandler((request, res, context) => {
        response = res;
        counts.push(res.listenerCount('close'));
        if (request.url === '/read') void context.signal;
        counts.push(res.listenerCount('close'));
        res.end('ok');
      }),
    );
    await call(port, '/ignore');
    expect(counts[1]).toBe(counts[0]);
    await call(port, '/read');
    expect(counts[3]).toBe(counts[2]! + 1);
    if (!response!.closed) await once(response!, 'close');
    expect(response!.listenerCount('close')).toBe(0);
  });

  it('runs the handler once when a retry in the shedder pipeline sees its failure', async () => {
    let calls = 0;
    const shedder = pipeline(retry({ maxAttempts: 3, backoff: () => 0 }), bulkhead({ limit: 1 }));
    const port = await serve(
      nodeHttpHandler(
        () => {
          calls++;
          throw new Error('boom');
        },
        { shedder },
      ),
      { captureRejections: true },
    );
    expect((await call(port, '/')).status).toBe(500);
    expect(calls).toBe(1);
  });

  it('answers 503 when the shedder answers without admitting (a fallback around it)', async () => {
    let calls = 0;
    const shedder = pipeline(fallback({ value: 'substitute' }), bulkhead({ limit: 1, queue: 0 }));
    const held: ServerResponse[] = [];
    const port = await serve(
      nodeHttpHandler(
        (_request, response) => {
          calls++;
          held.push(response);
        },
        { shedder },
      ),
    );
    const holding = call(port, '/hold');
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const refused = await call(port, '/refused');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    held[0]!.end('held');
    expect((await holding).body).toBe('held');
    expect(calls).toBe(1);
  });

  it('rejects a handler that is not a function', () => {
    expect(() => nodeHttpHandler('nope' as never)).toThrow(
      'nodeHttpHandler: the handler must be a function (got "nope")',
    );
  });
});

describe('healthRoutes', () => {
  const health = healthRegistry();
  health.register('database', () => ({ status: 'warn', output: 'slow' }));

  it('answers the health paths and 404 for anything else', async () => {
    const port = await serve(healthRoutes(health));
    const ready = await call(port, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.headers['content-type']).toBe('application/health+json');
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'warn',
      checks: { database: [{ output: 'slow' }] },
    });
    const head = await call(port, '/livez', { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, body: '' });
    expect((await call(port, '/elsewhere')).status).toBe(404);
    expect((await call(port, '/readyz', { method: 'POST' })).status).toBe(404);
  });

  it('passes other requests to next, on the paths it is given', async () => {
    const routes = healthRoutes(health, { readiness: '/ready', health: false });
    const port = await serve((request, response) =>
      routes(request, response, () => response.end('next')),
    );
    expect((await call(port, '/ready')).status).toBe(200);
    expect((await call(port, '/readyz')).body).toBe('next');
    expect((await call(port, '/health')).body).toBe('next');
  });

  it('refuses what is not a registry', () => {
    expect(() => healthRoutes({} as never)).toThrow(
      'healthRoutes: option "health" must be a HealthRegistry',
    );
  });
});
