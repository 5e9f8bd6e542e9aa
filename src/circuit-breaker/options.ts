import { type Clock, systemClock } from '../core/clock.js';
import type { ExecutionContext } from '../core/context.js';
import type { Outcome } from '../core/outcome.js';
import type { PolicyOptions } from '../core/policy.js';
import { checkFunction, checkInteger, checkMs, checkOneOf, invalid } from '../core/validate.js';
import type { CircuitBreakerSnapshot } from './snapshot.js';

export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

/**
 * How the breaker acts on its state: 'enforcing' refuses calls; 'metrics-only' runs its state
 * machine and emits its events but never refuses; 'disabled' (set by `disable()`) lets every
 * call through and counts nothing.
 */
export type CircuitBreakerMode = 'enforcing' | 'metrics-only' | 'disabled';

/** A sliding window of recent calls, over which the failure and slow-call rates are taken. */
export type WindowOptions =
  /** The last `size` calls. */
  | { readonly type: 'count'; readonly size: number }
  /** The calls of the last `ms` milliseconds, kept in `buckets` buckets (default 10). */
  | { readonly type: 'time'; readonly ms: number; readonly buckets?: number };

export interface SlowCallOptions {
  /** A call taking at least this many milliseconds is slow. Required, > 0. */
  readonly ms: number;
  /** Opens when the share of slow calls in the window reaches this (0 < rate <= 1). Required. */
  readonly rate: number;
}

export interface HalfOpenOptions {
  /**
   * Without `failureRate`: probe calls admitted at a time, and successes needed to close. With
   * it: probe calls admitted in all, whose failure rate decides. Default 1.
   */
  readonly probes?: number;
  /** A probe running longer than this counts as failed. Default 60_000. */
  readonly maxMs?: number;
  /**
   * Judge the half-open period by a rate: admit `probes` probes, then close if
   * failures / probes < this, else reopen, deciding as soon as the outcome is certain
   * (0 < rate <= 1). Default: off, so any probe failure reopens and `probes` successes close.
   */
  readonly failureRate?: number;
}

export interface CircuitBreakerOptions<T = unknown> extends PolicyOptions {
  /** Opens after this many failures in a row (integer >= 1). Exclusive with `window`. */
  consecutiveFailures?: number;
  /**
   * Opens on the failure (or slow-call) rate over this window. Exclusive with
   * `consecutiveFailures`.
   */
  window?: WindowOptions;
  /** With `window`: opens when failures / calls >= this (0 < rate <= 1). Default 0.5. */
  failureRate?: number;
  /**
   * With `window`: no rate opens the breaker before this many calls are in the window.
   * Default: the size of a count window, 20 for a time window.
   */
  minimumCalls?: number;
  /** With `window`: also open when too many calls are slow. Default: off. */
  slowCall?: SlowCallOptions;
  /**
   * How long the breaker stays open: milliseconds, or a function of how many times it has
   * opened in a row without closing (1, 2, ...). Default 30_000.
   */
  breakDurationMs?: number | ((consecutiveOpens: number) => number);
  /** How the breaker probes after a break. Default `{ probes: 1, maxMs: 60_000 }`. */
  halfOpen?: HalfOpenOptions;
  /**
   * Decides whether an outcome is a failure. Default: every error is; values are not; for a
   * call made with `classify`, what it answers ('retryable' and 'failure' are failures).
   */
  failureOn?: (outcome: Outcome<T>, context: ExecutionContext) => boolean;
  /** A snapshot from `toJSON()` to start from, e.g. saved before a restart. Default: closed. */
  initialState?: CircuitBreakerSnapshot;
  /**
   * 'enforcing' refuses calls while open; 'metrics-only' runs the same state machine and emits
   * the same events, but runs every call (a `rejected` event with `enforced: false` says which
   * would have been refused), for rolling a breaker out safely. Default 'enforcing'.
   */
  mode?: 'enforcing' | 'metrics-only';
}

/** The opening rule, as the breaker state evaluates it. */
export interface Rule {
  /** Failures in a row that open the breaker; 0 when a window decides instead. */
  readonly consecutiveFailures: number;
  readonly window: WindowOptions | undefined;
  readonly failureRate: number;
  readonly minimumCalls: number;
  /** Infinity when slow calls are not tracked. */
  readonly slowMs: number;
  /** Infinity when slow calls are not tracked. */
  readonly slowRate: number;
}

