import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExecutionContext } from '../core/context.js';
import { VirtualClock } from '../testing/index.js';
import { hedge } from './index.js';
import { LatencyWindow, select } from './latency-window.js';

describe('LatencyWindow', () => {
  it('selects the k-th smallest like a sort does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 200 }),
        fc.nat(),
        (values, at) => {
          const k = at % values.length;
          const sorted = [...values].sort((a, b) => a - b);
          expect(select(Float64Array.from(values), k)).toBe(sorted[k]);
        },
      ),
    );
  });

  it('has no value until full, then the nearest-rank percentile of the last `size` samples', () => {
    const window = new LatencyWindow(95, 20);
    for (let ms = 1; ms < 20; ms++) window.add(ms);
    expect([window.count, window.value]).toEqual([19, undefined]);
    window.add(20);
    // ceil(0.95 * 20) = the 19th smallest of 1..20.
    expect(window.value).toBe(19);
  });

  it('recomputes every tenth of the window, over the latest samples only', () => {
    const window = new LatencyWindow(50, 10);
    for (let ms = 1; ms <= 10; ms++) window.add(ms);
    expect(window.value).toBe(5);
    // A window of 10 recomputes on every sample; 10 more samples replace all of the first ten.
    for (let i = 0; i < 10; i++) window.add(100 + i);
    expect(window.value).toBe(104);
    const coarse = new LatencyWindow(100, 30);
    for (let i = 0; i < 30; i++) coarse.add(1);
    coarse.add(50);
    coarse.add(60);
    expect(coarse.value).toBe(1);
    coarse.add(70);
    expect(coarse.value).toBe(70);
  });

  it('percentile 100 is the maximum and a tiny one the minimum', () => {
    const max = new LatencyWindow(100, 5);
    const min = new LatencyWindow(0.1, 5);
    for (const ms of [7, 3, 9, 1, 5]) {
      max.add(ms);
      min.add(ms);
    }
    expect([max.value, min.value]).toEqual([9, 1]);
  });
});

describe('hedge with a percentile delay', () => {
  /** Runs one call whose original answers after `ms` and whose hedges hang. */
  async function call(
    policy: ReturnType<typeof hedge>,
    clock: VirtualClock,
    ms: number,
  ): Promise<number[]> {
    const attempts: number[] = [];
    const result = policy.execute((ctx: ExecutionContext) => {
      attempts.push(ctx.attempt);
      return new Promise((resolve) => {
        if (ctx.attempt === 1) clock.setTimeout(() => resolve(ms), ms);
      });
    });
    await clock.advance(ms);
    await expect(result).resolves.toBe(ms);
    return attempts;
  }

  it('uses minMs until the window fills, then follows the p95 of the winning latencies', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: { percentile: 95, minMs: 10, windowSize: 20 }, clock });
    expect(policy.percentileDelay).toEqual({ percentile: 95, minMs: 10, windowSize: 20 });
    expect(policy.delayMs).toBe(10);
    for (let ms = 1; ms < 20; ms++) {
      // Calls slower than the warm-up delay are hedged at 10 ms; the original still wins.
      expect(await call(policy, clock, ms)).toEqual(ms > 10 ? [1, 2] : [1]);
      expect(policy.delayMs).toBe(10);
    }
    await call(policy, clock, 20);
    expect(policy.delayMs).toBe(19);
    expect(await call(policy, clock, 18)).toEqual([1]);
    expect(await call(policy, clock, 30)).toEqual([1, 2]);

    // The latencies move up: every second sample (a tenth of 20) the delay follows them.
    for (let i = 0; i < 20; i++) await call(policy, clock, 50);
    expect(policy.delayMs).toBe(50);
    // ... and down, but never below the floor.
    for (let i = 0; i < 20; i++) await call(policy, clock, 2);
    expect(policy.delayMs).toBe(10);
    expect(clock.pendingTimers).toBe(0);
  });

  it('records only successes, each as the call saw it: from its first attempt start', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: { percentile: 100, minMs: 5, windowSize: 1 }, clock });
    // The hedge starts at 5 ms and answers 3 ms later: the call took 8 ms, and 8 counts (its
    // own 3 ms would pull the percentile under the delay and hedge ever more calls).
    const result = policy.execute(
      (ctx) =>
        new Promise((resolve) => {
          if (ctx.attempt === 2) clock.setTimeout(() => resolve('hedge'), 3);
        }),
    );
    await clock.advance(8);
    await expect(result).resolves.toBe('hedge');
    expect(policy.delayMs).toBe(8);
    const failing = policy.execute(() => Promise.reject(new TypeError('no')), {});
    await expect(failing).rejects.toThrow('no');
    expect(policy.delayMs).toBe(8);
    const slow = policy.execute(
      (ctx) =>
        new Promise((resolve) => {
          if (ctx.attempt === 1) clock.setTimeout(() => resolve('slow'), 40);
        }),
    );
    await clock.advance(40);
    await expect(slow).resolves.toBe('slow');
    expect(policy.delayMs).toBe(40);
  });
});
