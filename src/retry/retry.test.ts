import { afterEach, describe, expect, it, vi } from 'vitest';
import { Context } from '../core/context.js';
import { BrokenCircuitError, IsolatedCircuitError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import { pipeline } from '../core/pipeline.js';
import { VirtualClock } from '../testing/index.js';
import { backoff } from './backoff.js';
import { type RetryPredicate, retry } from './retry.js';
import { drain, failing } from './test-helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('retry: attempts', () => {
  it('makes maxAttempts attempts in all, numbering them in ctx.attempt', async () => {
    const clock = new VirtualClock(1_000);
    const { calls, task } = failing(clock, new Error('down'));
    const p = retry({ clock, backoff: backoff.constant(10) }).execute(task);
    const check = expect(p).rejects.toThrow('down');
    await drain(clock);
    await check;
    expect(calls).toEqual([
      { at: 1_000, attempt: 1 },
      { at: 1_010, attempt: 2 },
      { at: 1_020, attempt: 3 },
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('makes one attempt with maxAttempts 1 and keeps going with Infinity', async () => {
    const clock = new VirtualClock();
    const once = failing(clock, new Error('x'));
    await expect(retry({ clock, maxAttempts: 1 }).execute(once.task)).rejects.toThrow('x');
    expect(once.calls).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);

    let count = 0;
    const p = retry({ clock, maxAttempts: Infinity, backoff: backoff.constant(1) }).execute(() => {
      count++;
      if (count < 50) throw new Error('not yet');
      return 'done';
    });
    await drain(clock);
    await expect(p).resolves.toBe('done');
    expect(count).toBe(50);
  });

  it('restarts the attempt count inside an enclosing retry', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    const outer = retry({ clock, maxAttempts: 2, backoff: backoff.constant(0) });
    const inner = retry({ clock, maxAttempts: 2, backoff: backoff.constant(0) });
    const p = pipeline(outer, inner).execute((ctx) => {
      seen.push(ctx.attempt);
      throw new Error('no');
    });
    const check = expect(p).rejects.toThrow('no');
    await drain(clock);
    await check;
    expect(seen).toEqual([1, 2, 1, 2]);
  });

  it('on a first-try success reads no clock, derives no context and builds no event', async () => {
    const clock = new VirtualClock();
    const now = vi.spyOn(clock, 'now');
    const derive = vi.spyOn(Context.prototype, 'withAttempt');
    const policy = retry({ clock });
    const emit = vi.spyOn((policy as unknown as { events: { emit: () => void } }).events, 'emit');
    await expect(policy.execute((ctx) => ctx.attempt)).resolves.toBe(1);
    expect(now).not.toHaveBeenCalled();
    expect(derive).not.toHaveBeenCalled();
    expect(emit).not.toHaveBeenCalled();
  });
});

describe('retry: outcomes', () => {
  it('retries a result that retryOn rejects (503, then 200)', async () => {
    const clock = new VirtualClock();
    const responses = [{ status: 503 }, { status: 200 }];
    const policy = retry<{ status: number }>({
      clock,
      retryOn: (o) => !o.ok || o.value.status === 503,
    });
    const p = policy.execute(() => responses.shift()!);
    await drain(clock);
    await expect(p).resolves.toEqual({ status: 200 });
    expect(responses).toHaveLength(0);
  });

  it('returns the last result, without throwing, when retries run out on results', async () => {
    const clock = new VirtualClock();
    const last = { status: 503 };
    let calls = 0;
    const policy = retry<{ status: number }>({
      clock,
      maxAttempts: 2,
      retryOn: (o) => o.ok && o.value.status === 503,
    });
    const p = policy.execute(() => (++calls === 2 ? last : { status: 503 }));
    await drain(clock);
    await expect(p).resolves.toBe(last);
    expect(calls).toBe(2);
  });

  it('rethrows the last original error itself, not a wrapper', async () => {
    const clock = new VirtualClock();
    const errors = [new Error('one'), new TypeError('two'), new RangeError('three')];
    const { task } = failing(clock, ...errors);
    const p = retry({ clock }).execute(task);
    const check = expect(p).rejects.toBe(errors[2]);
    await drain(clock);
    await check;
  });

  it('retries non-Error rejections and synchronous throws faithfully', async () => {
    const clock = new VirtualClock();
    for (const reason of ['a string', undefined, null, 42]) {
      const { calls, task } = failing(clock, reason);
      const p = retry({ clock }).execute(task);
      const check = expect(p).rejects.toBe(reason);
      await drain(clock);
      await check;
      expect(calls).toHaveLength(3);
    }
    const thrown = new Error('sync');
    let calls = 0;
    const p = retry({ clock }).execute(() => {
      calls++;
      throw thrown;
    });
    const check = expect(p).rejects.toBe(thrown);
    await drain(clock);
    await check;
    expect(calls).toBe(3);
  });

  it('does not retry BrokenCircuitError or IsolatedCircuitError by default', async () => {
    const clock = new VirtualClock();
    for (const error of [new BrokenCircuitError('open', 5_000), new IsolatedCircuitError()]) {
      const { calls, task } = failing(clock, error);
      await expect(retry({ clock }).execute(task)).rejects.toBe(error);
      expect(calls).toHaveLength(1);
      expect(clock.pendingTimers).toBe(0);
    }
  });

  it('rejects with a TypeError when retryOn answers with a promise, and runs nothing more', async () => {
    const clock = new VirtualClock();
    const original = new Error('down');
    const { calls, task } = failing(clock, original);
    // The types refuse an async predicate; plain JavaScript (or a cast) can still pass one.
    const retryOn = (async () => false) as unknown as RetryPredicate;
    const policy = retry({ clock, name: 'db-retry', retryOn });
    const giveUps: unknown[] = [];
    policy.on('giveUp', (e) => giveUps.push(e));
    const error = await policy.execute(task).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(
      'db-retry: option "retryOn" returned a promise; it must decide synchronously and return a boolean',
    );
    expect((error as TypeError).cause).toBe(original);
    expect(calls).toHaveLength(1);
    expect(giveUps).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports an async retryOn on a result too, and leaves its rejection handled', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const retryOn = async (o: Outcome<string>): Promise<boolean> => {
      if (o.ok) throw new Error('predicate blew up later');
      return true;
    };
    const policy = retry<string>({ clock, retryOn: retryOn as unknown as RetryPredicate<string> });
    const error = await policy.execute(() => `call ${++calls}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toMatch(/^retry: option "retryOn" returned a promise/);
    expect((error as TypeError).cause).toBeUndefined();
    expect(calls).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    // An unhandled rejection from the predicate's promise would fail this test run.
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('lets retryOn decide, with the attempt context, and stops when it says no', async () => {
    const clock = new VirtualClock();
    const fatal = new Error('fatal');
    const { calls, task } = failing(clock, new Error('transient'), fatal);
    const seen: [boolean, number][] = [];
    const policy = retry({
      clock,
      maxAttempts: 5,
      retryOn: (o, ctx) => {
        seen.push([o.ok, ctx.attempt]);
        return !o.ok && o.error !== fatal;
      },
    });
    const p = policy.execute(task);
    const check = expect(p).rejects.toBe(fatal);
    await drain(clock);
    await check;
    expect(calls).toHaveLength(2);
    expect(seen).toEqual([
      [false, 1],
      [false, 2],
    ]);
  });
});

describe('retry: delays', () => {
  it('calls a custom backoff with attempt, outcome, previous delay and random', async () => {
    const clock = new VirtualClock();
    const errors = [new Error('a'), new Error('b'), new Error('c')];
    const { calls, task } = failing(clock, ...errors);
    const random = () => 0.5;
    const args: unknown[][] = [];
    const policy = retry({
      clock,
      random,
      backoff: (...a) => {
        args.push(a);
        return a[0] * 100;
      },
    });
    const check = expect(policy.execute(task)).rejects.toBe(errors[2]);
    await drain(clock);
    await check;
    expect(calls.map((c) => c.at)).toEqual([0, 100, 300]);
    expect(args).toEqual([
      [1, { ok: false, error: errors[0] }, 0, random],
      [2, { ok: false, error: errors[1] }, 100, random],
    ]);
  });

  it("passes its random to the default backoff (exponential, 100 ms, 'full' jitter)", async () => {
    const clock = new VirtualClock();
    const { calls, task } = failing(clock, new Error('x'));
    const policy = retry({ clock, maxAttempts: 4, random: () => 0.5 });
    const check = expect(policy.execute(task)).rejects.toThrow('x');
    await drain(clock);
    await check;
    expect(calls.map((c) => c.at)).toEqual([0, 50, 150, 350]);
  });

  it('waits at least the retryAfterMs hint of an error or a result', async () => {
    const clock = new VirtualClock();
    const hinted = Object.assign(new Error('slow down'), { retryAfterMs: 500 });
    const { calls, task } = failing(clock, hinted, new Error('plain'), hinted);
    const previous: number[] = [];
    const policy = retry({
      clock,
      maxAttempts: 4,
      backoff: (_attempt, _outcome, prev) => {
        previous.push(prev);
        return 200;
      },
    });
    const check = expect(policy.execute(task)).rejects.toBe(hinted);
    await drain(clock);
    await check;
    expect(calls.map((c) => c.at)).toEqual([0, 500, 700, 1_200]);
    expect(previous).toEqual([0, 500, 200]);

    const results = [{ retryAfterMs: 50 }, { retryAfterMs: 1_000 }, { ok: true }];
    const started: number[] = [];
    const byResult = retry<object>({
      clock,
      backoff: backoff.constant(100),
      retryOn: (o) => o.ok && 'retryAfterMs' in o.value,
    });
    const p = byResult.execute(() => {
      started.push(clock.now());
      return results.shift()!;
    });
    await drain(clock);
    await expect(p).resolves.toEqual({ ok: true });
    expect(started.map((t) => t - started[0]!)).toEqual([0, 100, 1_100]);
  });

  it('honours the hint of a BrokenCircuitError that a custom retryOn retries', async () => {
    const clock = new VirtualClock();
    const open = new BrokenCircuitError('open', 2_000);
    const { calls, task } = failing(clock, open, new Error('after'));
    const policy = retry({ clock, maxAttempts: 2, retryOn: () => true });
    const check = expect(policy.execute(task)).rejects.toThrow('after');
    await drain(clock);
    await check;
    expect(calls.map((c) => c.at)).toEqual([0, 2_000]);
  });

  it('retries at once on a zero delay: no timer, no clock advance needed', async () => {
    const clock = new VirtualClock(1_000);
    const arm = vi.spyOn(clock, 'setTimeout');
    const { calls, task } = failing(clock, new Error('down'));
    // No drain: on a clock nobody advances, a timer for 0 ms would hang this await.
    await expect(retry({ clock, backoff: backoff.constant(0) }).execute(task)).rejects.toThrow(
      'down',
    );
    expect(calls).toEqual([
      { at: 1_000, attempt: 1 },
      { at: 1_000, attempt: 2 },
      { at: 1_000, attempt: 3 },
    ]);
    const results = [{ status: 503 }, { status: 503 }, { status: 200 }];
    const byResult = retry<{ status: number }>({
      clock,
      backoff: () => 0,
      retryOn: (o) => o.ok && o.value.status === 503,
    });
    await expect(byResult.execute(() => results.shift()!)).resolves.toEqual({ status: 200 });
    expect(arm).not.toHaveBeenCalled();
  });

  it('honours an abort that comes between attempts on a zero delay', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const { calls, task } = failing(clock, new Error('down'));
    const policy = retry({ clock, maxAttempts: 5, backoff: backoff.constant(0) });
    const events: string[] = [];
    policy.on('retry', () => {
      events.push('retry');
      controller.abort('caller left');
    });
    policy.on('giveUp', (e) => events.push(e.reason));
    await expect(policy.execute(task, { signal: controller.signal })).rejects.toBe('caller left');
    expect(calls).toHaveLength(1);
    expect(events).toEqual(['retry', 'aborted']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with a TypeError naming the policy when the backoff returns a bad delay', async () => {
    for (const bad of [-5, Number.NaN, Number.POSITIVE_INFINITY, '100']) {
      const clock = new VirtualClock();
      const original = new Error('down');
      const { calls, task } = failing(clock, original);
      const policy = retry({ clock, name: 'db-retry', backoff: () => bad as number });
      const error = await policy.execute(task).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toBe(
        `db-retry: backoff returned ${typeof bad === 'string' ? '"100"' : String(bad)} after attempt 1; expected a finite number of milliseconds >= 0`,
      );
      expect((error as TypeError).cause).toBe(original);
      expect(calls).toHaveLength(1);
      expect(clock.pendingTimers).toBe(0);
    }
  });
});
