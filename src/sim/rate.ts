import { invalid } from '../core/validate.js';

/**
 * Offered load over time, in calls per second: piecewise constant or piecewise linear between
 * points, and constant after the last one. Arrivals are placed by inverting its integral, so a
 * ramp or a step is followed exactly, by Poisson arrivals as well as by evenly spaced ones.
 */
export class RateSchedule {
  /** Segment start times (ms), first one 0. */
  readonly #at: Float64Array;
  /** Rate at each segment's start, in calls per ms. */
  readonly #rate: Float64Array;
  /** Change of rate per ms within each segment (0 for steps and the last segment). */
  readonly #slope: Float64Array;
  /** Expected arrivals before each segment starts. */
  readonly #before: Float64Array;
  readonly label: string;

  constructor(points: readonly RatePoint[], linear: boolean, label: string) {
    const n = points.length;
    this.#at = new Float64Array(n);
    this.#rate = new Float64Array(n);
    this.#slope = new Float64Array(n);
    this.#before = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const point = points[i]!;
      this.#at[i] = point.atMs;
      this.#rate[i] = point.rps / 1000;
      if (i > 0) {
        const length = this.#at[i]! - this.#at[i - 1]!;
        this.#before[i] =
          this.#before[i - 1]! +
          this.#rate[i - 1]! * length +
          (this.#slope[i - 1]! * length ** 2) / 2;
      }
      if (linear && i + 1 < n) {
        const next = points[i + 1]!;
        const length = next.atMs - point.atMs;
        this.#slope[i] = length > 0 ? (next.rps - point.rps) / 1000 / length : 0;
      }
    }
    this.label = label;
  }

  /** The rate at `ms`, in calls per second. */
  rpsAt(ms: number): number {
    const i = this.#segment(ms, 0);
    return (this.#rate[i]! + this.#slope[i]! * (ms - this.#at[i]!)) * 1000;
  }

  /** Expected arrivals in [0, ms). */
  expectedBefore(ms: number): number {
    const i = this.#segment(ms, 0);
    const x = ms - this.#at[i]!;
    return this.#before[i]! + this.#rate[i]! * x + (this.#slope[i]! * x * x) / 2;
  }

  /**
   * The time at which `expected` arrivals are expected, searching from segment `from` on (the
   * caller keeps it, as its times only grow); Infinity when the rate drops to 0 for good.
   * Returns the segment in `cursor[0]`.
   */
  timeOf(expected: number, cursor: [number]): number {
    const n = this.#at.length;
    for (let i = cursor[0]; i < n; i++) {
      const end = i + 1 < n ? this.#at[i + 1]! : Number.POSITIVE_INFINITY;
      const d = expected - this.#before[i]!;
      const a = this.#rate[i]!;
      const s = this.#slope[i]!;
      // The root of a*x + s*x^2/2 = d written so that it stays exact when s is 0 or tiny.
      let x: number;
      if (d <= 0) x = 0;
      else if (a > 0) x = (2 * d) / (a + Math.sqrt(Math.max(0, a * a + 2 * s * d)));
      else x = s > 0 ? Math.sqrt((2 * d) / s) : Number.POSITIVE_INFINITY;
      if (this.#at[i]! + x <= end) {
        cursor[0] = i;
        return this.#at[i]! + x;
      }
    }
    return Number.POSITIVE_INFINITY;
  }

  #segment(ms: number, from: number): number {
    let i = from;
    while (i + 1 < this.#at.length && this.#at[i + 1]! <= ms) i++;
    return i;
  }
}

/** A point of a rate schedule: from `atMs` on (ms from the start), `rps` calls per second. */
export interface RatePoint {
  readonly atMs: number;
  readonly rps: number;
}

function checkPoints(name: string, points: unknown): RatePoint[] {
  const ok =
    Array.isArray(points) &&
    points.length > 0 &&
    points.every(
      (p, i) =>
        typeof p === 'object' &&
        p !== null &&
        typeof p.atMs === 'number' &&
        Number.isFinite(p.atMs) &&
        p.atMs >= 0 &&
        (i === 0 || p.atMs >= points[i - 1].atMs) &&
        typeof p.rps === 'number' &&
        Number.isFinite(p.rps) &&
        p.rps >= 0,
    );
  if (!ok) {
    throw invalid(
      name,
      'points',
      points,
      'a non-empty array of { atMs, rps } with finite atMs >= 0 in order and finite rps >= 0',
    );
  }
  const list = points as RatePoint[];
  return list[0]!.atMs === 0 ? list : [{ atMs: 0, rps: 0 }, ...list];
}

/** Builders of offered-load schedules. */
export const rate = {
  /** `rps` calls per second throughout. */
  constant(rps: number): RateSchedule {
    if (typeof rps !== 'number' || !Number.isFinite(rps) || rps < 0) {
      throw invalid('rate.constant', 'rps', rps, 'a finite number >= 0');
    }
    return new RateSchedule([{ atMs: 0, rps }], false, `${rps}/s`);
  },
  /** Steps: each point's rate holds until the next point (0 before the first). */
  steps(points: readonly RatePoint[]): RateSchedule {
    const list = checkPoints('rate.steps', points);
    return new RateSchedule(list, false, `steps(${list.map((p) => p.rps).join(' > ')}/s)`);
  },
  /** Straight lines between the points (0 before the first), constant after the last. */
  linear(points: readonly RatePoint[]): RateSchedule {
    const list = checkPoints('rate.linear', points);
    return new RateSchedule(list, true, `linear(${list.map((p) => p.rps).join(' > ')}/s)`);
  },
  /** From `fromRps` at `startMs` (default 0) to `toRps` over `durationMs`, then `toRps`. */
  ramp(options: {
    fromRps: number;
    toRps: number;
    durationMs: number;
    startMs?: number;
  }): RateSchedule {
    const { fromRps, toRps, durationMs, startMs = 0 } = options ?? ({} as never);
    if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || !(durationMs > 0)) {
      throw invalid('rate.ramp', 'durationMs', durationMs, 'a finite number of milliseconds > 0');
    }
    for (const [option, value] of [
      ['fromRps', fromRps],
      ['toRps', toRps],
      ['startMs', startMs],
    ] as const) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw invalid('rate.ramp', option, value, 'a finite number >= 0');
      }
    }
    const points = [
      { atMs: 0, rps: fromRps },
      { atMs: startMs, rps: fromRps },
      { atMs: startMs + durationMs, rps: toRps },
    ];
    return new RateSchedule(points, true, `ramp(${fromRps} > ${toRps}/s)`);
  },
};
