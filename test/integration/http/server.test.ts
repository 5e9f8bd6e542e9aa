import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  currentRequest,
  type RequestContext,
  type ServerPolicyOptions,
} from '../../../src/adapters/http/index.js';
import {
  bulkhead,
  type GracefulShutdown,
  gracefulShutdown,
  healthRegistry,
  pipeline,
  rateLimiter,
  timeout,
} from '../../../src/index.js';
import { VirtualClock } from '../../../src/testing/index.js';
import {
  adapters,
  call,
  eventually,
  gate,
  type Running,
  splitRequest,
  type TestHandler,
} from './harness.js';

describe.each(adapters)('server policy through $name', (adapter) => {
  const running: Running[] = [];
  const shutdowns: GracefulShutdown[] = [];

  afterEach(async () => {
    for (const server of running.splice(0)) await server.close();
    for (const shutdown of shutdowns.splice(0)) shutdown.dispose();
  });

  async function start(options: ServerPolicyOptions, handler: TestHandler = () => 'ok') {
    const server = await adapter.start(options, handler);
    running.push(server);
    return server;
  }

  it('answers 429 with Retry-After and the RateLimit fields at the limit, and carries them on admitted responses', async () => {
    const clock = new VirtualClock(0);
    const limiter = rateLimiter({ name: 'api', limit: 2, intervalMs: 60_000, clock });
    const { port } = await start({ rateLimiter: limiter });

    const first = await call(port, '/a');
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe('"api";q=2;w=60');
    expect(first.headers.ratelimit).toBe('"api";r=1;t=30');
    const second = await call(port, '/a');
    expect(second.status).toBe(200);
    expect(second.headers.ratelimit).toBe('"api";r=0;t=60');

    const refused = await call(port, '/a');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.headers['ratelimit-policy']).toBe('"api";q=2;w=60');
    expect(refused.headers.ratelimit).toBe('"api";r=0;t=60');

    await clock.advance(30_000);
    expect((await call(port, '/a')).status).toBe(200);
  });

  it('answers 503 with Retry-After while the shedder is full, and frees the slot when the response closes', async () => {
    const shedder = bulkhead({ limit: 1 });
    const entered = gate();
    const held = gate();
    const { port } = await start({ shedder, retryAfterMs: 2500 }, async (_context, path) => {
      if (path === '/hold') {
        entered.open();
        await held.promise;
      }
      return 'done';
    });
    const holding = call(port, '/hold');
    await entered.promise;

    const refused = await call(port, '/other');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('3');

    held.open();
    expect(await holding).toMatchObject({ status: 200, body: 'done' });
    await eventually(() => shedder.running === 0, 'the slot to be released');
    expect((await call(port, '/other')).status).toBe(200);
  });

  it('answers 504 when the deadline passes while the request is queued', async () => {
    const clock = new VirtualClock(0);
    const shedder = bulkhead({ limit: 1, queue: 1, clock });
    const entered = gate();
    const held = gate();
    const { port } = await start(
      { shedder: pipeline(timeout(Number.POSITIVE_INFINITY, { clock }), shedder), clock },
      async (_context, path) => {
        if (path === '/hold') {
          entered.open();
          await held.promise;
        }
        return 'done';
      },
    );
    const holding = call(port, '/hold');
    await entered.promise;
    const queued = call(port, '/queued', { headers: { 'x-request-timeout-ms': '100' } });
    await eventually(() => shedder.queued === 1, 'the request to queue');
    await clock.advance(100);
    expect((await queued).status).toBe(504);
    expect(shedder.queued).toBe(0);
    held.open();
    await holding;
  });

  it('answers 504 at once for a spent budget, without running the handler', async () => {
    let ran = 0;
    const { port } = await start({ minBudgetMs: 50 }, () => {
      ran++;
      return 'ran';
    });
    for (const budget of ['0', '-20', '49.5']) {
      const reply = await call(port, '/', { headers: { 'x-request-timeout-ms': budget } });
      expect(reply.status, `budget ${budget}`).toBe(504);
    }
    expect(ran).toBe(0);
    expect((await call(port, '/', { headers: { 'x-request-timeout-ms': '50' } })).status).toBe(200);
    // A header that is no number is ignored: no deadline at all.
    expect((await call(port, '/', { headers: { 'x-request-timeout-ms': 'soon' } })).status).toBe(
      200,
    );
    expect(ran).toBe(2);
  });

  it("aborts the handler's signal when the client disconnects, and releases its slot", async () => {
    const shedder = bulkhead({ limit: 1 });
    const entered = gate();
    let reason: unknown;
    const aborted = gate();
    const { port } = await start({ shedder }, async (context) => {
      context.signal.addEventListener('abort', () => {
        reason = context.signal.reason;
        aborted.open();
      });
      entered.open();
      await aborted.promise;
      return 'too late';
    });
    const client = request({ host: '127.0.0.1', port, path: '/slow', agent: false });
    client.on('error', () => {});
    client.end();
    await entered.promise;
    client.destroy();
    await aborted.promise;
    expect((reason as Error).name).toBe('AbortError');
    await eventually(() => shedder.running === 0, 'the slot to be released');
  });

  it('takes a queued request out of the queue when its client disconnects', async () => {
    const shedder = bulkhead({ limit: 1, queue: 1 });
    const entered = gate();
    const held = gate();
    let handled = 0;
    const { port } = await start({ shedder }, async (_context, path) => {
      handled++;
      if (path === '/hold') {
        entered.open();
        await held.promise;
      }
      return 'done';
    });
    const holding = call(port, '/hold');
    await entered.promise;
    const client = request({ host: '127.0.0.1', port, path: '/queued', agent: false });
    client.on('error', () => {});
    client.end();
    await eventually(() => shedder.queued === 1, 'the request to queue');
    client.destroy();
    await eventually(() => shedder.queued === 0, 'the queue to empty');
    held.open();
    await holding;
    expect(handled).toBe(1);
  });

  it('serves health reports that reflect a failing critical check, ahead of every limit', async () => {
    const health = healthRegistry();
    health.register('database', () => false);
    health.register('event-loop', () => true, { kinds: ['liveness'] });
    const { port } = await start({
      health,
      rateLimiter: rateLimiter({ limit: 0 }),
      shedder: bulkhead({ limit: 1 }),
    });

    const ready = await call(port, '/readyz');
    expect(ready.status).toBe(503);
    // fastify adds '; charset=utf-8' to a string body's type.
    expect(ready.headers['content-type']).toMatch(/^application\/health\+json/);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'fail',
      checks: { database: [{ status: 'fail' }] },
    });
    const live = await call(port, '/livez');
    expect(live.status).toBe(200);
    expect(JSON.parse(live.body).status).toBe('pass');
    const full = await call(port, '/health?verbose=1');
    expect(full.status).toBe(503);
    expect(Object.keys(JSON.parse(full.body).checks).sort()).toEqual(['database', 'event-loop']);
    // Everything else is under the limits (this limiter refuses every request).
    expect((await call(port, '/readyz/more')).status).toBe(429);
  });

  it('refuses new requests with 503 and Connection: close during shutdown, and lets in-flight ones finish', async () => {
    const shutdown = gracefulShutdown({ signals: [], exit: false });
    shutdowns.push(shutdown);
    const entered = gate();
    const held = gate();
    const server = await start({ shutdown }, async (_context, path) => {
      if (path === '/hold') {
        entered.open();
        await held.promise;
      }
      return 'done';
    });
    if (!adapter.registersWithShutdown) shutdown.server(server.server);
    // express registers the server it sees on its first request.
    expect((await call(server.port, '/warm-up')).status).toBe(200);

    const holding = call(server.port, '/hold');
    await entered.promise;
    const late = await splitRequest(server.port, '/late');
    const stopped = shutdown.begin('test');

    const refused = await late.finish();
    expect(refused.status).toBe(503);
    expect(refused.head).toContain('connection: close');
    expect(refused.head).toContain('retry-after: 1');

    held.open();
    const finished = await holding;
    expect(finished).toMatchObject({ status: 200, body: 'done' });
    expect(finished.headers.connection).toBe('close');
    expect(await stopped).toBe(0);
  });

  it('gives the handler the deadline and priority the request carries', async () => {
    const clock = new VirtualClock(5000);
    const seen: RequestContext[] = [];
    const record = (context: RequestContext) => {
      seen.push(context);
      return 'ok';
    };
    const { port } = await start({ clock }, record);
    await call(port, '/', {
      headers: { 'x-request-timeout-ms': '250', 'x-request-priority': 'sheddable' },
    });
    await call(port, '/', { headers: { 'x-request-priority': 'urgent' } });
    expect(seen.map(({ deadline, priority }) => ({ deadline, priority }))).toEqual([
      { deadline: 5250, priority: 'sheddable' },
      { deadline: Number.POSITIVE_INFINITY, priority: 'critical' },
    ]);

    const custom = await start(
      { clock, deadlineHeader: 'X-Budget-Ms', priorityOf: () => 'sheddable-plus' },
      record,
    );
    await call(custom.port, '/', {
      headers: { 'x-budget-ms': '40', 'x-request-priority': 'sheddable' },
    });
    expect(seen[2]).toMatchObject({ deadline: 5040, priority: 'sheddable-plus' });
  });

  it('with propagate, the request is the current one in the handler’s async continuation', async () => {
    const clock = new VirtualClock(0);
    const handler: TestHandler = async (context) => {
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.resolve();
      const current = currentRequest();
      return current === undefined ? 'none' : String(current === context && current.deadline);
    };
    const on = await start({ propagate: true, clock }, handler);
    const post = {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-timeout-ms': '300' },
      body: '{"a":1}',
    };
    expect((await call(on.port, '/', post)).body).toBe('300');
    const off = await start({ clock }, handler);
    expect((await call(off.port, '/', post)).body).toBe('none');
  });
});
