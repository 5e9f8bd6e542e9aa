import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../core/errors.js';
import type { ExecutionContext } from '../core/index.js';
import { pipeline } from '../core/pipeline.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from './index.js';

/** A task that settles only when its signal aborts, rejecting with the signal's reason. */
function untilAborted(ctx: ExecutionContext): Promise<never> {
  return new Promise((_, reject) => {
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });
}

/** A task that ignores its signal and settles only when told to. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('timeout, cooperative', () => {
  it('aborts the signal at the deadline and rejects with the TimeoutError it aborted with', async () => {
    const clock = new VirtualClock();
    const policy = timeout(100, { clock });
    let seen: unknown;
    const call = policy.execute((ctx) => {
      ctx.signal.addEventListener('abort', () => {
        seen = ctx.signal.reason;
      });
      return untilAborted(ctx);
    });
    const settled = call.catch((error: unknown) => error);
    await clock.advance(99);
    expect(seen).toBeUndefined();
    await clock.advance(1);
    const error = await settled;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toBe(seen);
    expect((error as TimeoutError).timeoutMs).toBe(100);
    expect((error as TimeoutError).code).toBe('TIMEOUT');
    expect(clock.pendingTimers).toBe(0);
  });

  it('turns any other rejection after the deadline into a TimeoutError with it as cause', async () => {
    const clock = new VirtualClock();
    const abortError = new DOMException('The operation was aborted', 'AbortError');
    const call = timeout(50, { clock }).execute(
      (ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(abortError))),
    );
    const settled = call.catch((error: unknown) => error);
    await clock.advance(50);
    const error = (await settled) as TimeoutError;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.cause).toBe(abortError);
  });

  it('waits for a task that ignores its signal and returns what it produced', async () => {
    const clock = new VirtualClock();
    const work = deferred<string>();
    let done = false;
    const call = timeout(10, { clock })
      .execute(() => work.promise)
      .finally(() => {
        done = true;
      });
    await clock.advance(1_000);
    expect(done).toBe(false);
    work.resolve('late');
    await expect(call).resolves.toBe('late');
  });

  it('passes results and errors that arrive in time through untouched', async () => {
    const clock = new VirtualClock();
    const policy = timeout(10, { clock });
    const boom = new Error('boom');
    await expect(policy.execute(() => 'fast')).resolves.toBe('fast');
    await expect(policy.execute(() => Promise.reject(boom))).rejects.toBe(boom);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('timeout, aggressive', () => {
  it('rejects at the deadline even when the task ignores its signal', async () => {
    const clock = new VirtualClock();
    const work = deferred<string>();
    let signal: AbortSignal | undefined;
    const call = timeout(20, { clock, strategy: 'aggressive' }).execute((ctx) => {
      signal = ctx.signal;
      return work.promise;
    });
    const settled = call.catch((error: unknown) => error);
    await clock.advance(20);
    expect(await settled).toBeInstanceOf(TimeoutError);
    expect(signal?.aborted).toBe(true);
    work.reject(new Error('too late to matter'));
    await clock.advance(0);
  });

  it('rejects promptly with the caller reason when the caller aborts', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const reason = new Error('user left');
    const call = timeout(1_000, { clock, strategy: 'aggressive' }).execute(
      () => deferred<void>().promise,
      { signal: controller.signal },
    );
    const settled = call.catch((error: unknown) => error);
    controller.abort(reason);
    expect(await settled).toBe(reason);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('timeout deadlines', () => {
  it('shows the task the earliest of its own, enclosing and caller deadlines', async () => {
    const clock = new VirtualClock(10_000);
    const seen: number[] = [];
    const record = (ctx: ExecutionContext) => {
      seen.push(ctx.deadline);
    };
    await pipeline(timeout(300, { clock }), timeout(100, { clock })).execute(record);
    await pipeline(timeout(100, { clock }), timeout(300, { clock })).execute(record);
    await timeout(300, { clock }).execute(record, { deadline: 10_050 });
    expect(seen).toEqual([10_100, 10_100, 10_050]);
  });

  it('enforces a tighter enclosing deadline and reports the budget that ran out', async () => {
    const clock = new VirtualClock();
    const call = timeout(1_000, { clock }).execute(untilAborted, { deadline: 40 });
    const settled = call.catch((error: unknown) => error);
    await clock.advance(40);
    expect(await settled).toMatchObject({ code: 'TIMEOUT', timeoutMs: 40 });
  });

  it('does not start a task whose budget is already spent', async () => {
    const clock = new VirtualClock(500);
    let ran = false;
    const call = timeout(100, { clock }).execute(
      () => {
        ran = true;
      },
      { deadline: 500 },
    );
    await expect(call).rejects.toBeInstanceOf(TimeoutError);
    expect(ran).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    // A deadline already in the past leaves a budget of 0, never a negative one.
    const late = timeout(100, { clock }).execute(() => {}, { deadline: 200 });
    await expect(late).rejects.toMatchObject({ timeoutMs: 0, message: 'Timed out after 0 ms' });
  });

  it('an outer timeout aborts the inner scope; the inner policy passes the reason on', async () => {
    const clock = new VirtualClock();
    const call = pipeline(timeout(30, { clock, name: 'outer' }), timeout(500, { clock })).execute(
      untilAborted,
    );
    const settled = call.catch((error: unknown) => error);
    await clock.advance(30);
    expect(await settled).toMatchObject({ code: 'TIMEOUT', timeoutMs: 30 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('leaves the expiry to an enclosing timeout that ends no later: one error, always the outer one', async () => {
    const clock = new VirtualClock();
    const outer = timeout(100, { clock, name: 'outer' });
    const inner = timeout(1_000, { clock, name: 'inner' });
    const fired: string[] = [];
    outer.on('timeout', () => fired.push('outer'));
    inner.on('timeout', () => fired.push('inner'));
    let innerPending = -1;
    const call = pipeline(outer, inner).execute((ctx) => {
      innerPending = inner.pending;
      return untilAborted(ctx);
    });
    const settled = call.catch((error: unknown) => error);
    await clock.advance(100);
    expect(await settled).toMatchObject({ code: 'TIMEOUT', timeoutMs: 100 });
    expect(innerPending).toBe(0);
    expect(fired).toEqual(['outer']);
  });

  it('still enforces a caller deadline that no timeout enforces', async () => {
    const clock = new VirtualClock();
    const inner = timeout(1_000, { clock });
    const call = pipeline(inner).execute(untilAborted, { deadline: 60 });
    const settled = call.catch((error: unknown) => error);
    expect(inner.pending).toBe(1);
    await clock.advance(60);
    expect(await settled).toMatchObject({ code: 'TIMEOUT', timeoutMs: 60 });
  });

  it('sets no timer at all for an infinite budget', async () => {
    const clock = new VirtualClock();
    const work = deferred<number>();
    const call = timeout(Number.POSITIVE_INFINITY, { clock }).execute(() => work.promise);
    await clock.advance(0);
    expect(clock.pendingTimers).toBe(0);
    work.resolve(1);
    await expect(call).resolves.toBe(1);
  });
});

describe('timeout timers', () => {
  it('serves any number of calls in flight with one armed timer', async () => {
    const clock = new VirtualClock();
    const policy = timeout(100, { clock });
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 1_000; i++) {
      calls.push(policy.execute(untilAborted).catch((error: unknown) => error));
      await clock.advance(0.05);
    }
    expect(policy.pending).toBe(1_000);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(100);
    const errors = await Promise.all(calls);
    expect(errors.every((error) => error instanceof TimeoutError)).toBe(true);
    expect(policy.pending).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('expires each call at its own deadline, in order, as the shared timer re-arms', async () => {
    const clock = new VirtualClock();
    const policy = timeout(100, { clock });
    const expiredAt: number[] = [];
    for (const startAt of [0, 10, 25]) {
      await clock.advance(startAt - clock.now());
      policy.execute(untilAborted).catch(() => expiredAt.push(clock.now()));
    }
    await clock.advance(200);
    expect(expiredAt).toEqual([100, 110, 125]);
  });

  it("reuses one timer for a stream of calls, unref'd while nothing waits", async () => {
    const clock = new VirtualClock();
    let armed = 0;
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (callback, ms) => {
      armed++;
      return setTimeout(callback, ms);
    };
    const policy = timeout(100, { clock });
    for (let i = 0; i < 50; i++) {
      await policy.execute(() => i);
      await clock.advance(1);
    }
    expect(armed).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.armedTimers).toBe(1);
    // The idle timer fires once, finds nothing waiting and is gone; nothing re-arms it.
    await clock.advance(100);
    expect(armed).toBe(1);
    expect(clock.armedTimers).toBe(0);
  });

  it('clears its timer when idle if the clock cannot unref one', async () => {
    const virtual = new VirtualClock();
    const clock = {
      now: () => virtual.now(),
      setTimeout: (callback: () => void, ms: number) => virtual.setTimeout(callback, ms),
      clearTimeout: (handle: unknown) => virtual.clearTimeout(handle),
    };
    const policy = timeout(100, { clock });
    await policy.execute(() => 'done');
    expect(virtual.armedTimers).toBe(0);
    const call = policy.execute(untilAborted).catch((error: unknown) => error);
    expect(virtual.armedTimers).toBe(1);
    await virtual.advance(100);
    expect(await call).toBeInstanceOf(TimeoutError);
  });

  it('leaves no timer keeping the process alive once the last call finishes early', async () => {
    const clock = new VirtualClock();
    const policy = timeout(100, { clock });
    await Promise.all([policy.execute(() => 1), policy.execute(() => 2)]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('timeout events and options', () => {
  it("emits a timeout event with the budget, the strategy and the call's key", async () => {
    const clock = new VirtualClock();
    const policy = timeout(25, { clock, strategy: 'aggressive' });
    const events: unknown[] = [];
    const dispose = policy.on('timeout', (event) => events.push(event));
    await Promise.all([
      policy.execute(untilAborted, { key: 'db-1' }).catch(() => {}),
      clock.advance(25),
    ]);
    await Promise.all([policy.execute(untilAborted).catch(() => {}), clock.advance(25)]);
    // A call whose budget is already spent is reported too, with its key.
    await policy.execute(untilAborted, { key: 'db-2', deadline: clock.now() }).catch(() => {});
    dispose();
    await Promise.all([policy.execute(untilAborted).catch(() => {}), clock.advance(25)]);
    expect(events).toStrictEqual([
      { timeoutMs: 25, strategy: 'aggressive', key: 'db-1' },
      { timeoutMs: 25, strategy: 'aggressive', key: undefined },
      { timeoutMs: 0, strategy: 'aggressive', key: 'db-2' },
    ]);
  });

  it('refuses bad options with messages naming them', () => {
    expect(() => timeout(-1)).toThrow(
      'timeout: option "ms" must be a number of milliseconds >= 0 or Infinity, or a function returning one (got -1)',
    );
    expect(() => timeout(Number.NaN)).toThrow(/option "ms".*got NaN/);
    expect(() => timeout('5' as never)).toThrow(/option "ms".*got "5"/);
    expect(() => timeout(5, { strategy: 'eager' as never })).toThrow(
      `timeout: option "strategy" must be one of 'cooperative', 'aggressive' (got "eager")`,
    );
    expect(() => timeout(5, { clock: {} as never })).toThrow(/option "clock"/);
    expect(() => timeout(5, 7 as never)).toThrow('timeout: options must be an object (got 7)');
  });
});
