import { type Clock, systemClock } from '../core/clock.js';
import { type Disposer, type Listener, PolicyEvents } from '../core/events.js';
import { type GaugeSink, readGauges, registerGauges } from '../core/gauges.js';
import type { ConcurrencyLimit } from '../core/limit.js';
import { describe } from '../core/policy.js';
import {
  checkClock,
  checkFunction,
  checkInteger,
  checkMs,
  checkOneOf,
  checkOptions,
  invalid,
} from '../core/validate.js';
import { Aimd, Gradient2, type Rule, Vegas } from './algorithms.js';
import { SampleWindow } from './window.js';

/** The update rules on offer, after Netflix concurrency-limits. */
export type AdaptiveAlgorithm = 'aimd' | 'gradient2' | 'vegas';

export const adaptiveAlgorithms: readonly AdaptiveAlgorithm[] = ['aimd', 'gradient2', 'vegas'];

interface CommonOptions {
  /** Labels the limit's events on the telemetry bus. Default: 'adaptive-limit'. */
  name?: string;
  /**
   * The limit to start from: an integer within [min, max]. Default: 20 (clamped into
   * [min, max] when only those are given).
   */
  initial?: number;
  /** The lowest the limit goes: an integer >= 1. Default: 20 for aimd and gradient2, 1 for vegas. */
  min?: number;
  /** The highest the limit goes: an integer >= min. Default: 200 for aimd and gradient2, 1000 for vegas. */
  max?: number;
  /**
   * Feed the algorithm one aggregate sample per window of calls instead of one per call, as
   * Netflix's WindowedLimit does: `true` for the defaults, an object to tune them, `false` for
   * one update per call. Default: false.
   */
  window?: boolean | AdaptiveWindowOptions;
  /**
   * Where a window's time comes from; give it the same clock as the bulkhead or load shedder
   * that feeds the limit (a `VirtualClock` in tests). Read only with `window`. Default: the
   * system clock.
   */
  clock?: Clock;
}

/** How samples are gathered into windows (see `AdaptiveLimitOptions.window`). */
export interface AdaptiveWindowOptions {
  /**
   * A window spans twice the lowest RTT in it (about one round trip), but at least this many
   * milliseconds: a number >= 0. Default: 100.
   */
  minMs?: number;
  /** ... and at most this many milliseconds: a number >= minMs. Default: 1000. */
  maxMs?: number;
  /**
   * A window closes only once it holds this many samples, however long that takes: an
   * integer >= 1. Default: 10.
   */
  minSamples?: number;
  /**
   * The RTT a window reports: `'average'` (the mean) or a percentile in (0, 1], such as 0.9,
   * taken over up to 256 of the window's RTTs chosen uniformly. Default: 'average'.
   */
  rtt?: 'average' | number;
}

export interface AimdOptions extends CommonOptions {
  algorithm: 'aimd';
  /** What the limit is multiplied by on a drop or a timeout: in [0.5, 1). Default: 0.9. */
  backoffRatio?: number;
  /**
   * A call that ran longer than this many milliseconds counts as a drop, even if it
   * succeeded: a finite number > 0. Default: 5000.
   */
  timeoutMs?: number;
}

export interface Gradient2Options extends CommonOptions {
  algorithm: 'gradient2';
  /** How much of each new estimate the limit takes: in (0, 1]. Default: 0.2. */
  smoothing?: number;
  /**
   * How far the latest RTT may rise above the long-run average before the limit shrinks:
   * a number >= 1. Default: 1.5.
   */
  rttTolerance?: number;
  /** What the limit may grow by per step while latency holds: an integer >= 0. Default: 4. */
  queueSize?: number;
  /** Samples the long-run RTT average spans: an integer >= 1. Default: 600. */
  longWindow?: number;
}

export interface VegasOptions extends CommonOptions {
  algorithm: 'vegas';
  /** How much of each new estimate the limit takes: in (0, 1]. Default: 1. */
  smoothing?: number;
  /**
   * The no-load RTT is measured afresh every `probeMultiplier * limit` samples, times a
   * random factor in [0.5, 1): an integer >= 1. Default: 30.
   */
  probeMultiplier?: number;
  /** The source of that random factor, returning numbers in [0, 1). Default: Math.random. */
  random?: () => number;
}

export type AdaptiveLimitOptions = AimdOptions | Gradient2Options | VegasOptions;

export interface AdaptiveLimitEvents {
  /** The integer limit moved. */
  limitChange: {
    readonly from: number;
    readonly to: number;
    readonly algorithm: AdaptiveAlgorithm;
  };
}

