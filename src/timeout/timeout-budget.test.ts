import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../core/errors.js';
import type { ExecutionContext } from '../core/index.js';
import { pipeline } from '../core/pipeline.js';
import { backoff, retry } from '../retry/index.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from './index.js';

/** A task that settles only when its signal aborts, rejecting with the signal's reason. */
function untilAborted(ctx: ExecutionContext): Promise<never> {
  return new Promise((_, reject) => {
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });
}

/** Settles `call` into when it ended and what with, by the clock. */
function endOf(clock: VirtualClock, call: Promise<unknown>) {
  return call.then(
    (value) => ({ at: clock.now(), value }),
    (error: unknown) => ({ at: clock.now(), error }),
  );
}

const day = 24 * 3_600_000;

describe('timeout with a per-call budget', () => {
  it("decides each call's budget from its context", async () => {
    const clock = new VirtualClock();
    const policy = timeout<{ slow: boolean }>((ctx) => (ctx.data.slow ? 300 : 100), { clock });
    const budgets: number[] = [];
    policy.on('timeout', ({ timeoutMs }) => budgets.push(timeoutMs));
    const fast = endOf(clock, policy.execute(untilAborted, { data: { slow: false } }));
    const slow = endOf(clock, policy.execute(untilAborted, { data: { slow: true } }));
    await clock.advance(300);
    expect(await fast).toMatchObject({ at: 100, error: { timeoutMs: 100 } });
    expect(await slow).toMatchObject({ at: 300, error: { timeoutMs: 300 } });
    expect(budgets).toEqual([100, 300]);
    expect(policy.timeoutMs).toBeUndefined();
    expect(timeout(5).timeoutMs).toBe(5);
  });

  it('asks again for every attempt, which sees its attempt number and key', async () => {
    const clock = new VirtualClock();
    const asked: [string | undefined, number][] = [];
    const starts: number[] = [];
    const policy = pipeline(
      retry({ maxAttempts: 3, backoff: backoff.constant(0), clock }),
      timeout(
        (ctx) => {
          asked.push([ctx.key, ctx.attempt]);
          return 100 * ctx.attempt;
        },
        { clock },
      ),
    );
    const call = endOf(
      clock,
      policy.execute(
        (ctx) => {
          starts.push(clock.now());
          return untilAborted(ctx);
        },
        { key: 'users' },
      ),
    );
    await clock.advance(600);
    expect(await call).toMatchObject({ at: 600, error: { timeoutMs: 300 } });
    expect(starts).toEqual([0, 100, 300]);
    expect(asked).toEqual([
      ['users', 1],
      ['users', 2],
      ['users', 3],
    ]);
  });

  it('sees the deadline of an enclosing timeout and can take a share of what is left', async () => {
    const clock = new VirtualClock(1_000);
    const inner = timeout((ctx) => (ctx.deadline - clock.now()) / 2, { clock });
    const call = endOf(clock, pipeline(timeout(400, { clock }), inner).execute(untilAborted));
    await clock.advance(200);
    expect(await call).toMatchObject({ at: 1_200, error: { timeoutMs: 200 } });
  });

  it('takes 0 as no time at all and Infinity as no budget of its own', async () => {
    const clock = new VirtualClock();
    let ran = false;
    const none = timeout(() => 0, { clock }).execute(() => {
      ran = true;
    });
    await expect(none).rejects.toMatchObject({ code: 'TIMEOUT', timeoutMs: 0 });
    expect(ran).toBe(false);
    const unbounded = timeout(() => Number.POSITIVE_INFINITY, { clock });
    const call = endOf(clock, unbounded.execute(untilAborted, { deadline: 50 }));
    expect(unbounded.pending).toBe(1);
    await clock.advance(50);
    expect(await call).toMatchObject({ at: 50, error: { timeoutMs: 50 } });
    await expect(unbounded.execute(() => 'free')).resolves.toBe('free');
    expect(clock.pendingTimers).toBe(0);
  });

  it.each([
    [-1, '-1'],
    [Number.NaN, 'NaN'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
    ['100', '"100"'],
    [undefined, 'undefined'],
    [null, 'null'],
    [Promise.resolve(5), 'a promise'],
  ])('rejects a call whose budget comes back as %s, without running it', async (answer, shown) => {
    const clock = new VirtualClock();
    const policy = timeout(() => answer as number, { clock, name: 'db-timeout' });
    let ran = false;
    const call = policy.execute(() => {
      ran = true;
    });
    await expect(call).rejects.toThrow(
      new TypeError(
        `db-timeout: option "ms" returned ${shown} for this call; expected a number of milliseconds >= 0 or Infinity`,
      ),
    );
    expect(ran).toBe(false);
    expect(policy.pending).toBe(0);
    expect(clock.armedTimers).toBe(0);
  });

  it('rejects with what the budget function throws, and carries on with the next call', async () => {
    const clock = new VirtualClock();
    const boom = new Error('no budget for you');
    let fail = true;
    const policy = timeout(
      () => {
        if (fail) throw boom;
        return 10;
      },
      { clock },
    );
    let ran = false;
    await expect(
      policy.execute(() => {
        ran = true;
      }),
    ).rejects.toBe(boom);
    expect(ran).toBe(false);
    fail = false;
    await expect(policy.execute(() => 'ok')).resolves.toBe('ok');
    expect(policy.pending).toBe(0);
  });

  it('refuses an ms that is neither a budget nor a function', () => {
    expect(() => timeout({} as never)).toThrow(
      'timeout: option "ms" must be a number of milliseconds >= 0 or Infinity, or a function returning one (got {})',
    );
  });
});

describe('timeout with durations past 2^31-1 ms', () => {
  it('fires a 2^31 ms timeout at 2^31 ms, not before', async () => {
    const clock = new VirtualClock();
    let endedAt: number | undefined;
    const call = timeout(2 ** 31, { clock })
      .execute(untilAborted)
      .catch((error: unknown) => {
        endedAt = clock.now();
        return error;
      });
    await clock.advance(2 ** 31 - 1);
    expect(endedAt).toBeUndefined();
    await clock.advance(1);
    expect(endedAt).toBe(2 ** 31);
    expect(await call).toMatchObject({ code: 'TIMEOUT', timeoutMs: 2 ** 31 });
  });

  it('fires a 30-day timeout at 30 days on an epoch-scale clock', async () => {
    const start = 1_760_000_000_000;
    const clock = new VirtualClock(start);
    const policy = timeout(30 * day, { clock });
    const fired: number[] = [];
    policy.on('timeout', () => fired.push(clock.now() - start));
    const call = endOf(clock, policy.execute(untilAborted));
    await clock.advance(30 * day - 1);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([30 * day]);
    expect(await call).toMatchObject({ at: start + 30 * day, error: { timeoutMs: 30 * day } });
    expect(clock.pendingTimers).toBe(0);
  });

  it("enforces a caller's deadline 30 days out, beside calls with short budgets", async () => {
    const clock = new VirtualClock(1_760_000_000_000);
    const policy = timeout(Number.POSITIVE_INFINITY, { clock });
    const deadline = clock.now() + 30 * day;
    const far = endOf(clock, policy.execute(untilAborted, { deadline }));
    const near = endOf(clock, policy.execute(untilAborted, { deadline: clock.now() + 1_000 }));
    await clock.advance(1_000);
    expect(await near).toMatchObject({ error: { timeoutMs: 1_000 } });
    expect(policy.pending).toBe(1);
    await clock.advance(30 * day - 1_001);
    expect(policy.pending).toBe(1);
    await clock.advance(1);
    const ended = await far;
    expect(ended).toMatchObject({ at: deadline, error: { timeoutMs: 30 * day } });
    expect((ended as { error: unknown }).error).toBeInstanceOf(TimeoutError);
  });
});
