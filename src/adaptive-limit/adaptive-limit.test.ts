import { describe, expect, it } from 'vitest';
import { type AnyTelemetryEvent, telemetry } from '../core/events.js';
import { isConcurrencyLimit } from '../core/limit.js';
import {
  type AdaptiveLimit,
  type AdaptiveLimitEvents,
  type AdaptiveLimitOptions,
  adaptiveLimit,
} from './index.js';

/** Feeds `samples` ([rttMs, inflight, dropped?]) and answers `current` after each one. */
function feed(limit: AdaptiveLimit, samples: readonly [number, number, boolean?][]): number[] {
  return samples.map(([rtt, inflight, dropped]) => {
    limit.sample(rtt, inflight, dropped ?? false);
    return limit.current;
  });
}

describe('adaptiveLimit: aimd', () => {
  it('adds 1 while half the limit is in use, and multiplies by backoffRatio on a drop or a timeout', () => {
    const limit = adaptiveLimit({ algorithm: 'aimd', initial: 10, min: 1, max: 12 });
    expect(
      feed(limit, [
        [5, 5], // 5 * 2 >= 10: 11
        [5, 4], // 4 * 2 < 11: stays
        [5, 6], // 12
        [5, 6], // 13, held at max 12
        [5, 6, true], // drop: floor(12 * 0.9) = 10
        [6000, 1], // rtt > 5000 ms is a timeout: floor(10 * 0.9) = 9
        [5000, 5], // 5000 is not above the timeout: 10
      ]),
    ).toEqual([11, 11, 12, 12, 10, 9, 10]);
  });

  it('never backs off below min, and takes its own backoffRatio and timeoutMs', () => {
    const limit = adaptiveLimit({
      algorithm: 'aimd',
      initial: 8,
      min: 5,
      max: 50,
      backoffRatio: 0.5,
      timeoutMs: 100,
    });
    expect(
      feed(limit, [
        [101, 8],
        [50, 4],
        [1, 1, true],
        [1, 1, true],
      ]),
    ).toEqual([5, 6, 5, 5]);
  });
});

describe('adaptiveLimit: gradient2', () => {
  it('follows the long/short RTT gradient, with tolerance 1.5, smoothing 0.2 and queue size 4', () => {
    const limit = adaptiveLimit({ algorithm: 'gradient2', initial: 20, min: 1, max: 200 });
    expect(
      feed(limit, [
        // long = 10, gradient 1: 0.8 * 20 + 0.2 * (20 + 4) = 20.8
        [10, 20],
        // 0.8 * 20.8 + 0.2 * 24.8 = 21.6
        [10, 20],
        // long = mean(10, 10, 30) = 16.67, gradient = 1.5 * 16.67 / 30 = 0.833:
        // 0.8 * 21.6 + 0.2 * (21.6 * 0.833 + 4) = 21.68
        [30, 21],
        // long = 37.5, gradient 0.5625: 0.8 * 21.68 + 0.2 * (21.68 * 0.5625 + 4) = 20.583
        [100, 21],
        // 5 < 20.58 / 2: application-limited, no change (long = 30.2 > 2 * 1: decays to 28.69)
        [1, 5],
        // long = (10+10+30+100+1+1000) / 6 = 191.8 (the warmup mean ignores the decay),
        // gradient 0.29 held at 0.5: 0.8 * 20.583 + 0.2 * (20.583 * 0.5 + 4) = 19.32
        [1000, 30],
      ]),
    ).toEqual([20, 21, 21, 20, 20, 19]);
  });

  it('averages the long RTT over the window after the 10-sample warmup', () => {
    const limit = adaptiveLimit({ algorithm: 'gradient2', initial: 20, min: 1, max: 200 });
    // Ten samples at 10 ms, each +0.8: 28. Then long = 10 * 599/601 + 20 * 2/601 = 10.033,
    // gradient = 1.5 * 10.033 / 20 = 0.7525: 0.8 * 28 + 0.2 * (28 * 0.7525 + 4) = 27.41.
    const steps = feed(limit, [
      ...Array.from({ length: 10 }, () => [10, 30] as [number, number]),
      [20, 30],
    ]);
    expect(steps).toEqual([20, 21, 22, 23, 24, 24, 25, 26, 27, 28, 27]);
  });
});

