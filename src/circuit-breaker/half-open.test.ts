import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { BrokenCircuitError, BulkheadRejectedError, TimeoutError } from '../core/index.js';
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

/**
 * A breaker whose 1 s break ends at t = 1000, after one failure: the first call it gets turns
 * it half-open. `changes` lists the state changes after that one.
 */
async function halfOpen(options: Omit<CircuitBreakerOptions, 'clock' | 'consecutiveFailures'>) {
  const clock = new VirtualClock();
  const breaker = circuitBreaker({
    consecutiveFailures: 1,
    breakDurationMs: 1_000,
    ...options,
    clock,
  });
  const changes: string[] = [];
  breaker.on('stateChange', ({ to, reason }) => {
    if (reason !== 'break-ended') changes.push(`${to}:${reason}`);
  });
  await breaker
    .execute(() => {
      throw new Error('boom');
    })
    .catch(() => {});
  changes.length = 0;
  await clock.advance(1_000);
  expect([breaker.state, breaker.retryAfterMs]).toEqual(['open', 0]);
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
    expect(clock.armedTimers).toBe(2); // one maxMs timer per running probe
    a.task.reject(new Error('still down'));
    await a.settled;
    expect(breaker.state).toBe('open');
    expect(clock.armedTimers).toBe(0);
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
    expect(clock.armedTimers).toBe(0);
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
    expect(clock.armedTimers).toBe(1);
    b.task.resolve();
    await b.settled;
    expect(clock.armedTimers).toBe(0);
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
    expect(clock.armedTimers).toBe(0);
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
    expect(clock.armedTimers).toBe(0);
    probe.task.resolve('late');
    await probe.settled;
    expect(breaker.state).toBe('isolated');
    dispose();
    expect(changes).toEqual(['isolated:isolated', 'closed:isolation-ended']);
  });
});

describe('circuitBreaker: the probe watchdog', () => {
  it("does not keep the process alive: the timer is unref'd", async () => {
    const { clock, breaker, start } = await halfOpen({});
    const probe = start();
    await flush(clock);
    expect(breaker.stats.activeProbes).toBe(1);
    expect(clock.armedTimers).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    probe.task.resolve('up');
    await probe.settled;
    expect(clock.armedTimers).toBe(0);
  });

  it('honours a maxMs beyond 2^31 - 1 ms: no hang is declared before it', async () => {
    const maxMs = 2 ** 31;
    const { clock, breaker, changes, start } = await halfOpen({ halfOpen: { maxMs } });
    const hung = start();
    await clock.advance(maxMs - 1);
    expect([breaker.state, breaker.stats.activeProbes]).toEqual(['half-open', 1]);
    await clock.advance(1);
    expect(changes).toEqual(['open:probe-hung']);
    hung.task.resolve();
  });

  it('a hung probe is a failure event whose outcome is a TimeoutError, and the cause of refusals', async () => {
    const { clock, breaker } = await halfOpen({ halfOpen: { maxMs: 500 } });
    const failures: unknown[] = [];
    const hangs: unknown[] = [];
    breaker.on('failure', (e) => failures.push(e));
    breaker.on('stateChange', ({ reason, key }) => hangs.push(`${reason} key=${key}`));
    void breaker.execute(() => new Promise(() => {}), { key: 'slow-host' });
    await clock.advance(500);
    expect(failures).toEqual([
      {
        state: 'half-open',
        outcome: { ok: false, error: expect.any(TimeoutError) },
        slow: false,
        key: 'slow-host',
      },
    ]);
    expect(hangs).toEqual(['break-ended key=slow-host', 'probe-hung key=slow-host']);
    const refusal = (await breaker.execute(() => 'x').catch((e: unknown) => e)) as Error;
    expect(refusal.cause).toBeInstanceOf(TimeoutError);
    expect((refusal.cause as TimeoutError).timeoutMs).toBe(500);
  });
});

