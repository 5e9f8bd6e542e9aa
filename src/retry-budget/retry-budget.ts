import type { AttemptBudget } from '../core/budget.js';
import { type Clock, systemClock } from '../core/clock.js';
import { checkClock, checkOptions } from '../core/validate.js';
import { checkFinite, checkWindow } from './checks.js';
import { SlidingPair } from './window.js';

export interface RetryBudgetOptions {
  /**
   * Most retries (and hedges) as a share of the calls made in the window: 0.2 lets retries add
   * at most 20% to the load. A finite number >= 0. Default 0.2.
   */
  ratio?: number;
  /**
   * Retries allowed per second of the window whatever the traffic, so a quiet client can still
   * retry: the window allows `minRetriesPerSecond * windowMs / 1000` on top of the ratio. A
   * finite number >= 0. Default 10.
   */
  minRetriesPerSecond?: number;
  /** How far back calls and retries are counted, in milliseconds (finite, > 0). Default 10_000. */
  windowMs?: number;
  /** How many buckets the window ages in (an integer from 1 to 1000). Default 10. */
  buckets?: number;
  /** Where time comes from. Default: the system clock; tests pass a `VirtualClock`. */
  clock?: Clock;
}

/** What a budget holds now. */
export interface RetryBudgetStats {
  /** First attempts recorded in the window. */
  readonly calls: number;
  /** Extra attempts (retries, hedges) granted in the window. */
  readonly retries: number;
  /** Extra attempts it would grant now, if asked one after the other. */
  readonly available: number;
}

/** Guards the comparison against float error: 0.29 * 100 is 28.999999999999996. */
const SLACK = 1 + 1e-12;

/**
 * A retry budget: extra attempts may add at most `ratio` of the calls made in the last
 * `windowMs`, plus a floor of `minRetriesPerSecond`. One budget is shared by every retry and
 * hedge it is given, so when a dependency fails outright the whole client adds a bounded
 * share of load instead of multiplying it by `maxAttempts`.
 */
export class RetryBudget implements AttemptBudget {
  readonly ratio: number;
  readonly minRetriesPerSecond: number;
  readonly windowMs: number;
  readonly buckets: number;
  /** Extra attempts the window allows with no calls at all. */
  readonly #floor: number;
  readonly #clock: Clock;
  /** first: calls, second: granted retries. */
  readonly #window: SlidingPair;

  constructor(options?: RetryBudgetOptions) {
    const policy = 'retryBudget';
    const opts = checkOptions<RetryBudgetOptions>(policy, options);
    this.ratio = checkFinite(policy, 'ratio', opts.ratio ?? 0.2, 0);
    this.minRetriesPerSecond = checkFinite(
      policy,
      'minRetriesPerSecond',
      opts.minRetriesPerSecond ?? 10,
      0,
    );
    const window = checkWindow(policy, opts.windowMs ?? 10_000, opts.buckets ?? 10);
    this.windowMs = window.windowMs;
    this.buckets = window.buckets;
    this.#clock = checkClock(policy, opts.clock, systemClock);
    this.#floor = (this.minRetriesPerSecond * this.windowMs) / 1000;
    this.#window = new SlidingPair(this.windowMs, this.buckets);
  }

  recordCall(): void {
    const window = this.#window;
    window.advance(this.#clock.now());
    window.addFirst();
  }

  tryAcquire(): boolean {
    const window = this.#window;
    window.advance(this.#clock.now());
    if (window.second + 1 > this.#allowance(window.first)) return false;
    window.addSecond();
    return true;
  }

  stats(): RetryBudgetStats {
    const window = this.#window;
    window.advance(this.#clock.now());
    const calls = window.first;
    const retries = window.second;
    const available = Math.max(0, Math.floor(this.#allowance(calls) - retries));
    return { calls, retries, available };
  }

  /** Extra attempts the window allows for `calls` first attempts. */
  #allowance(calls: number): number {
    return (this.ratio * calls + this.#floor) * SLACK;
  }
}

/**
 * A budget for retries and hedges shared by every policy given it: `retry({ budget })`,
 * `hedge({ budget })`. Over the last `windowMs` (default 10 s), extra attempts may reach
 * `ratio` (default 0.2) of the calls, plus `minRetriesPerSecond` (default 10) per second.
 */
export function retryBudget(options?: RetryBudgetOptions): RetryBudget {
  return new RetryBudget(options);
}