describe('adaptiveLimit: vegas', () => {
  it('estimates the queue against the no-load RTT and keeps it between alpha and beta', () => {
    const limit = adaptiveLimit({ algorithm: 'vegas', initial: 20, random: () => 0 });
    expect(
      feed(limit, [
        [10, 20], // the first RTT becomes the no-load RTT: no change
        [10, 20], // queue = ceil(20 * (1 - 10/10)) = 0 <= threshold 1: + beta 6 = 26
        [12.5, 26], // queue = ceil(26 * 0.2) = 6: within [alpha 3, beta 6], no change
        [20, 26], // queue = 13 > 6: - 1 = 25
        [11, 25], // queue = ceil(2.27) = 3: within, no change
        [10.5, 25], // queue = ceil(1.19) = 2 < alpha 3: + 1 = 26
        [20, 5, true], // a drop: - 1 = 25, however few are in flight
        [20, 5], // 5 * 2 < 25: application-limited, no change
        [5, 25], // a lower RTT is the new no-load RTT: no change
        [5, 25], // queue 0: + 6 = 31
      ]),
    ).toEqual([20, 26, 26, 25, 25, 26, 25, 25, 25, 31]);
  });

  it('steps by floor(log10(limit)) above 100, and smooths', () => {
    const limit = adaptiveLimit({
      algorithm: 'vegas',
      initial: 150,
      smoothing: 0.5,
      random: () => 0,
    });
    // queue 0: 150 + 6 * 2 = 162, half of the way: 156. Then queue = ceil(156 * 0.5) = 78 >
    // beta 12: 156 - 2 = 154, half of the way: 155.
    expect(
      feed(limit, [
        [10, 150],
        [10, 150],
        [20, 150],
      ]),
    ).toEqual([150, 156, 155]);
  });

  it('takes a fresh no-load RTT every probeMultiplier * limit * U(0.5, 1) samples', () => {
    // jitter 0.5 + 0.5 * 0 = 0.5: the probe comes when 0.5 * 1 * 4 <= samples since the last.
    const limit = adaptiveLimit({
      algorithm: 'vegas',
      initial: 4,
      probeMultiplier: 1,
      random: () => 0,
    });
    // 1: no-load 10. 2: probe, no-load = 40. 3: queue = ceil(4 * (1 - 40/40)) = 0: + 6 = 10.
    expect(
      feed(limit, [
        [10, 4],
        [40, 4],
        [40, 4],
      ]),
    ).toEqual([4, 4, 10]);
    // Without the probe the no-load RTT stays 10 and 40 ms reads as a queue of 3: no change.
    const steady = adaptiveLimit({ algorithm: 'vegas', initial: 4, random: () => 0 });
    expect(
      feed(steady, [
        [10, 4],
        [40, 4],
        [40, 4],
      ]),
    ).toEqual([4, 4, 4]);
  });
});