export interface Settings extends Rule {
  readonly breakDurationMs: number | ((consecutiveOpens: number) => number);
  readonly probes: number;
  readonly maxMs: number;
  /** Undefined when any probe failure reopens. */
  readonly halfOpenFailureRate: number | undefined;
  /** False in metrics-only mode. */
  readonly enforcing: boolean;
  readonly failureOn: ((outcome: Outcome, context: ExecutionContext) => boolean) | undefined;
  readonly clock: Clock;
  /** Whether a call needs the clock when it settles: time window or slow-call tracking. */
  readonly timed: boolean;
}

export const DEFAULT_BREAK_MS = 30_000;
const DEFAULT_FAILURE_RATE = 0.5;
const DEFAULT_TIME_MINIMUM_CALLS = 20;
const DEFAULT_BUCKETS = 10;
const DEFAULT_PROBES = 1;
const DEFAULT_PROBE_MAX_MS = 60_000;

/** A plain object (not null, not an array). */
export function checkObject(
  policy: string,
  option: string,
  value: unknown,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(policy, option, value, 'an object');
  }
  return value as Record<string, unknown>;
}

function checkRate(policy: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw invalid(policy, option, value, 'a number greater than 0 and at most 1');
  }
  return value;
}

function checkPositiveMs(policy: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw invalid(policy, option, value, 'a finite number of milliseconds > 0');
  }
  return value;
}

/** Largest count window: about 530 KB of outcome words, far past any useful rate. */
export const MAX_WINDOW_SIZE = 1_000_000;
/** Most buckets in a time window: 3,000 counters, and at most that many touched per refresh. */
export const MAX_BUCKETS = 1_000;

function checkBounded(
  policy: string,
  option: string,
  value: unknown,
  max: number,
  why = '',
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw invalid(policy, option, value, `an integer from 1 to ${max}${why}`);
  }
  return value;
}

function checkWindow(policy: string, value: unknown): WindowOptions {
  const window = checkObject(policy, 'window', value);
  const type = checkOneOf(policy, 'window.type', window.type, ['count', 'time']);
  if (type === 'count') {
    return { type, size: checkBounded(policy, 'window.size', window.size, MAX_WINDOW_SIZE) };
  }
  const ms = window.ms;
  if (typeof ms !== 'number' || !(ms >= 1) || !Number.isFinite(ms)) {
    throw invalid(policy, 'window.ms', ms, 'a finite number of milliseconds >= 1');
  }
  // A bucket of at least 1 ms keeps bucket numbers within the clock's own precision.
  const max = Math.min(MAX_BUCKETS, Math.floor(ms));
  const buckets = checkBounded(
    policy,
    'window.buckets',
    window.buckets ?? Math.min(DEFAULT_BUCKETS, max),
    max,
    max < MAX_BUCKETS ? ' (each bucket must span at least 1 ms of window.ms)' : '',
  );
  return { type, ms, buckets };
}

/**
 * Validates everything but `name` and `initialState`, and fills in the defaults. Breakers built
 * with the same plain settings on the system clock share one `Settings` object, so a service
 * with thousands of breakers keeps one copy.
 */