/** Each algorithm's own options and its defaults for the shared ones. */
const specific: Record<AdaptiveAlgorithm, readonly string[]> = {
  aimd: ['backoffRatio', 'timeoutMs'],
  gradient2: ['smoothing', 'rttTolerance', 'queueSize', 'longWindow'],
  vegas: ['smoothing', 'probeMultiplier', 'random'],
};
const allSpecific = [...new Set(Object.values(specific).flat())];
const defaults: Record<AdaptiveAlgorithm, { initial: number; min: number; max: number }> = {
  aimd: { initial: 20, min: 20, max: 200 },
  gradient2: { initial: 20, min: 20, max: 200 },
  vegas: { initial: 20, min: 1, max: 1000 },
};

/** RTTs above this (about 31 years) are taken as this, so no average can overflow. */
const MAX_RTT_MS = 1e12;
/** RTTs below this (one nanosecond, the resolution of Netflix's clocks) are taken as this. */
const MIN_RTT_MS = 1e-6;

const KIND = 'adaptive-limit';

/**
 * A concurrency limit that learns from the calls it limits. Give it to `bulkhead({ limit })`
 * (or a load shedder) in place of a fixed number.
 */
export class AdaptiveLimit implements ConcurrencyLimit {
  readonly name: string;
  readonly algorithm: AdaptiveAlgorithm;
  readonly min: number;
  readonly max: number;
  readonly #rule: Rule;
  readonly #events: PolicyEvents<AdaptiveLimitEvents>;
  readonly #window: SampleWindow | undefined;
  readonly #clock: Clock;
  /** AIMD counts a call slower than its timeoutMs as a drop; the others never do. */
  readonly #slowMs: number;
  #current: number;

  constructor(options: AdaptiveLimitOptions) {
    const opts = checkOptions<AdaptiveLimitOptions>(KIND, options) as Record<string, unknown>;
    const name = opts.name;
    if (name !== undefined && (typeof name !== 'string' || name === '')) {
      throw invalid(KIND, 'name', name, 'a non-empty string');
    }
    this.name = name ?? KIND;
    const algorithm = checkOneOf(this.name, 'algorithm', opts.algorithm, adaptiveAlgorithms);
    this.algorithm = algorithm;
    for (const option of allSpecific) {
      if (opts[option] !== undefined && !specific[algorithm].includes(option)) {
        const owners = adaptiveAlgorithms.filter((a) => specific[a].includes(option));
        throw new TypeError(
          `${this.name}: option "${option}" does not apply to algorithm '${algorithm}', only to ${owners.map((a) => `'${a}'`).join(' and ')} (got ${describe(opts[option])})`,
        );
      }
    }
    const d = defaults[algorithm];
    const maxGiven = opts.max !== undefined;
    const max = maxGiven ? checkInteger(this.name, 'max', opts.max, 1) : d.max;
    const min =
      opts.min !== undefined ? checkInteger(this.name, 'min', opts.min, 1) : Math.min(d.min, max);
    if (min > max) {
      if (maxGiven) throw invalid(this.name, 'max', max, `an integer >= min (${min})`);
      throw invalid(this.name, 'min', min, `an integer <= max (${max})`);
    }
    const initial =
      opts.initial !== undefined
        ? checkInteger(this.name, 'initial', opts.initial, 1)
        : Math.min(max, Math.max(min, d.initial));
    if (initial < min || initial > max) {
      throw invalid(this.name, 'initial', initial, `an integer from min (${min}) to max (${max})`);
    }
    this.min = min;
    this.max = max;
    this.#current = initial;
    this.#rule = makeRule(this.name, algorithm, opts, initial, min, max);
    this.#slowMs =
      algorithm === 'aimd' ? ((opts.timeoutMs as number | undefined) ?? 5000) : Infinity;
    this.#clock = checkClock(this.name, opts.clock, systemClock);
    this.#window = makeWindow(this.name, opts.window, this.#clock);
    this.#events = new PolicyEvents<AdaptiveLimitEvents>(this.name, KIND);
    registerGauges(this);
  }