describe('adaptiveLimit: options', () => {
  it('has per-algorithm defaults, after Netflix concurrency-limits', () => {
    const pick = (l: AdaptiveLimit) => [l.name, l.algorithm, l.current, l.min, l.max];
    expect(pick(adaptiveLimit({ algorithm: 'aimd' }))).toEqual([
      'adaptive-limit',
      'aimd',
      20,
      20,
      200,
    ]);
    expect(pick(adaptiveLimit({ algorithm: 'gradient2' }))).toEqual([
      'adaptive-limit',
      'gradient2',
      20,
      20,
      200,
    ]);
    expect(pick(adaptiveLimit({ algorithm: 'vegas', name: 'db' }))).toEqual([
      'db',
      'vegas',
      20,
      1,
      1000,
    ]);
    // Only max or min given: the defaults of the others move into [min, max].
    expect(pick(adaptiveLimit({ algorithm: 'aimd', max: 10 })).slice(2)).toEqual([10, 10, 10]);
    expect(pick(adaptiveLimit({ algorithm: 'vegas', min: 50 })).slice(2)).toEqual([50, 50, 1000]);
    expect(isConcurrencyLimit(adaptiveLimit({ algorithm: 'vegas' }))).toBe(true);
  });

  it('refuses bad options with a TypeError naming the option, the value and what it must be', () => {
    const bad = (options: unknown) => () => adaptiveLimit(options as AdaptiveLimitOptions);
    expect(bad(undefined)).toThrow(
      `adaptive-limit: option "algorithm" must be one of 'aimd', 'gradient2', 'vegas' (got undefined)`,
    );
    expect(bad(5)).toThrow('adaptive-limit: options must be an object (got 5)');
    expect(bad({ algorithm: 'cubic' })).toThrow(/"algorithm" must be one of .* \(got "cubic"\)/);
    expect(bad({ algorithm: 'aimd', name: '' })).toThrow(
      'option "name" must be a non-empty string',
    );
    expect(bad({ algorithm: 'aimd', min: 0 })).toThrow(
      'option "min" must be an integer >= 1 (got 0)',
    );
    expect(bad({ algorithm: 'aimd', max: 2.5 })).toThrow(
      'option "max" must be an integer >= 1 (got 2.5)',
    );
    expect(bad({ algorithm: 'aimd', min: 30, max: 20 })).toThrow(
      'option "max" must be an integer >= min (30) (got 20)',
    );
    expect(bad({ algorithm: 'aimd', min: 300 })).toThrow(
      'option "min" must be an integer <= max (200) (got 300)',
    );
    expect(bad({ name: 'db', algorithm: 'aimd', initial: 5 })).toThrow(
      'db: option "initial" must be an integer from min (20) to max (200) (got 5)',
    );
    expect(bad({ algorithm: 'aimd', initial: Number.NaN })).toThrow('"initial" must be an integer');
    expect(bad({ algorithm: 'aimd', backoffRatio: 1 })).toThrow(
      'option "backoffRatio" must be a number from 0.5 up to (not including) 1 (got 1)',
    );
    expect(bad({ algorithm: 'aimd', backoffRatio: 0.4 })).toThrow('"backoffRatio"');
    expect(bad({ algorithm: 'aimd', timeoutMs: 0 })).toThrow(
      'option "timeoutMs" must be a finite number of milliseconds > 0 (got 0)',
    );
    expect(bad({ algorithm: 'aimd', timeoutMs: Number.POSITIVE_INFINITY })).toThrow('"timeoutMs"');
    expect(bad({ algorithm: 'gradient2', smoothing: 0 })).toThrow(
      'option "smoothing" must be a number above 0, up to 1 (got 0)',
    );
    expect(bad({ algorithm: 'gradient2', rttTolerance: 0.9 })).toThrow(
      'option "rttTolerance" must be a finite number >= 1 (got 0.9)',
    );
    expect(bad({ algorithm: 'gradient2', queueSize: -1 })).toThrow(
      '"queueSize" must be an integer >= 0',
    );
    expect(bad({ algorithm: 'gradient2', longWindow: 0 })).toThrow(
      '"longWindow" must be an integer >= 1',
    );
    expect(bad({ algorithm: 'vegas', smoothing: 1.5 })).toThrow('"smoothing"');
    expect(bad({ algorithm: 'vegas', probeMultiplier: 0 })).toThrow(
      '"probeMultiplier" must be an integer >= 1',
    );
    expect(bad({ algorithm: 'vegas', random: 0.5 })).toThrow(
      'option "random" must be a function (got 0.5)',
    );
  });

  it('refuses an option of another algorithm, naming the ones it applies to', () => {
    const bad = (options: unknown) => () => adaptiveLimit(options as AdaptiveLimitOptions);
    expect(bad({ algorithm: 'vegas', timeoutMs: 100 })).toThrow(
      `adaptive-limit: option "timeoutMs" does not apply to algorithm 'vegas', only to 'aimd' (got 100)`,
    );
    expect(bad({ algorithm: 'aimd', smoothing: 0.5 })).toThrow(
      `option "smoothing" does not apply to algorithm 'aimd', only to 'gradient2' and 'vegas' (got 0.5)`,
    );
    expect(bad({ algorithm: 'gradient2', probeMultiplier: 10 })).toThrow(`only to 'vegas'`);
    expect(bad({ algorithm: 'vegas', backoffRatio: 0.8 })).toThrow(`only to 'aimd'`);
    expect(bad({ algorithm: 'aimd', longWindow: 100 })).toThrow(`only to 'gradient2'`);
  });

  it('does not change the options object', () => {
    const options = Object.freeze({ algorithm: 'aimd', max: 10 } as const);
    expect(adaptiveLimit(options).current).toBe(10);
  });
});

