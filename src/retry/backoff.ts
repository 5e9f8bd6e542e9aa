import type { Outcome } from '../core/outcome.js';
import { checkFunction, checkMs, checkOneOf, checkOptions, invalid } from '../core/validate.js';

/** A source of uniform random numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/**
 * Decides how long to wait before the next attempt.
 * @param attempt The 1-based number of the attempt that just failed.
 * @param outcome What that attempt produced (an error, or a result `retryOn` asked to retry).
 * @param previousDelayMs The delay used before the failed attempt; 0 before the first retry.
 * @param random The retry policy's `random` option, for backoffs that need randomness.
 * @returns A finite number of milliseconds >= 0.
 */
export type Backoff<T = unknown> = (
  attempt: number,
  outcome: Outcome<T>,
  previousDelayMs: number,
  random: Random,
) => number;

/** How randomness spreads a backoff's delays, as in "Exponential Backoff And Jitter". */
export type Jitter = 'none' | 'full' | 'equal' | 'decorrelated';

/**
 * The jitters of constant and linear backoffs. 'decorrelated' is left out: it grows each
 * delay from the previous one, which makes any backoff exponential.
 */
export type SteadyJitter = Exclude<Jitter, 'decorrelated'>;

export interface ConstantBackoffOptions {
  /** Default 'none': exactly `ms` every time. */
  jitter?: SteadyJitter;
  /** Overrides the random source, as in `ExponentialBackoffOptions`. */
  random?: Random;
}

export interface LinearBackoffOptions {
  /** Delay after the first failed attempt. Default 100. */
  initialMs?: number;
  /** Added for each further failed attempt. Default 100. */
  stepMs?: number;
  /** The delay never exceeds this (finite, >= initialMs). Default 30_000. */
  maxMs?: number;
  /** Default 'none': the delays exactly as above. */
  jitter?: SteadyJitter;
  /** Overrides the random source, as in `ExponentialBackoffOptions`. */
  random?: Random;
}

export interface ExponentialBackoffOptions {
  /** The base: delay after the first failed attempt before jitter (> 0). Default 100. */
  initialMs?: number;
  /** Growth per failed attempt (>= 1). Default 2. */
  factor?: number;
  /** The cap (finite, >= initialMs). Default 30_000. */
  maxMs?: number;
  /** Default 'full'. */
  jitter?: Jitter;
  /**
   * Overrides the random source. Default: the one the retry policy passes (its `random`
   * option), or `Math.random` when the backoff is called without one.
   */
  random?: Random;
}

const jitters: readonly Jitter[] = ['none', 'full', 'equal', 'decorrelated'];
const steadyJitters: readonly SteadyJitter[] = ['none', 'full', 'equal'];

function checkCap(policy: string, value: unknown, initialMs: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < initialMs) {
    throw invalid(
      policy,
      'maxMs',
      value,
      `a finite number of milliseconds >= initialMs (${initialMs})`,
    );
  }
  return value;
}

function checkRandom(policy: string, value: unknown): Random | undefined {
  return value === undefined ? undefined : checkFunction<Random>(policy, 'random', value);
}

function checkSteadyJitter(policy: string, value: unknown): SteadyJitter {
  if (value === 'decorrelated') {
    throw invalid(
      policy,
      'jitter',
      value,
      `one of ${steadyJitters.map((j) => `'${j}'`).join(', ')}; 'decorrelated' grows each delay from the previous one, so only backoff.exponential offers it`,
    );
  }
  return checkOneOf(policy, 'jitter', value, steadyJitters);
}

/**
 * Spreads the delays `base(attempt)` with 'full' or 'equal' jitter; 'none' returns `base`.
 * `own` is the builder's `random` option, which wins over the one the policy passes.
 */
function spread(base: (attempt: number) => number, jitter: SteadyJitter, own?: Random): Backoff {
  switch (jitter) {
    case 'none':
      return base;
    case 'full':
      return (attempt, _outcome, _previous, random = Math.random) =>
        (own ?? random)() * base(attempt);
    case 'equal':
      return (attempt, _outcome, _previous, random = Math.random) => {
        const half = base(attempt) / 2;
        return half + (own ?? random)() * half;
      };
  }
}

/**
 * `ms` after every failed attempt; with 'full' jitter random_between(0, ms), with 'equal'
 * ms / 2 + random_between(0, ms / 2).
 */
function constant(ms: number, options?: ConstantBackoffOptions): Backoff {
  const policy = 'backoff.constant';
  const delay = checkMs(policy, 'ms', ms);
  const opts = checkOptions<ConstantBackoffOptions>(policy, options);
  const jitter = checkSteadyJitter(policy, opts.jitter ?? 'none');
  return spread(() => delay, jitter, checkRandom(policy, opts.random));
}

/**
 * `initialMs`, then `stepMs` more after each further failure, capped at `maxMs`; jittered
 * like `constant`, from that delay.
 */
function linear(options?: LinearBackoffOptions): Backoff {
  const policy = 'backoff.linear';
  const opts = checkOptions<LinearBackoffOptions>(policy, options);
  const initialMs = checkMs(policy, 'initialMs', opts.initialMs ?? 100);
  const stepMs = checkMs(policy, 'stepMs', opts.stepMs ?? 100);
  const maxMs = checkCap(policy, opts.maxMs ?? 30_000, initialMs);
  const jitter = checkSteadyJitter(policy, opts.jitter ?? 'none');
  const grown = (attempt: number): number => Math.min(maxMs, initialMs + stepMs * (attempt - 1));
  return spread(grown, jitter, checkRandom(policy, opts.random));
}

/**
 * Exponential backoff with jitter, following Marc Brooker's "Exponential Backoff And Jitter"
 * (AWS Architecture Blog), where base = initialMs, cap = maxMs and, for the nth failed
 * attempt, exp = min(cap, base * factor^(n - 1)):
 * - 'none': exp
 * - 'full': random_between(0, exp)
 * - 'equal': exp / 2 + random_between(0, exp / 2)
 * - 'decorrelated': min(cap, random_between(base, previous * 3)), previous starting at base
 */
function exponential(options?: ExponentialBackoffOptions): Backoff {
  const policy = 'backoff.exponential';
  const opts = checkOptions<ExponentialBackoffOptions>(policy, options);
  const base = opts.initialMs ?? 100;
  if (typeof base !== 'number' || !Number.isFinite(base) || !(base > 0)) {
    throw invalid(policy, 'initialMs', base, 'a finite number of milliseconds > 0');
  }
  const factor = opts.factor ?? 2;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || !(factor >= 1)) {
    throw invalid(policy, 'factor', factor, 'a finite number >= 1');
  }
  const cap = checkCap(policy, opts.maxMs ?? 30_000, base);
  const jitter = checkOneOf(policy, 'jitter', opts.jitter ?? 'full', jitters);
  const own = checkRandom(policy, opts.random);
  if (jitter === 'decorrelated') {
    return (_attempt, _outcome, previousDelayMs, random = Math.random) => {
      const upper = Math.max(base, previousDelayMs) * 3;
      return Math.min(cap, base + (own ?? random)() * (upper - base));
    };
  }
  // base * factor^(n-1) overflows to Infinity for large n; min() then yields the cap.
  return spread((attempt) => Math.min(cap, base * factor ** (attempt - 1)), jitter, own);
}

/** Built-in backoffs for `retry({ backoff })`. Each validates its options when built. */
export const backoff = { constant, linear, exponential } as const;

/** What `retry()` uses when no backoff is given. */
export const defaultBackoff: Backoff = exponential({
  initialMs: 100,
  factor: 2,
  maxMs: 30_000,
  jitter: 'full',
});
