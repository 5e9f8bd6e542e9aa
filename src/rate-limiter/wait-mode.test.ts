import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { type RateLimitAlgorithm, rateLimiter } from './index.js';

const algorithms: RateLimitAlgorithm[] = ['gcra', 'token-bucket', 'fixed-window', 'sliding-window'];

/** Starts `count` calls at once; records when each one ran. */
function burst(
  policy: ReturnType<typeof rateLimiter>,
  clock: VirtualClock,
  count: number,
  key?: string,
): { ran: [number, number][]; calls: Promise<unknown>[] } {
  const ran: [number, number][] = [];
  const calls = Array.from({ length: count }, (_, i) =>
    policy.execute(() => ran.push([i, clock.now()]), { key }),
  );
  return { ran, calls };
}

describe('rateLimiter, wait mode', () => {
  it('smooths a burst: each call runs when its reserved units come, first come first served', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 4, intervalMs: 1000, burst: 2, mode: 'wait', clock });
    const waited: unknown[] = [];
    policy.on('waited', (event) => waited.push(event));
    const { ran, calls } = burst(policy, clock, 5, 't');
    expect(policy.waiting).toBe(3);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1000);
    await Promise.all(calls);
    expect(ran).toEqual([
      [0, 0],
      [1, 0],
      [2, 250],
      [3, 500],
      [4, 750],
    ]);
    expect(waited).toEqual([
      { key: 't', waitedMs: 250 },
      { key: 't', waitedMs: 500 },
      { key: 't', waitedMs: 750 },
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it.each(algorithms)('%s keeps order and the limit while waiting', async (algorithm) => {
    const clock = new VirtualClock();
    const policy = rateLimiter({
      limit: 2,
      intervalMs: 1000,
      algorithm,
      mode: 'wait',
      maxWaitMs: 10_000,
      clock,
    });
    const { ran, calls } = burst(policy, clock, 6);
    await clock.runAll();
    await Promise.all(calls);
    expect(ran.map(([i]) => i)).toEqual([0, 1, 2, 3, 4, 5]);
    // Any 1000 ms (fixed windows: any aligned window) holds at most 2 + the burst of 2.
    for (const [, at] of ran) {
      const inWindow = ran.filter(([, t]) => t >= at && t < at + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(algorithm === 'fixed-window' ? 2 : 3);
    }
    expect(ran.at(-1)![1]).toBeGreaterThanOrEqual(algorithm === 'sliding-window' ? 1500 : 2000);
  });

  it('refuses at once a call whose wait would exceed maxWaitMs, reserving nothing', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 1, intervalMs: 100, mode: 'wait', maxWaitMs: 150, clock });
    const { ran, calls } = burst(policy, clock, 2);
    const refused = await policy.execute(() => 'never').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused).toMatchObject({ retryAfterMs: 200 });
    await clock.advance(100);
    await Promise.all(calls);
    expect(ran).toEqual([
      [0, 0],
      [1, 100],
    ]);
    // The refusal took nothing: the next call fits 100 ms later.
    const third = policy.execute(() => clock.now());
    await clock.advance(100);
    await expect(third).resolves.toBe(200);
  });

  it('never starts a wait that cannot fit the deadline', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 1, intervalMs: 100, mode: 'wait', clock });
    await policy.execute(() => 'first');
    await expect(policy.execute(() => 'late', { deadline: 50 })).rejects.toMatchObject({
      retryAfterMs: 100,
    });
    const inTime = pipeline(timeout(150, { clock }), policy).execute(() => clock.now());
    await clock.advance(100);
    await expect(inTime).resolves.toBe(100);
    await expect(
      pipeline(timeout(99, { clock }), policy).execute(() => 'no'),
    ).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('lets an aborted waiter leave at once with the reason, no timer or listener left, its units given back', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 1, intervalMs: 100, mode: 'wait', clock });
    await policy.execute(() => 'first');
    const controller = new AbortController();
    const waiting = policy.execute(() => 'never', { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect(clock.pendingTimers).toBe(1);
    const reason = new Error('client left');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(policy.waiting).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // The reservation came back: the next call waits 100 ms, not 200.
    const next = policy.execute(() => clock.now());
    await clock.advance(100);
    await expect(next).resolves.toBe(100);
  });

  it('keeps units spent when a later reservation was made after the aborted one', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 1, intervalMs: 100, mode: 'wait', maxWaitMs: 1000, clock });
    await policy.execute(() => 'first');
    const controller = new AbortController();
    const aborted = policy.execute(() => 'never', { signal: controller.signal });
    const later = policy.execute(() => clock.now());
    controller.abort(new Error('gone'));
    await expect(aborted).rejects.toThrow('gone');
    const last = policy.execute(() => clock.now());
    await clock.runAll();
    // The hole at 100 ms stays: giving it to `last` would run it with `later` at 200 ms.
    await expect(later).resolves.toBe(200);
    await expect(last).resolves.toBe(300);
  });

  it('waits any duration: a limit of one per 30 days', async () => {
    const day = 86_400_000;
    const clock = new VirtualClock();
    const policy = rateLimiter({
      limit: 1,
      intervalMs: 30 * day,
      mode: 'wait',
      maxWaitMs: Infinity,
      clock,
    });
    await policy.execute(() => 'now');
    const later = policy.execute(() => clock.now());
    await clock.advance(30 * day - 1);
    expect(policy.waiting).toBe(1);
    await clock.advance(1);
    await expect(later).resolves.toBe(30 * day);
    const huge = rateLimiter({ limit: 1, intervalMs: 1e15, clock });
    await huge.execute(() => 'once');
    await expect(huge.execute(() => 'twice')).rejects.toMatchObject({ retryAfterMs: 1e15 });
  });

  it('runs each GCRA call at the time the reference schedule gives it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 300 }),
            cost: fc.integer({ min: 0, max: 3 }),
          }),
          {
            minLength: 1,
            maxLength: 25,
          },
        ),
        async (limit, burstExtra, calls) => {
          const burst = 3 + burstExtra;
          const intervalMs = 100 * limit;
          const clock = new VirtualClock();
          const policy = rateLimiter({
            limit,
            intervalMs,
            burst,
            mode: 'wait',
            maxWaitMs: Infinity,
            clock,
            cost: (ctx) => ctx.data as number,
          });
          const started: number[] = [];
          const want: number[] = [];
          const runs: Promise<unknown>[] = [];
          // The model: whole numbers, emission interval 100 ms.
          let tat = 0;
          let now = 0;
          for (const [i, { gap, cost }] of calls.entries()) {
            await clock.advance(gap);
            now += gap;
            tat = Math.max(tat, now) + 100 * cost;
            want[i] = Math.max(now, tat - 100 * burst);
            runs.push(
              policy.execute(
                () => {
                  started[i] = clock.now();
                },
                { data: cost },
              ),
            );
          }
          await clock.runAll();
          await Promise.all(runs);
          expect(started).toEqual(want);
        },
      ),
      { numRuns: 60 },
    );
  });
});
