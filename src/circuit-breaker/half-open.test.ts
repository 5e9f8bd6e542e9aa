import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { BrokenCircuitError, BulkheadRejectedError } from '../core/index.js';
import { VirtualClock } from '../testing/index.js';
import { type CircuitBreakerOptions, circuitBreaker } from './index.js';

interface Deferred {
  promise: Promise<unknown>;
  resolve(value?: unknown): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: (value?: unknown) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Settles what is pending without moving the clock. */
const flush = (clock: VirtualClock) => clock.advance(0);

/** A breaker that is half-open at t = 1000, after one failure and a 1 s break. */
async function halfOpen(options: Omit<CircuitBreakerOptions, 'clock' | 'consecutiveFailures'>) {
  const clock = new VirtualClock();
  const breaker = circuitBreaker({
    consecutiveFailures: 1,
    breakDurationMs: 1_000,
    ...options,
    clock,
  });
  const changes: string[] = [];
  breaker.on('stateChange', ({ to, reason }) => changes.push(`${to}:${reason}`));
  await breaker
    .execute(() => {
      throw new Error('boom');
    })
    .catch(() => {});
  await clock.advance(1_000);
  expect(breaker.state).toBe('half-open');
  changes.length = 0;
  /** Starts a call whose task waits on a deferred; returns both, the call's rejection observed. */
  const start = (signal?: AbortSignal) => {
    const task = deferred();
    let ran = false;
    const call = breaker.execute(
      () => {
        ran = true;
        return task.promise;
      },
      { signal },
    );
    const settled = call.then(
      (value) => ({ ok: true, value }),
      (error: unknown) => ({ ok: false, error }),
    );
    return { task, settled, ran: () => ran };
  };
  return { clock, breaker, changes, start };
}

describe('circuitBreaker: half-open', () => {
  it('admits exactly `probes` at once, refuses the rest, closes after that many', async () => {
    const { clock, breaker, changes, start } = await halfOpen({ halfOpen: { probes: 3 } });
    const calls = [start(), start(), start(), start(), start()];
    await flush(clock);
    expect(calls.map((c) => c.ran())).toEqual([true, true, true, false, false]);
    expect(breaker.stats.activeProbes).toBe(3);
    for (const refused of calls.slice(3)) {
      const { error } = (await refused.settled) as { error: BrokenCircuitError };
      expect(error).toBeInstanceOf(BrokenCircuitError);
      expect(error.retryAfterMs).toBeUndefined();
      expect(error.message).toMatch(/half-open and its 3 probe slot\(s\) are taken/);
    }
    calls[0]!.task.resolve('a');
    calls[1]!.task.resolve('b');
    await flush(clock);
    expect(breaker.state).toBe('half-open');
    calls[2]!.task.resolve('c');
    expect(await calls[2]!.settled).toEqual({ ok: true, value: 'c' });
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['closed:probes-succeeded']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('refills a slot when a probe succeeds, until enough have succeeded', async () => {
    const { clock, breaker, start } = await halfOpen({ halfOpen: { probes: 2 } });
    const a = start();
    const b = start();
    a.task.resolve(1);
    await a.settled;
    expect(breaker.stats.activeProbes).toBe(1);
    const c = start();
    await flush(clock);
    expect(c.ran()).toBe(true);
    c.task.resolve(3);
    await c.settled;
    expect(breaker.state).toBe('closed');
    b.task.resolve(2); // its half-open period is over: it does not count
    expect(await b.settled).toEqual({ ok: true, value: 2 });
    expect(breaker.state).toBe('closed');
  });

  it('reopens on any probe failure; other probes then do not count or keep a timer', async () => {
    const { clock, breaker, changes, start } = await halfOpen({ halfOpen: { probes: 2 } });
    const a = start();
    const b = start();
    await flush(clock);
    expect(clock.pendingTimers).toBe(2); // one maxMs timer per running probe
    a.task.reject(new Error('still down'));
    await a.settled;
    expect(breaker.state).toBe('open');
    expect(clock.pendingTimers).toBe(0);
    b.task.resolve('late');
    expect(await b.settled).toEqual({ ok: true, value: 'late' });
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open:probe-failed']);
  });

  it('a probe that runs past maxMs reopens the breaker; the call itself goes on', async () => {
    const { clock, breaker, changes, start } = await halfOpen({
      breakDurationMs: (opens) => (opens === 1 ? 1_000 : 5_000),
      halfOpen: { maxMs: 2_000 },
    });
    const hung = start();
    await clock.advance(1_999);
    expect(breaker.state).toBe('half-open');
    await clock.advance(1);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open:probe-hung']);
    expect(clock.pendingTimers).toBe(0);
    await expect(breaker.execute(() => 'x')).rejects.toMatchObject({ retryAfterMs: 5_000 });
    hung.task.resolve('finally');
    expect(await hung.settled).toEqual({ ok: true, value: 'finally' });
    expect(breaker.state).toBe('open');
  });

  it('clears the maxMs timer as soon as the probe settles', async () => {
    const { clock, breaker, start } = await halfOpen({ halfOpen: { probes: 2 } });
    const a = start();
    const b = start();
    await flush(clock);
    a.task.resolve();
    await a.settled;
    expect(clock.pendingTimers).toBe(1);
    b.task.resolve();
    await b.settled;
    expect(clock.pendingTimers).toBe(0);
    expect(breaker.state).toBe('closed');
  });

  it("the caller's abort frees the probe slot at once, leaving no listener or timer", async () => {
    const { clock, breaker, changes, start } = await halfOpen({});
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const probe = start(controller.signal); // the task ignores its signal
    await flush(clock);
    expect(breaker.stats.activeProbes).toBe(1);
    controller.abort(reason);
    expect(await probe.settled).toEqual({ ok: false, error: reason });
    expect(breaker.stats.activeProbes).toBe(0);
    expect(breaker.state).toBe('half-open');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
    const next = start();
    await flush(clock);
    expect(next.ran()).toBe(true);
    next.task.resolve('up');
    await next.settled;
    expect(breaker.state).toBe('closed');
    probe.task.resolve('ignored'); // the abandoned task finishing later changes nothing
    await flush(clock);
    expect(changes).toEqual(['closed:probes-succeeded']);
  });

  it('a probe that settles leaves no listener on the caller signal', async () => {
    const { breaker, start } = await halfOpen({});
    const controller = new AbortController();
    const probe = start(controller.signal);
    probe.task.resolve('ok');
    await probe.settled;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(breaker.state).toBe('closed');
  });

  it('a slow probe counts as failed when slowCall is set', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      window: { type: 'count', size: 1 },
      slowCall: { ms: 100, rate: 1 },
      breakDurationMs: 1_000,
      clock,
    });
    const changes: string[] = [];
    breaker.on('stateChange', ({ to, reason }) => changes.push(`${to}:${reason}`));
    const slowly = () => new Promise((resolve) => clock.setTimeout(() => resolve('slow'), 100));
    const first = breaker.execute(slowly);
    await clock.advance(100);
    await first;
    await clock.advance(1_000);
    const probe = breaker.execute(slowly);
    await clock.advance(100);
    await expect(probe).resolves.toBe('slow');
    expect(changes).toEqual(['open:slow-calls', 'half-open:break-ended', 'open:probe-failed']);
  });

  it('an inner refusal during a probe frees the slot and counts neither way', async () => {
    const { breaker, start } = await halfOpen({});
    const probe = start();
    const refusal = new BulkheadRejectedError('full', 1, 0);
    probe.task.reject(refusal);
    expect(await probe.settled).toEqual({ ok: false, error: refusal });
    expect(breaker.state).toBe('half-open');
    expect(breaker.stats.activeProbes).toBe(0);
  });

  it('failureOn judges probes too: a 503 reopens', async () => {
    const { breaker, changes, start } = await halfOpen({
      failureOn: (outcome) => !outcome.ok || (outcome.value as { status: number }).status >= 500,
    });
    const probe = start();
    probe.task.resolve({ status: 503 });
    expect(await probe.settled).toEqual({ ok: true, value: { status: 503 } });
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open:probe-failed']);
  });

  it('isolate and reset end the half-open period and its timers', async () => {
    const { clock, breaker, changes, start } = await halfOpen({});
    const probe = start();
    await flush(clock);
    const dispose = breaker.isolate();
    expect(clock.pendingTimers).toBe(0);
    probe.task.resolve('late');
    await probe.settled;
    expect(breaker.state).toBe('isolated');
    dispose();
    expect(changes).toEqual(['isolated:isolated', 'closed:isolation-ended']);
  });
});