describe('adaptiveLimit: samples it cannot use', () => {
  it('ignores NaN and negative RTTs or in-flight counts, and survives 0, Infinity and huge RTTs', () => {
    for (const algorithm of ['aimd', 'gradient2', 'vegas'] as const) {
      const limit = adaptiveLimit({ algorithm, initial: 20, min: 1, max: 100 });
      const events: unknown[] = [];
      limit.on('limitChange', (event) => events.push(event));
      for (const [rtt, inflight] of [
        [Number.NaN, 20],
        [-1, 20],
        [10, Number.NaN],
        [10, -3],
      ]) {
        limit.sample(rtt as number, inflight as number, true);
      }
      expect([limit.current, events]).toEqual([20, []]);
      for (const rtt of [0, 0, Number.POSITIVE_INFINITY, 1e300, Number.MAX_VALUE, 0, 5e-324, 10]) {
        limit.sample(rtt, 20, false);
        expect(Number.isInteger(limit.current)).toBe(true);
        expect(limit.current).toBeGreaterThanOrEqual(1);
        expect(limit.current).toBeLessThanOrEqual(100);
      }
    }
  });

  it('counts an infinite RTT as a timeout under aimd', () => {
    const limit = adaptiveLimit({ algorithm: 'aimd', initial: 50, min: 1, max: 100 });
    limit.sample(Number.POSITIVE_INFINITY, 1, false);
    expect(limit.current).toBe(45);
  });
});

describe('adaptiveLimit: events', () => {
  it('emits limitChange with from, to and algorithm when the integer limit moves, and only then', () => {
    const limit = adaptiveLimit({
      algorithm: 'gradient2',
      initial: 20,
      min: 1,
      max: 200,
      name: 'db',
    });
    const seen: AdaptiveLimitEvents['limitChange'][] = [];
    const off = limit.on('limitChange', (event) => seen.push(event));
    feed(limit, [
      [10, 20],
      [10, 20],
      [10, 20],
    ]); // 20.8, 21.6, 22.4
    expect(seen).toEqual([
      { from: 20, to: 21, algorithm: 'gradient2' },
      { from: 21, to: 22, algorithm: 'gradient2' },
    ]);
    off();
    off();
    feed(limit, [[10, 30]]);
    expect(seen).toHaveLength(2);
    expect(() => limit.on('limitChange', 5 as never)).toThrow(TypeError);
  });

  it("reaches the telemetry bus as kind 'adaptive-limit', under its name", () => {
    const limit = adaptiveLimit({ algorithm: 'aimd', name: 'payments-limit', initial: 20 });
    const seen: AnyTelemetryEvent[] = [];
    const off = telemetry.subscribe((event) => seen.push(event));
    try {
      limit.sample(5, 20, false);
    } finally {
      off();
    }
    expect(seen).toEqual([
      {
        policy: 'payments-limit',
        kind: 'adaptive-limit',
        type: 'limitChange',
        detail: { from: 20, to: 21, algorithm: 'aimd' },
      },
    ]);
  });
});
