import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sleep } from '../core/clock.js';
import type { ExecutionContext } from '../core/context.js';
import { TimeoutError } from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { backoff } from './backoff.js';
import { type RetryEvents, retry } from './retry.js';
import { drain } from './test-helpers.js';

/** Records each attempt's start, takes `ms` on the clock, then fails. */
function slowFailure(clock: VirtualClock, ms: number) {
  const starts: number[] = [];
  const error = new Error('failed');
  const task = async (ctx: ExecutionContext): Promise<never> => {
    starts.push(clock.now());
    if (ms > 0) await sleep(clock, ms);
    throw Object.assign(new Error(`attempt ${ctx.attempt} failed`), { cause: error });
  };
  return { starts, task };
}

describe('retry: time limits', () => {
  it('gives up at once when the next delay would reach maxElapsedMs', async () => {
    const clock = new VirtualClock(10_000);
    const { starts, task } = slowFailure(clock, 100);
    const policy = retry({
      clock,
      maxAttempts: 10,
      maxElapsedMs: 1_000,
      backoff: backoff.constant(400),
    });
    const giveUps: RetryEvents['giveUp'][] = [];
    policy.on('giveUp', (e) => giveUps.push(e));
    let settledAt = -1;
    const p = policy.execute(task).finally(() => {
      settledAt = clock.now();
    });
    const check = expect(p).rejects.toThrow('attempt 2 failed');
    await drain(clock);
    await check;
    // Attempt 2 fails at 10_600; 10_600 + 400 reaches 11_000 exactly, so no third attempt.
    expect(starts).toEqual([10_000, 10_500]);
    expect(settledAt).toBe(10_600);
    expect(giveUps.map((e) => [e.attempts, e.reason])).toEqual([[2, 'maxElapsed']]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("gives up at once when the next delay would reach the caller's deadline", async () => {
    const clock = new VirtualClock(10_000);
    const { starts, task } = slowFailure(clock, 0);
    const policy = retry({ clock, maxAttempts: 10, backoff: backoff.constant(300) });
    const reasons: string[] = [];
    policy.on('giveUp', (e) => reasons.push(e.reason));
    let settledAt = -1;
    const p = policy.execute(task, { deadline: 10_700 }).finally(() => {
      settledAt = clock.now();
    });
    const check = expect(p).rejects.toThrow('attempt 3 failed');
    await drain(clock);
    await check;
    expect(starts).toEqual([10_000, 10_300, 10_600]);
    expect(settledAt).toBe(10_600);
    expect(reasons).toEqual(['deadline']);
  });

  it('names whichever limit is nearer', async () => {
    const clock = new VirtualClock();
    const reasons: string[] = [];
    const policy = retry({ clock, maxElapsedMs: 500, backoff: backoff.constant(600) });
    policy.on('giveUp', (e) => reasons.push(e.reason));
    const fail = () => Promise.reject(new Error('x'));
    await expect(policy.execute(fail, { deadline: 400 })).rejects.toThrow('x');
    await expect(policy.execute(fail, { deadline: 550 })).rejects.toThrow('x');
    expect(reasons).toEqual(['deadline', 'maxElapsed']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops retrying when an enclosing timeout leaves no room for the next attempt', async () => {
    const clock = new VirtualClock();
    const { starts, task } = slowFailure(clock, 100);
    const policy = pipeline(
      timeout(1_000, { clock }),
      retry({ clock, maxAttempts: 10, backoff: backoff.constant(250) }),
    );
    const check = expect(policy.execute(task)).rejects.toThrow('attempt 3 failed');
    await drain(clock);
    await check;
    // Attempt 3 fails at 800; 800 + 250 would pass the deadline at 1_000.
    expect(starts).toEqual([0, 350, 700]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('retry: cancellation', () => {
  it("ends a sleep promptly on the caller's abort, leaving no timer or listener", async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const { starts, task } = slowFailure(clock, 0);
    const policy = retry({ clock, backoff: backoff.constant(1_000) });
    const giveUps: RetryEvents['giveUp'][] = [];
    policy.on('giveUp', (e) => giveUps.push(e));
    const p = policy.execute(task, { signal: controller.signal });
    const check = expect(p).rejects.toBe('caller left');
    await clock.advance(500);
    expect(clock.pendingTimers).toBe(1);
    controller.abort('caller left');
    await check;
    expect(clock.now()).toBe(500);
    expect(starts).toEqual([0]);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(giveUps).toHaveLength(1);
    expect(giveUps[0]).toMatchObject({ attempts: 1, reason: 'aborted', outcome: { ok: false } });
  });

  it('does not retry an attempt failing after the abort, whatever retryOn says', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const own = new Error('request cancelled');
    let calls = 0;
    const policy = retry({ clock, maxAttempts: 5, retryOn: () => true });
    const events: string[] = [];
    policy.on('retry', () => events.push('retry'));
    policy.on('giveUp', (e) => events.push(e.reason));
    const p = policy.execute(
      (ctx) =>
        new Promise((_resolve, reject) => {
          calls++;
          ctx.signal.addEventListener('abort', () => reject(own), { once: true });
        }),
      { signal: controller.signal },
    );
    // The attempt's own error is what the caller gets, as with any give-up.
    const check = expect(p).rejects.toBe(own);
    await clock.advance(10);
    controller.abort(new Error('stop'));
    await check;
    expect(calls).toBe(1);
    expect(events).toEqual(['aborted']);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('leaves no listener on the caller signal after retries that succeed', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    let n = 0;
    const p = retry({ clock, backoff: backoff.constant(10) }).execute(
      () => (++n < 3 ? Promise.reject(new Error('again')) : 'ok'),
      { signal: controller.signal },
    );
    await drain(clock);
    await expect(p).resolves.toBe('ok');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('retry around a timeout', () => {
  it('retries a TimeoutError and gives each attempt a fresh deadline', async () => {
    const clock = new VirtualClock(1_000);
    const deadlines: number[] = [];
    const signals: AbortSignal[] = [];
    const policy = pipeline(
      retry({ clock, maxAttempts: 3, backoff: backoff.constant(50) }),
      timeout(100, { clock }),
    );
    const p = policy.execute((ctx) => {
      deadlines.push(ctx.deadline);
      signals.push(ctx.signal);
      if (ctx.attempt === 3) return `attempt ${ctx.attempt}`;
      // Hangs until its signal aborts, as a well-behaved slow call does.
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      });
    });
    await drain(clock);
    await expect(p).resolves.toBe('attempt 3');
    expect(deadlines).toEqual([1_100, 1_250, 1_400]);
    expect(signals[0]!.reason).toBeInstanceOf(TimeoutError);
    expect(signals[2]!.aborted).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rethrows the last TimeoutError when every attempt times out', async () => {
    const clock = new VirtualClock();
    const reasons: unknown[] = [];
    const policy = pipeline(
      retry({ clock, maxAttempts: 2, backoff: backoff.constant(0) }),
      timeout(100, { clock }),
    );
    const p = policy.execute(
      (ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener(
            'abort',
            () => {
              reasons.push(ctx.signal.reason);
              reject(ctx.signal.reason);
            },
            { once: true },
          );
        }),
    );
    const check = expect(p).rejects.toBeInstanceOf(TimeoutError);
    await drain(clock);
    await check;
    expect(reasons).toHaveLength(2);
    await expect(p).rejects.toBe(reasons[1]);
    expect(clock.now()).toBe(200);
  });
});

describe('retry: give-ups on limits', () => {
  it('emits giveUp with the reason, the last outcome and the key on every limit path', async () => {
    const clock = new VirtualClock();
    const policy = retry({
      clock,
      maxAttempts: 10,
      maxElapsedMs: 1_000,
      backoff: backoff.constant(400),
    });
    const giveUps: RetryEvents['giveUp'][] = [];
    policy.on('giveUp', (e) => giveUps.push(e));
    const errors: Error[] = [];
    const task = (ctx: ExecutionContext): Promise<never> => {
      const error = new Error(`${ctx.key} attempt ${ctx.attempt}`);
      errors.push(error);
      return Promise.reject(error);
    };

    const elapsed = policy.execute(task, { key: 'a' });
    const elapsedCheck = expect(elapsed).rejects.toThrow('a attempt 3');
    await drain(clock);
    await elapsedCheck;
    await expect(policy.execute(task, { key: 'b', deadline: clock.now() + 300 })).rejects.toThrow(
      'b attempt 1',
    );
    const controller = new AbortController();
    const aborted = policy.execute(task, { key: 'c', signal: controller.signal });
    const abortedCheck = expect(aborted).rejects.toBe('stop');
    await clock.advance(100);
    controller.abort('stop');
    await abortedCheck;

    const last = (key: string) => errors.filter((e) => e.message.startsWith(key)).at(-1)!;
    expect(giveUps).toEqual([
      { attempts: 3, outcome: { ok: false, error: last('a') }, reason: 'maxElapsed', key: 'a' },
      { attempts: 1, outcome: { ok: false, error: last('b') }, reason: 'deadline', key: 'b' },
      { attempts: 1, outcome: { ok: false, error: last('c') }, reason: 'aborted', key: 'c' },
    ]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('retry: delays past 2^31 - 1 ms', () => {
  const day = 86_400_000;
  const month = 30 * day; // 2_592_000_000, past the 24.8 days a Node timer can hold

  it('waits a 30-day retryAfterMs hint in full', async () => {
    const clock = new VirtualClock();
    const slowDown = Object.assign(new Error('come back next month'), { retryAfterMs: month });
    let calls = 0;
    const policy = retry({ clock, backoff: backoff.constant(10) });
    const delays: number[] = [];
    policy.on('retry', (e) => delays.push(e.delayMs));
    const p = policy.execute(() => (++calls === 1 ? Promise.reject(slowDown) : 'served'), {
      deadline: 31 * day,
    });
    await clock.advance(month - 1);
    expect(calls).toBe(1);
    await clock.advance(1);
    await expect(p).resolves.toBe('served');
    expect(calls).toBe(2);
    expect(delays).toEqual([month]);
  });

  it('sleeps a 30-day backoff and measures maxElapsedMs and deadlines on that scale', async () => {
    const clock = new VirtualClock();
    const starts: number[] = [];
    const task = (): Promise<never> => {
      starts.push(clock.now());
      return Promise.reject(new Error('down'));
    };
    const policy = retry({
      clock,
      maxAttempts: 5,
      maxElapsedMs: 2 * month + 1,
      backoff: backoff.linear({ initialMs: month, stepMs: day, maxMs: 60 * day }),
    });
    const reasons: string[] = [];
    policy.on('giveUp', (e) => reasons.push(e.reason));
    const check = expect(policy.execute(task)).rejects.toThrow('down');
    await drain(clock);
    await check;
    // month, then month + 1 day: the second wait would pass 2 months + 1 ms, so no third.
    expect(starts).toEqual([0, month]);
    expect(reasons).toEqual(['maxElapsed']);

    const backToBack = retry({ clock, maxAttempts: 3, backoff: backoff.constant(month) });
    const t0 = clock.now();
    starts.length = 0;
    const p = backToBack.execute(task, { deadline: t0 + 3 * month });
    const done = expect(p).rejects.toThrow('down');
    await drain(clock);
    await done;
    expect(starts).toEqual([t0, t0 + month, t0 + 2 * month]);
    expect(clock.pendingTimers).toBe(0);
  });
});
