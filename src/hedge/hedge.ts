import { type AttemptBudget, isAttemptBudget } from '../core/budget.js';
import { type Clock, systemClock } from '../core/clock.js';
import type { Context } from '../core/context.js';
import { DeadlineQueue } from '../core/deadline-queue.js';
import { BasePolicy, type PolicyOptions } from '../core/policy.js';
import {
  checkClock,
  checkFunction,
  checkInteger,
  checkMs,
  checkOptions,
  invalid,
} from '../core/validate.js';
import { HedgedCall, type HedgeEvents, type HedgePredicate, type HedgeRuntime } from './call.js';
import { LatencyWindow } from './latency-window.js';

/** A hedge delay that follows the latency of the calls themselves. */
export interface PercentileDelay {
  /** Which percentile of successful calls' latencies, in (0, 100]: 95 for p95. Required. */
  percentile: number;
  /**
   * The floor, in milliseconds: the delay never goes below it, and it is the delay until the
   * window has filled. Required.
   */
  minMs: number;
  /** How many of the latest latencies the percentile is taken over: an integer >= 1. Default 100. */
  windowSize?: number;
}

export interface HedgeOptions<T = unknown> extends PolicyOptions {
  /**
   * How long to wait for an outcome before starting the next attempt, counted from the start of
   * the latest one: milliseconds >= 0 (0 starts every attempt at once), or a
   * {@link PercentileDelay} computed from the latencies of recent successful calls. Required.
   */
  delayMs: number | PercentileDelay;
  /** Most extra attempts per call, besides the original: an integer >= 0. Default 1. */
  maxHedges?: number;
  /**
   * Where extra attempts are paid from: `recordCall()` for every call, `tryAcquire()` before
   * every hedge, which is skipped when it answers false. Default: none, every hedge starts.
   */
  budget?: AttemptBudget;
  /**
   * Whether an attempt's outcome starts the next attempt at once instead of ending the call; it
   * must answer synchronously. Default: `defaultShouldHedge`, every error except refusals
   * (`ExecutionRejectedError`), a `TimeoutError` included; results are accepted. For a call
   * made with `classify`, what it answers where it answers ('retryable' is hedged on).
   */
  shouldHedge?: HedgePredicate<T>;
}

/**
 * Sends the same call again while the first is slow, and takes whichever acceptable outcome
 * comes first: the cure for tail latency on idempotent reads.
 */
export class HedgePolicy<T = unknown> extends BasePolicy<HedgeEvents, T> {
  readonly maxHedges: number;
  /** The percentile settings, when the delay follows the latencies; undefined for a fixed one. */
  readonly percentileDelay: Readonly<Required<PercentileDelay>> | undefined;
  readonly #runtime: Runtime;

  constructor(options: HedgeOptions) {
    const opts = checkOptions<HedgeOptions>('hedge', options);
    super('hedge', opts.name);
    const name = this.name;
    this.maxHedges = checkInteger(name, 'maxHedges', opts.maxHedges ?? 1, 0);
    const budget = opts.budget;
    if (budget !== undefined && !isAttemptBudget(budget)) {
      throw invalid(name, 'budget', budget, 'an AttemptBudget (recordCall() and tryAcquire())');
    }
    const shouldHedge =
      opts.shouldHedge === undefined
        ? undefined
        : checkFunction<HedgePredicate>(name, 'shouldHedge', opts.shouldHedge);
    const clock = checkClock(name, opts.clock, systemClock);
    const delay = opts.delayMs;
    let window: LatencyWindow | undefined;
    let fixed: number;
    if (typeof delay === 'object' && delay !== null && !Array.isArray(delay)) {
      const { percentile, minMs, windowSize = 100 } = delay;
      if (typeof percentile !== 'number' || !(percentile > 0 && percentile <= 100)) {
        throw invalid(name, 'delayMs.percentile', percentile, 'a number in (0, 100]');
      }
      fixed = checkMs(name, 'delayMs.minMs', minMs);
      checkInteger(name, 'delayMs.windowSize', windowSize, 1);
      window = new LatencyWindow(percentile, windowSize);
      this.percentileDelay = Object.freeze({ percentile, minMs, windowSize });
    } else {
      fixed = checkMs(name, 'delayMs', delay === undefined ? Number.NaN : delay);
      this.percentileDelay = undefined;
    }
    this.#runtime = new Runtime(
      name,
      this.maxHedges,
      clock,
      budget,
      shouldHedge,
      this.events,
      fixed,
      window,
    );
  }

  /** The delay before a hedge now: fixed, or the percentile (never below `minMs`). */
  get delayMs(): number {
    return this.#runtime.delayMs;
  }

  /** Hedge delays waiting now: one per call in flight that may still hedge. */
  get pending(): number {
    return this.#runtime.queue.size;
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    if (context.scope.aborted) return Promise.reject(context.scope.reason);
    const runtime = this.#runtime;
    runtime.budget?.recordCall();
    const call = new HedgedCall(runtime, context, index);
    call.begin();
    return call.promise;
  }
}

/** The state the calls of one policy share. */
class Runtime implements HedgeRuntime {
  readonly queue: DeadlineQueue;
  readonly observes: boolean;
  delayMs: number;

  constructor(
    readonly name: string,
    readonly maxHedges: number,
    readonly clock: Clock,
    readonly budget: AttemptBudget | undefined,
    readonly shouldHedge: HedgePredicate | undefined,
    readonly events: HedgeRuntime['events'],
    readonly minMs: number,
    readonly window: LatencyWindow | undefined,
  ) {
    this.queue = new DeadlineQueue(clock, false);
    this.observes = window !== undefined;
    this.delayMs = minMs;
  }

  observe(ms: number): void {
    const window = this.window!;
    window.add(ms);
    const value = window.value;
    if (value !== undefined) this.delayMs = value > this.minMs ? value : this.minMs;
  }
}

/**
 * Runs the rest of the pipeline, and if no acceptable outcome has come `delayMs` later, runs it
 * again alongside, up to `maxHedges` extra times; the first acceptable outcome wins and the
 * other attempts' signals abort.
 */
export function hedge<T = unknown>(options: HedgeOptions<T>): HedgePolicy<T> {
  return new HedgePolicy<T>(options as HedgeOptions);
}
