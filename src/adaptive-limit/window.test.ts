import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { type AdaptiveLimitOptions, adaptiveLimit } from './index.js';
import { RESERVOIR, SampleWindow, select } from './window.js';

describe('SampleWindow', () => {
  it('reports the mean RTT, the most calls in flight and whether any call was dropped', () => {
    const window = new SampleWindow(0, 0, 0, 4, undefined);
    expect(window.add(0, 10, 3, false)).toBeUndefined();
    expect(window.add(0, 20, 9, true)).toBeUndefined();
    expect(window.add(0, 30, 1, false)).toBeUndefined();
    expect(window.add(0, 40, 2, false)).toEqual({ rtt: 25, inflight: 9, dropped: true });
    // The next window starts afresh: no drop, its own maximum.
    for (const rtt of [1, 2, 3]) window.add(0, rtt, 1, false);
    expect(window.add(0, 6, 4, false)).toEqual({ rtt: 3, inflight: 4, dropped: false });
  });

  it('reports a nearest-rank percentile of the RTTs when asked', () => {
    const p90 = new SampleWindow(0, 0, 0, 10, 0.9);
    const rtts = [7, 3, 10, 1, 9, 2, 8, 4, 6, 5];
    const closed = rtts.map((rtt) => p90.add(0, rtt, 1, false));
    expect(closed.slice(0, 9).every((c) => c === undefined)).toBe(true);
    expect(closed[9]?.rtt).toBe(9);
    const median = new SampleWindow(0, 0, 0, 10, 0.5);
    for (const rtt of rtts.slice(0, 9)) median.add(0, rtt, 1, false);
    expect(median.add(0, 5, 1, false)?.rtt).toBe(5);
  });

  it('keeps a uniform reservoir once a window holds more RTTs than it can keep', () => {
    const window = new SampleWindow(0, 0, 0, 10 * RESERVOIR, 0.5);
    let closed: ReturnType<SampleWindow['add']>;
    for (let i = 1; i <= 10 * RESERVOIR; i++) closed = window.add(0, i, 1, false);
    // The true median is 1280; a uniform sample of 256 lands near it, the first 256 would not.
    expect(closed?.rtt).toBeGreaterThan(1000);
    expect(closed?.rtt).toBeLessThan(1600);
  });

  it('closes on the sample that finds its time up, twice the lowest RTT kept within [minMs, maxMs]', () => {
    const window = new SampleWindow(0, 100, 1000, 1, undefined);
    // Lowest RTT 30: 2 x 30 = 60 is below minMs, so the window spans 100 ms.
    expect(window.add(50, 30, 1, false)).toBeUndefined();
    expect(window.add(99.9, 30, 1, false)).toBeUndefined();
    expect(window.add(100, 30, 1, false)?.rtt).toBe(30);
    // Lowest RTT 300: 600 ms, from the last close at 100.
    expect(window.add(650, 300, 1, false)).toBeUndefined();
    expect(window.add(700, 300, 1, false)?.rtt).toBe(300);
    // Lowest RTT 5000: capped at maxMs.
    expect(window.add(1699, 5000, 1, false)).toBeUndefined();
    expect(window.add(1700, 5000, 1, false)?.rtt).toBe(5000);
  });

  it('stays open until it holds minSamples, however long that takes', () => {
    const window = new SampleWindow(0, 100, 100, 3, undefined);
    expect(window.add(10_000, 10, 1, false)).toBeUndefined();
    expect(window.add(20_000, 10, 1, false)).toBeUndefined();
    expect(window.add(20_000, 40, 1, false)).toEqual({ rtt: 20, inflight: 1, dropped: false });
  });

  it('stays open while a clock that stepped back has not caught up', () => {
    const window = new SampleWindow(1000, 100, 100, 1, undefined);
    expect(window.add(500, 10, 1, false)).toBeUndefined();
    expect(window.add(1099, 10, 1, false)).toBeUndefined();
    expect(window.add(1100, 10, 1, false)?.rtt).toBe(10);
  });

  it('selects the same value as sorting would', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (values, p) => {
          const sorted = [...values].sort((a, b) => a - b);
          const expected = sorted[Math.ceil(p * values.length) - 1];
          return select(Float64Array.from(values), values.length, p) === expected;
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('adaptiveLimit({ window })', () => {
  it('is off by default: every sample moves the algorithm', () => {
    const limit = adaptiveLimit({ algorithm: 'aimd', initial: 10, min: 1, max: 100 });
    expect(limit.windowed).toBe(false);
    limit.sample(5, 10, false);
    limit.sample(5, 10, false);
    expect(limit.current).toBe(12);
  });

  it('backs aimd off once for a burst of drops in one window, once per window after that', async () => {
    const clock = new VirtualClock();
    const limit = adaptiveLimit({
      algorithm: 'aimd',
      initial: 100,
      min: 1,
      max: 200,
      window: true,
      clock,
    });
    expect(limit.windowed).toBe(true);
    const changes: number[] = [];
    limit.on('limitChange', ({ to }) => changes.push(to));
    // A whole round of 100 refused calls comes back within 100 ms.
    for (let i = 0; i < 100; i++) {
      await clock.advance(1);
      limit.sample(1, 100, true);
    }
    expect(changes).toEqual([90]);
    // The next window: healthy calls with the limit in use grow it by 1, once.
    for (let i = 0; i < 100; i++) {
      await clock.advance(1);
      limit.sample(20, 90, false);
    }
    expect(changes).toEqual([90, 91]);
    // Per sample, the same burst would have cut it a hundred times.
    const perSample = adaptiveLimit({ algorithm: 'aimd', initial: 100, min: 1, max: 200 });
    for (let i = 0; i < 100; i++) perSample.sample(1, 100, true);
    expect(perSample.current).toBe(1);
  });

  it('counts each call slower than timeoutMs as a drop of its window, whatever the window mean', () => {
    const clock = new VirtualClock();
    const limit = adaptiveLimit({
      algorithm: 'aimd',
      initial: 50,
      min: 1,
      max: 100,
      timeoutMs: 100,
      window: { minMs: 0, maxMs: 0, minSamples: 10 },
      clock,
    });
    for (let i = 0; i < 9; i++) limit.sample(10, 50, false);
    expect(limit.current).toBe(50);
    limit.sample(150, 50, false); // mean 24 ms, but one call timed out
    expect(limit.current).toBe(45);
  });

  it('closes windows by count alone when maxMs is 0, and by time on the clock otherwise', async () => {
    const counted = adaptiveLimit({
      algorithm: 'aimd',
      initial: 10,
      min: 1,
      max: 100,
      window: { minMs: 0, maxMs: 0, minSamples: 5 },
      clock: new VirtualClock(),
    });
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) {
      counted.sample(5, 10, false);
      seen.push(counted.current);
    }
    expect(seen).toEqual([10, 10, 10, 10, 11, 11, 11, 11, 11, 12, 12, 12]);

    const clock = new VirtualClock();
    const timed = adaptiveLimit({
      algorithm: 'aimd',
      initial: 10,
      min: 1,
      max: 100,
      window: { minMs: 100, maxMs: 1000, minSamples: 1 },
      clock,
    });
    timed.sample(5, 10, false);
    await clock.advance(99);
    timed.sample(5, 10, false);
    expect(timed.current).toBe(10);
    await clock.advance(1);
    timed.sample(5, 10, false);
    expect(timed.current).toBe(11);
    await clock.advance(50);
    timed.sample(5, 10, false);
    expect(timed.current).toBe(11);
  });

  it('feeds vegas the window mean, so a spread of RTTs no longer reads as a queue', () => {
    // In every ten calls one takes 40 ms and nine take 60, all with the limit in use. Per
    // sample, vegas takes 40 as the no-load RTT, reads each 60 as a queue of
    // ceil(20 x 1/3) = 7 > 6 and steps down, more often than the 40s step it up. Windows of ten
    // all report 58 ms: no queue, so it grows.
    const rtts = Array.from({ length: 80 }, (_, i) => (i % 10 === 0 ? 40 : 60));
    const perSample = adaptiveLimit({ algorithm: 'vegas', initial: 20, random: () => 0.99 });
    for (const rtt of rtts) perSample.sample(rtt, perSample.current, false);
    expect(perSample.current).toBeLessThan(20);
    const windowed = adaptiveLimit({
      algorithm: 'vegas',
      initial: 20,
      random: () => 0.99,
      window: { minMs: 0, maxMs: 0, minSamples: 10 },
      clock: new VirtualClock(),
    });
    for (const rtt of rtts) windowed.sample(rtt, windowed.current, false);
    expect(windowed.current).toBeGreaterThan(20);
  });

  it('ignores garbage samples without counting them into a window', () => {
    const limit = adaptiveLimit({
      algorithm: 'aimd',
      initial: 10,
      min: 1,
      max: 100,
      window: { minMs: 0, maxMs: 0, minSamples: 2 },
      clock: new VirtualClock(),
    });
    limit.sample(Number.NaN, 10, true);
    limit.sample(-1, 10, true);
    limit.sample(5, Number.NaN, true);
    limit.sample(5, 10, false);
    expect(limit.current).toBe(10);
    limit.sample(5, 10, false);
    expect(limit.current).toBe(11);
  });

  it('refuses bad window options with a TypeError naming the option', () => {
    const bad =
      (window: unknown, extra: object = {}) =>
      () =>
        adaptiveLimit({ algorithm: 'aimd', window, ...extra } as AdaptiveLimitOptions);
    expect(bad(5)).toThrow(
      'adaptive-limit: option "window" must be a boolean or an object (got 5)',
    );
    expect(bad(null)).toThrow('"window" must be a boolean or an object');
    expect(bad([])).toThrow('"window" must be a boolean or an object');
    expect(bad({ minMs: -1 })).toThrow('option "window.minMs" must be a number of milliseconds');
    expect(bad({ minMs: 200, maxMs: 100 })).toThrow(
      'option "window.maxMs" must be a number of milliseconds >= window.minMs (200) (got 100)',
    );
    expect(bad({ maxMs: Number.POSITIVE_INFINITY })).toThrow('"window.maxMs"');
    expect(bad({ minSamples: 0 })).toThrow('option "window.minSamples" must be an integer >= 1');
    expect(bad({ rtt: 'p90' })).toThrow(
      `option "window.rtt" must be 'average' or a percentile above 0, up to 1 (got "p90")`,
    );
    expect(bad({ rtt: 0 })).toThrow('"window.rtt"');
    expect(bad({ rtt: 1.5 })).toThrow('"window.rtt"');
    expect(bad({ minMS: 5 })).toThrow(
      'option "window.minMS" is not one of minMs, maxMs, minSamples, rtt',
    );
    expect(bad(true, { clock: {} })).toThrow('option "clock" must be a Clock');
    // A minMs above the default maxMs moves the default up with it.
    expect(() => adaptiveLimit({ algorithm: 'aimd', window: { minMs: 5000 } })).not.toThrow();
    expect(() => adaptiveLimit({ algorithm: 'aimd', window: false })).not.toThrow();
  });

  it('does not change the window options object', () => {
    const window = Object.freeze({ minMs: 10 });
    expect(() =>
      adaptiveLimit({ algorithm: 'vegas', window, clock: new VirtualClock() }),
    ).not.toThrow();
  });
});

describe('adaptiveLimit({ window }) properties', () => {
  const rtt = fc.oneof(
    fc.constant(0),
    fc.double({ min: 0, max: 10_000, noNaN: true }),
    fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true }),
    fc.constantFrom(Number.POSITIVE_INFINITY, Number.NaN, -1),
  );
  const sample = fc.tuple(
    rtt,
    fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.constant(Number.NaN)),
    fc.boolean(),
    // How far the clock moves before the sample: sometimes back.
    fc.oneof(fc.double({ min: 0, max: 500, noNaN: true }), fc.constant(-50)),
  );

  it('keeps the limit an integer within [min, max] for any samples, windows and clock', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('aimd', 'gradient2', 'vegas'),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 300 }),
        fc.record({
          minMs: fc.double({ min: 0, max: 200, noNaN: true }),
          extra: fc.double({ min: 0, max: 1000, noNaN: true }),
          minSamples: fc.integer({ min: 1, max: 30 }),
          rtt: fc.oneof(
            fc.constant('average' as const),
            fc.double({ min: 0.01, max: 1, noNaN: true }),
          ),
        }),
        fc.array(sample, { maxLength: 400 }),
        (algorithm, min, span, w, stream) => {
          let now = 1000;
          const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
          const limit = adaptiveLimit({
            algorithm,
            min,
            max: min + span,
            initial: min,
            window: {
              minMs: w.minMs,
              maxMs: w.minMs + w.extra,
              minSamples: w.minSamples,
              rtt: w.rtt,
            },
            clock,
            ...(algorithm === 'vegas' ? { random: () => 0.3 } : {}),
          } as AdaptiveLimitOptions);
          let last = limit.current;
          let ok = true;
          limit.on('limitChange', ({ from, to }) => {
            if (from !== last || to === from) ok = false;
            last = to;
          });
          for (const [r, n, dropped, dt] of stream) {
            now += dt;
            limit.sample(r, n, dropped);
            const c = limit.current;
            if (!Number.isInteger(c) || c < limit.min || c > limit.max) return false;
          }
          return ok && last === limit.current;
        },
      ),
      { numRuns: 300 },
    );
  });
});
