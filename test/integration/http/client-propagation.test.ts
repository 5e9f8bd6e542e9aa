import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { resilientFetch } from '../../../src/adapters/http/index.js';
import { requestScope } from '../../../src/adapters/http/request-scope.js';
import {
  backoff,
  circuitBreaker,
  type Priority,
  pipeline,
  retry,
  TimeoutError,
  timeout,
} from '../../../src/index.js';
import { VirtualClock } from '../../../src/testing/index.js';
import { answer, stall, TestServer } from './client-server.js';

let server: TestServer;

afterEach(async () => {
  await server?.close();
});

/** Runs `fn` as if handling a request a server adapter propagates. */
function inRequest<T>(
  fields: { deadline?: number; priority?: Priority; signal?: AbortSignal; clock: VirtualClock },
  fn: () => T,
): T {
  const store = {
    deadline: fields.deadline ?? Number.POSITIVE_INFINITY,
    priority: fields.priority ?? 'critical',
    signal: fields.signal ?? new AbortController().signal,
    clock: fields.clock,
  };
  return requestScope.run(store, fn);
}

describe('resilientFetch: deadline and priority propagation', () => {
  it('sends the remaining budget under a timeout policy, less the margin', async () => {
    server = await TestServer.start(answer(200));
    const clock = new VirtualClock();
    const client = resilientFetch({ policy: timeout(1_000, { clock }), clock });
    await client(`${server.url}/a`);
    expect(server.seen[0]!.headers['x-request-timeout-ms']).toBe('995');
  });

  it('sends no deadline header when the call has no deadline', async () => {
    server = await TestServer.start(answer(200));
    const client = resilientFetch({ policy: timeout(Number.POSITIVE_INFINITY) });
    await client(server.url);
    expect(server.seen[0]!.headers).not.toHaveProperty('x-request-timeout-ms');
  });

  it('inherits the deadline of the request being served, which shrinks as time passes', async () => {
    server = await TestServer.start(answer(200));
    // The server's clock and the client's stand on different scales: only the remainder counts.
    const serverClock = new VirtualClock(50_000);
    const clock = new VirtualClock(7);
    const client = resilientFetch({
      policy: timeout(10_000, { clock }),
      clock,
      deadlineMarginMs: 0,
    });
    await inRequest({ clock: serverClock, deadline: 50_800 }, async () => {
      await client(`${server.url}/1`);
      await serverClock.advance(300);
      await clock.advance(300);
      await client(`${server.url}/2`);
    });
    expect(server.seen.map((s) => s.headers['x-request-timeout-ms'])).toEqual(['800', '500']);
  });

  it('takes the nearer of an inherited deadline and a timeout policy', async () => {
    server = await TestServer.start(answer(200));
    const clock = new VirtualClock();
    const client = resilientFetch({ policy: timeout(200, { clock }), clock });
    await inRequest({ clock, deadline: 5_000 }, () => client(server.url));
    expect(server.seen[0]!.headers['x-request-timeout-ms']).toBe('195');
  });

  it('refuses a call whose inherited budget is spent before the policy sees it', async () => {
    server = await TestServer.start(answer(200));
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ consecutiveFailures: 1, clock });
    const inner = retry({ maxAttempts: 3, backoff: backoff.constant(0), clock });
    let calls = 0;
    inner.on('success', () => calls++);
    inner.on('giveUp', () => calls++);
    const client = resilientFetch({ policy: pipeline(breaker, inner), clock });
    // 5 ms left is the margin itself: nothing would be left for the server.
    const call = inRequest({ clock, deadline: 5 }, () => client(server.url));
    await expect(call).rejects.toBeInstanceOf(TimeoutError);
    const late = inRequest({ clock, deadline: -100 }, () => client(server.url));
    await expect(late).rejects.toBeInstanceOf(TimeoutError);
    expect(calls).toBe(0);
    expect(breaker.state).toBe('closed');
    // A request that would have been sent reaches the server: the count proves none was.
    await client(`${server.url}/after`);
    expect(server.seen.map((s) => s.path)).toEqual(['/after']);
  });

  it('fails an attempt with a TimeoutError, sending nothing, when a timeout leaves no budget', async () => {
    server = await TestServer.start(answer(200));
    const clock = new VirtualClock();
    const client = resilientFetch({ policy: timeout(5, { clock }), clock });
    await expect(client(server.url)).rejects.toBeInstanceOf(TimeoutError);
    const roomy = resilientFetch({ policy: timeout(6, { clock }), clock });
    await roomy(`${server.url}/after`);
    expect(server.seen.map((s) => [s.path, s.headers['x-request-timeout-ms']])).toEqual([
      ['/after', '1'],
    ]);
  });

  it('sends the priority unless it is the default, and inherits it', async () => {
    server = await TestServer.start(answer(200));
    const clock = new VirtualClock();
    const client = resilientFetch({ policy: timeout(1_000, { clock }), clock });
    await inRequest({ clock, priority: 'sheddable' }, () => client(`${server.url}/low`));
    await inRequest({ clock, priority: 'critical' }, () => client(`${server.url}/default`));
    await client(`${server.url}/outside`);
    expect(server.seen.map((s) => s.headers['x-request-priority'])).toEqual([
      'sheddable',
      undefined,
      undefined,
    ]);
  });

  it('keeps a header the caller set, uses custom names, and sends none for false', async () => {
    server = await TestServer.start(answer(200));
    const clock = new VirtualClock();
    const policy = timeout(1_000, { clock });
    const explicit = resilientFetch({ policy, clock });
    await inRequest({ clock, priority: 'sheddable-plus' }, () =>
      explicit(server.url, {
        headers: { 'X-Request-Timeout-Ms': '42', 'x-request-priority': 'critical-plus' },
      }),
    );
    const renamed = resilientFetch({
      policy,
      clock,
      deadlineHeader: 'X-Budget',
      priorityHeader: 'X-Prio',
    });
    await inRequest({ clock, priority: 'sheddable' }, () => renamed(server.url));
    const silent = resilientFetch({ policy, clock, deadlineHeader: false, priorityHeader: false });
    await inRequest({ clock, priority: 'sheddable' }, () => silent(server.url));

    const [first, second, third] = server.seen;
    expect(first!.headers['x-request-timeout-ms']).toBe('42');
    expect(first!.headers['x-request-priority']).toBe('critical-plus');
    expect(second!.headers['x-budget']).toBe('995');
    expect(second!.headers['x-prio']).toBe('sheddable');
    expect(third!.headers).not.toHaveProperty('x-request-timeout-ms');
    expect(third!.headers).not.toHaveProperty('x-request-priority');
  });

  it("is aborted by the served request's signal, and leaves no listener on it", async () => {
    server = await TestServer.start(stall);
    const clock = new VirtualClock();
    const client = resilientFetch({ policy: timeout(60_000, { clock }), clock });
    const served = new AbortController();
    const own = new AbortController();
    const call = inRequest({ clock, signal: served.signal }, () =>
      client(server.url, { signal: own.signal }),
    );
    await server.requestsReach(1);
    const reason = new Error('client went away');
    served.abort(reason);
    await expect(call).rejects.toBe(reason);
    await server.abandonedReach(1);
    expect(getEventListeners(own.signal, 'abort')).toHaveLength(0);
  });

  it('leaves no listener on either signal after a call that succeeds', async () => {
    server = await TestServer.start(answer(200));
    const clock = new VirtualClock();
    const client = resilientFetch({ policy: timeout(60_000, { clock }), clock });
    const served = new AbortController();
    const own = new AbortController();
    await inRequest({ clock, signal: served.signal }, () =>
      client(server.url, { signal: own.signal }),
    );
    expect(getEventListeners(served.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(own.signal, 'abort')).toHaveLength(0);
  });
});