describe('circuitBreaker: half-open judged by a failure rate', () => {
  const rated = (probes: number, failureRate: number) =>
    halfOpen({ halfOpen: { probes, failureRate, maxMs: 10_000 } });

  it('admits `probes` probes in all, not at a time', async () => {
    const { clock, start } = await rated(3, 0.5);
    const calls = [start(), start(), start()];
    calls[0]!.task.resolve('a');
    await calls[0]!.settled;
    const fourth = start();
    await flush(clock);
    expect(fourth.ran()).toBe(false);
    const { error } = (await fourth.settled) as { error: BrokenCircuitError };
    expect(error).toBeInstanceOf(BrokenCircuitError);
  });

  it('closes when failures / probes stay under the rate, as soon as that is certain', async () => {
    const { breaker, changes, start } = await rated(4, 0.5);
    const calls = [start(), start(), start(), start()];
    calls[0]!.task.reject(new Error('one down'));
    calls[1]!.task.resolve(1);
    calls[2]!.task.resolve(2);
    await Promise.all(calls.slice(0, 3).map((c) => c.settled));
    expect(breaker.state).toBe('half-open'); // 1 failure, 1 to go: 2 of 4 would reach 0.5
    calls[3]!.task.resolve(3);
    await calls[3]!.settled;
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['closed:probes-succeeded']);
  });

  it('closes early: 3 successes of 4 leave at most 1 failure, under 0.5', async () => {
    const { breaker, start } = await rated(4, 0.5);
    const calls = [start(), start(), start(), start()];
    for (const call of calls.slice(0, 3)) call.task.resolve('up');
    await Promise.all(calls.slice(0, 3).map((c) => c.settled));
    expect(breaker.state).toBe('closed');
    calls[3]!.task.reject(new Error('late')); // its period is over: it does not count
    await calls[3]!.settled;
    expect(breaker.state).toBe('closed');
  });

  it('reopens as soon as failures / probes reach the rate, with the last failure as cause', async () => {
    const { breaker, changes, start } = await rated(4, 0.5);
    const calls = [start(), start(), start(), start()];
    const second = new Error('two down');
    calls[0]!.task.reject(new Error('one down'));
    await calls[0]!.settled;
    expect(breaker.state).toBe('half-open');
    calls[1]!.task.reject(second);
    await calls[1]!.settled;
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open:probe-failed']);
    const refusal = (await breaker.execute(() => 'x').catch((e: unknown) => e)) as Error;
    expect(refusal.cause).toBe(second);
  });

  it('a rate of 1 reopens only when every probe fails', async () => {
    const { breaker, start } = await rated(2, 1);
    const [a, b] = [start(), start()];
    a.task.reject(new Error('down'));
    await a.settled;
    expect(breaker.state).toBe('half-open');
    b.task.reject(new Error('down'));
    await b.settled;
    expect(breaker.state).toBe('open');
  });

  it('counts a hung probe as a failure and goes on waiting for the others', async () => {
    const { clock, breaker, changes, start } = await rated(3, 0.5);
    const calls = [start(), start()];
    calls[0]!.task.resolve('up');
    await calls[0]!.settled;
    const late = start(); // admitted at t = 1000 + 5000: hangs past its own maxMs later
    await clock.advance(5_000);
    calls[1]!.task.resolve('up');
    await calls[1]!.settled;
    expect(breaker.state).toBe('closed'); // 2 of 3 succeeded: at most 1 failure, under 0.5
    late.task.resolve();
    expect(changes).toEqual(['closed:probes-succeeded']);
  });

  it('a hung probe decides when it makes the rate certain', async () => {
    const { clock, breaker, changes, start } = await rated(2, 0.5);
    start();
    start();
    await clock.advance(10_000);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open:probe-hung']);
  });

  it("frees an aborted probe's place for another call", async () => {
    const { clock, breaker, start } = await rated(2, 0.5);
    const controller = new AbortController();
    const aborted = start(controller.signal);
    const kept = start();
    controller.abort(new Error('gave up'));
    await aborted.settled;
    const replacement = start();
    await flush(clock);
    expect(replacement.ran()).toBe(true);
    kept.task.resolve();
    replacement.task.resolve();
    await Promise.all([kept.settled, replacement.settled]);
    expect(breaker.state).toBe('closed');
  });
});
