import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closedLoop, createRandom, latency, openLoop, rate } from './index.js';
import { pick } from './load.js';
import { streamOf } from './random.js';

describe('createRandom', () => {
  it('repeats its sequence for a seed, stays in [0, 1), and differs between seeds', () => {
    const a = createRandom(7);
    const b = createRandom(7);
    const c = createRandom(8);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs.slice(0, 5));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((sum, x) => sum + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    // Ten equal bins, each near a tenth.
    const bins = new Array(10).fill(0);
    for (const x of xs) bins[Math.floor(x * 10)]++;
    expect(Math.min(...bins)).toBeGreaterThan(900);
    expect(Math.max(...bins)).toBeLessThan(1100);
  });

  it('gives independent streams of one seed', () => {
    expect(streamOf(1, 1)()).not.toBe(streamOf(1, 2)());
    expect(streamOf(1, 1)()).toBe(streamOf(1, 1)());
    expect(() => createRandom(Number.NaN)).toThrow(
      'createRandom: seed must be a finite number (got NaN)',
    );
  });
});

function quantile(sorted: number[], q: number): number {
  return sorted[Math.ceil(q * sorted.length) - 1]!;
}

describe('latency', () => {
  const draw = (n: number, sample: (r: () => number) => number): number[] => {
    const random = createRandom(3);
    return Array.from({ length: n }, () => sample(random)).sort((x, y) => x - y);
  };

  it('logNormal has the given median and p99, and its mean', () => {
    const d = latency.logNormal({ medianMs: 20, p99Ms: 100 });
    const xs = draw(100_000, d.sample);
    expect(quantile(xs, 0.5)).toBeGreaterThan(19.6);
    expect(quantile(xs, 0.5)).toBeLessThan(20.4);
    expect(quantile(xs, 0.99)).toBeGreaterThan(95);
    expect(quantile(xs, 0.99)).toBeLessThan(105);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - d.meanMs) / d.meanMs).toBeLessThan(0.02);
  });

  it('exponential has its mean, constant its value, empirical only its samples', () => {
    const e = latency.exponential({ meanMs: 10 });
    const xs = draw(100_000, e.sample);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(9.8);
    expect(mean).toBeLessThan(10.2);
    expect(latency.constant(7).sample(Math.random)).toBe(7);
    const emp = latency.empirical([1, 2, 30]);
    expect(emp.meanMs).toBe(11);
    expect(new Set(draw(1_000, emp.sample))).toEqual(new Set([1, 2, 30]));
  });

  it('refuses bad parameters', () => {
    expect(() => latency.constant(-1)).toThrow(
      'latency.constant: option "ms" must be a finite number of milliseconds >= 0 (got -1)',
    );
    expect(() => latency.logNormal({ medianMs: 20, p99Ms: 10 })).toThrow(
      'latency.logNormal: option "p99Ms" must be a finite number of milliseconds > 20 (got 10)',
    );
    expect(() => latency.exponential({ meanMs: 0 })).toThrow(
      'latency.exponential: option "meanMs"',
    );
    expect(() => latency.empirical([])).toThrow('latency.empirical: option "samplesMs"');
  });
});

describe('rate', () => {
  it('places arrivals by inverting the expected count, for steps and ramps', () => {
    const steps = rate.steps([
      { atMs: 0, rps: 100 },
      { atMs: 1_000, rps: 0 },
      { atMs: 2_000, rps: 300 },
    ]);
    expect(steps.expectedBefore(1_000)).toBe(100);
    expect(steps.expectedBefore(2_500)).toBe(250);
    expect(steps.timeOf(100.5, [0])).toBeCloseTo(2_000 + 500 / 300, 9);
    const ramp = rate.ramp({ fromRps: 0, toRps: 1_000, durationMs: 1_000 });
    // Half a second into a ramp from 0 to 1000/s: 125 expected arrivals.
    expect(ramp.expectedBefore(500)).toBeCloseTo(125, 9);
    expect(ramp.timeOf(125, [0])).toBeCloseTo(500, 9);
    expect(ramp.rpsAt(2_000)).toBe(1_000);
    expect(rate.constant(0).timeOf(1, [0])).toBe(Number.POSITIVE_INFINITY);
  });

  it('timeOf inverts expectedBefore for any piecewise-linear schedule', () => {
    const point = fc.record({
      gap: fc.integer({ min: 0, max: 5_000 }),
      rps: fc.integer({ min: 0, max: 2_000 }),
    });
    fc.assert(
      fc.property(
        fc.array(point, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (raw, linear, share) => {
          let at = 0;
          const points = raw.map(({ gap, rps }) => {
            at += gap;
            return { atMs: at, rps };
          });
          points.push({ atMs: at + 1_000, rps: 1_000 });
          const schedule = linear ? rate.linear(points) : rate.steps(points);
          const expected = share * schedule.expectedBefore(at + 5_000);
          const t = schedule.timeOf(expected, [0]);
          expect(schedule.expectedBefore(t)).toBeCloseTo(expected, 6);
        },
      ),
    );
  });

  it('refuses bad schedules', () => {
    expect(() =>
      rate.steps([
        { atMs: 5, rps: 1 },
        { atMs: 1, rps: 1 },
      ]),
    ).toThrow('rate.steps: option "points" must be a non-empty array of { atMs, rps }');
    expect(() => rate.ramp({ fromRps: -1, toRps: 1, durationMs: 1 })).toThrow(
      'rate.ramp: option "fromRps" must be a finite number >= 0 (got -1)',
    );
    expect(() => rate.constant(Number.NaN)).toThrow('rate.constant: option "rps"');
  });
});

describe('loads', () => {
  it('picks from a weighted mix in a fixed order', () => {
    const load = openLoop({ rps: 10, priorities: { sheddable: 3, critical: 1 } });
    const mix = load.priorities!;
    expect(mix.values).toEqual(['critical', 'sheddable']);
    expect(pick(mix, 0)).toBe('critical');
    expect(pick(mix, 0.2499)).toBe('critical');
    expect(pick(mix, 0.25)).toBe('sheddable');
    expect(pick(mix, 0.9999)).toBe('sheddable');
  });

  it('refuses bad options', () => {
    expect(() => openLoop({ rps: -1 })).toThrow('rate.constant: option "rps"');
    expect(() => openLoop({ rps: 1, priorities: { urgent: 1 } as never })).toThrow(
      'openLoop: option "priorities" must be an object of keys among critical-plus, critical, sheddable-plus, sheddable to weights >= 0, one of them > 0',
    );
    expect(() => openLoop({ rps: 1, arrivals: 'bursty' as never })).toThrow(
      `openLoop: option "arrivals" must be 'poisson' or 'uniform' (got "bursty")`,
    );
    expect(() => closedLoop({ clients: 0 })).toThrow(
      'closedLoop: option "clients" must be an integer >= 1 (got 0)',
    );
    expect(() => closedLoop({ clients: 1, thinkTime: -5 })).toThrow(
      'closedLoop: option "thinkTime" must be a number of milliseconds >= 0 or a distribution from latency (got -5)',
    );
    expect(() => openLoop({ rps: 1, keys: { a: 0 } })).toThrow('openLoop: option "keys"');
  });
});