export function parseOptions(
  policy: string,
  opts: Partial<CircuitBreakerOptions>,
  clock: Clock,
): Settings {
  const hasConsecutive = opts.consecutiveFailures !== undefined;
  const hasWindow = opts.window !== undefined;
  if (hasConsecutive && hasWindow) {
    throw new TypeError(
      `${policy}: options "consecutiveFailures" and "window" cannot be combined; choose one`,
    );
  }
  if (!hasConsecutive && !hasWindow) {
    throw new TypeError(
      `${policy}: an opening rule is required: set option "consecutiveFailures" or option "window"`,
    );
  }
  let consecutiveFailures = 0;
  let window: WindowOptions | undefined;
  let failureRate = 1;
  let minimumCalls = 1;
  let slowMs = Number.POSITIVE_INFINITY;
  let slowRate = Number.POSITIVE_INFINITY;
  if (hasConsecutive) {
    for (const option of ['failureRate', 'minimumCalls', 'slowCall'] as const) {
      if (opts[option] !== undefined) {
        throw new TypeError(
          `${policy}: option "${option}" applies to a sliding window; ` +
            'it cannot be combined with "consecutiveFailures"',
        );
      }
    }
    consecutiveFailures = checkInteger(policy, 'consecutiveFailures', opts.consecutiveFailures, 1);
  } else {
    window = checkWindow(policy, opts.window);
    failureRate = checkRate(policy, 'failureRate', opts.failureRate ?? DEFAULT_FAILURE_RATE);
    minimumCalls = checkMinimumCalls(policy, opts.minimumCalls, window);
    if (opts.slowCall !== undefined) {
      const slowCall = checkObject(policy, 'slowCall', opts.slowCall);
      slowMs = checkPositiveMs(policy, 'slowCall.ms', slowCall.ms);
      slowRate = checkRate(policy, 'slowCall.rate', slowCall.rate);
    }
  }

  const breakDurationMs = opts.breakDurationMs ?? DEFAULT_BREAK_MS;
  if (typeof breakDurationMs !== 'function') checkMs(policy, 'breakDurationMs', breakDurationMs);

  const halfOpen = checkObject(policy, 'halfOpen', opts.halfOpen ?? {});
  const probes = checkInteger(policy, 'halfOpen.probes', halfOpen.probes ?? DEFAULT_PROBES, 1);
  const maxMs = checkPositiveMs(policy, 'halfOpen.maxMs', halfOpen.maxMs ?? DEFAULT_PROBE_MAX_MS);
  const halfOpenFailureRate =
    halfOpen.failureRate === undefined
      ? undefined
      : checkRate(policy, 'halfOpen.failureRate', halfOpen.failureRate);
  const mode = checkOneOf(policy, 'mode', opts.mode ?? 'enforcing', ['enforcing', 'metrics-only']);

  const failureOn =
    opts.failureOn === undefined
      ? undefined
      : checkFunction<NonNullable<Settings['failureOn']>>(policy, 'failureOn', opts.failureOn);

  const settings: Settings = {
    consecutiveFailures,
    window,
    failureRate,
    minimumCalls,
    slowMs,
    slowRate,
    breakDurationMs,
    probes,
    maxMs,
    halfOpenFailureRate,
    enforcing: mode === 'enforcing',
    failureOn,
    clock,
    timed: window?.type === 'time' || slowMs !== Number.POSITIVE_INFINITY,
  };
  return intern(settings);
}

function checkMinimumCalls(policy: string, value: unknown, window: WindowOptions): number {
  const size = window.type === 'count' ? window.size : Number.POSITIVE_INFINITY;
  const minimumCalls = value ?? (window.type === 'count' ? size : DEFAULT_TIME_MINIMUM_CALLS);
  if (
    typeof minimumCalls !== 'number' ||
    !Number.isSafeInteger(minimumCalls) ||
    minimumCalls < 1 ||
    minimumCalls > size
  ) {
    const expected =
      window.type === 'count' ? `an integer from 1 to the window size ${size}` : 'an integer >= 1';
    throw invalid(policy, 'minimumCalls', minimumCalls, expected);
  }
  return minimumCalls;
}

/** Shared settings, by their content; bounded so odd uses cannot grow it without end. */
const shared = new Map<string, Settings>();
const MAX_SHARED = 256;

function intern(settings: Settings): Settings {
  const { window, breakDurationMs } = settings;
  if (
    settings.clock !== systemClock ||
    settings.failureOn !== undefined ||
    typeof breakDurationMs !== 'number'
  ) {
    return settings;
  }
  const key = [
    settings.consecutiveFailures,
    window?.type,
    window?.type === 'count' ? window.size : window?.ms,
    window?.type === 'time' ? window.buckets : undefined,
    settings.failureRate,
    settings.minimumCalls,
    settings.slowMs,
    settings.slowRate,
    breakDurationMs,
    settings.probes,
    settings.maxMs,
    settings.halfOpenFailureRate,
    settings.enforcing,
  ].join();
  const known = shared.get(key);
  if (known !== undefined) return known;
  if (shared.size < MAX_SHARED) shared.set(key, settings);
  return settings;
}