  /** @internal */
  [readGauges](sink: GaugeSink): void {
    sink.value(this.name, KIND, 'limit', this.#current);
  }

  /** The limit now: an integer within [min, max]. */
  get current(): number {
    return this.#current;
  }

  /** Whether samples are gathered into windows (the `window` option). */
  get windowed(): boolean {
    return this.#window !== undefined;
  }

  /**
   * Reports one call. A sample whose `rttMs` or `inflight` is not a number >= 0 (NaN, a
   * negative duration from a clock that stepped back) is ignored; RTTs are taken within
   * [1 ns, 1e12 ms]. With `window`, the algorithm moves only on the sample that closes one.
   */
  sample(rttMs: number, inflight: number, dropped: boolean): void {
    if (!(rttMs >= 0) || !(inflight >= 0)) return;
    let rtt = rttMs < MIN_RTT_MS ? MIN_RTT_MS : rttMs > MAX_RTT_MS ? MAX_RTT_MS : rttMs;
    let n = inflight;
    let drop = dropped === true;
    const win = this.#window;
    if (win !== undefined) {
      const closed = win.add(this.#clock.now(), rtt, inflight, drop || rtt > this.#slowMs);
      if (closed === undefined) return;
      rtt = closed.rtt;
      n = closed.inflight;
      drop = closed.dropped;
    }
    const estimate = this.#rule.update(rtt, n, drop);
    const next = Math.min(this.max, Math.max(this.min, Math.floor(estimate)));
    if (next === this.#current || !(next >= this.min)) return;
    const from = this.#current;
    this.#current = next;
    if (this.#events.enabled) {
      this.#events.emit('limitChange', { from, to: next, algorithm: this.algorithm });
    }
  }

  /** Subscribes to one of the limit's events; returns the function that unsubscribes. */
  on<K extends keyof AdaptiveLimitEvents & string>(
    type: K,
    listener: Listener<AdaptiveLimitEvents[K]>,
  ): Disposer {
    return this.#events.on(type, listener);
  }
}

function makeRule(
  name: string,
  algorithm: AdaptiveAlgorithm,
  opts: Record<string, unknown>,
  initial: number,
  min: number,
  max: number,
): Rule {
  switch (algorithm) {
    case 'aimd': {
      const ratio = opts.backoffRatio ?? 0.9;
      if (typeof ratio !== 'number' || !(ratio >= 0.5 && ratio < 1)) {
        throw invalid(name, 'backoffRatio', ratio, 'a number from 0.5 up to (not including) 1');
      }
      const timeoutMs = opts.timeoutMs ?? 5000;
      if (typeof timeoutMs !== 'number' || !(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
        throw invalid(name, 'timeoutMs', timeoutMs, 'a finite number of milliseconds > 0');
      }
      return new Aimd(initial, min, max, ratio, timeoutMs);
    }
    case 'gradient2': {
      const smoothing = checkSmoothing(name, opts.smoothing ?? 0.2);
      const tolerance = opts.rttTolerance ?? 1.5;
      if (typeof tolerance !== 'number' || !(tolerance >= 1 && Number.isFinite(tolerance))) {
        throw invalid(name, 'rttTolerance', tolerance, 'a finite number >= 1');
      }
      const queueSize = checkInteger(name, 'queueSize', opts.queueSize ?? 4, 0);
      const longWindow = checkInteger(name, 'longWindow', opts.longWindow ?? 600, 1);
      return new Gradient2(initial, min, max, smoothing, tolerance, queueSize, longWindow);
    }
    case 'vegas': {
      const smoothing = checkSmoothing(name, opts.smoothing ?? 1);
      const probe = checkInteger(name, 'probeMultiplier', opts.probeMultiplier ?? 30, 1);
      const random = checkFunction<() => number>(name, 'random', opts.random ?? Math.random);
      return new Vegas(initial, min, max, smoothing, probe, random);
    }
  }
}

const WINDOW_OPTIONS = ['minMs', 'maxMs', 'minSamples', 'rtt'];

function makeWindow(name: string, value: unknown, clock: Clock): SampleWindow | undefined {
  if (value === undefined || value === false) return undefined;
  const o = (value === true ? {} : value) as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw invalid(name, 'window', value, 'a boolean or an object');
  }
  for (const key of Object.keys(o)) {
    if (!WINDOW_OPTIONS.includes(key) && o[key] !== undefined) {
      throw new TypeError(
        `${name}: option "window.${key}" is not one of ${WINDOW_OPTIONS.join(', ')} (got ${describe(o[key])})`,
      );
    }
  }
  const minMs = checkMs(name, 'window.minMs', o.minMs ?? 100);
  const maxMs = o.maxMs ?? Math.max(1000, minMs);
  if (typeof maxMs !== 'number' || !(maxMs >= minMs && Number.isFinite(maxMs))) {
    throw invalid(
      name,
      'window.maxMs',
      maxMs,
      `a number of milliseconds >= window.minMs (${minMs})`,
    );
  }
  const minSamples = checkInteger(name, 'window.minSamples', o.minSamples ?? 10, 1);
  const rtt = o.rtt ?? 'average';
  if (rtt !== 'average' && (typeof rtt !== 'number' || !(rtt > 0 && rtt <= 1))) {
    throw invalid(name, 'window.rtt', rtt, "'average' or a percentile above 0, up to 1");
  }
  return new SampleWindow(
    clock.now(),
    minMs,
    maxMs,
    minSamples,
    rtt === 'average' ? undefined : (rtt as number),
  );
}

function checkSmoothing(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw invalid(name, 'smoothing', value, 'a number above 0, up to 1');
  }
  return value;
}

/**
 * A concurrency limit that adapts to the latency and drops of the calls it limits, by one of
 * Netflix concurrency-limits' algorithms: `bulkhead({ limit: adaptiveLimit({ algorithm:
 * 'gradient2' }) })`.
 */
export function adaptiveLimit(options: AdaptiveLimitOptions): AdaptiveLimit {
  return new AdaptiveLimit(options);
}
