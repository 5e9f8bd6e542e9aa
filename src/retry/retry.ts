import { type AttemptBudget, isAttemptBudget } from '../core/budget.js';
import { type Classifier, classOf } from '../core/classify.js';
import { type Clock, sleep, systemClock } from '../core/clock.js';
import { type Context, type ExecutionContext, next } from '../core/context.js';
import { ExecutionRejectedError } from '../core/errors.js';
import { type Outcome, retryAfterHint } from '../core/outcome.js';
import { BasePolicy, describe, type PolicyOptions } from '../core/policy.js';
import {
  checkClock,
  checkFunction,
  checkInteger,
  checkMs,
  checkOptions,
  invalid,
  verdict,
} from '../core/validate.js';
import { type Backoff, defaultBackoff, type Random } from './backoff.js';

/** Decides whether an outcome is retried. `context` is what the attempt's function saw. */
export type RetryPredicate<T = unknown> = (
  outcome: Outcome<T>,
  context: ExecutionContext,
) => boolean;

export interface RetryOptions<T = unknown> extends PolicyOptions {
  /** Attempts in all, the first included: an integer >= 1, or Infinity. Default 3. */
  maxAttempts?: number;
  /**
   * The delay before each retry. Default: `backoff.exponential()` (initialMs 100, factor 2,
   * maxMs 30_000, jitter 'full'). A delay hint on the outcome (`retryAfterMs`) lengthens it.
   */
  backoff?: Backoff<T>;
  /**
   * Whether an outcome is retried; it must answer synchronously. Default: every error except
   * an `ExecutionRejectedError` whose `retryable` is false (an open or isolated breaker, a full
   * bulkhead: all refusals but `TimeoutError`); results are accepted. A call made with
   * `classify` follows it instead where it answers ('retryable' is retried). Whatever it says,
   * nothing is retried once the caller (or an enclosing timeout) has aborted.
   */
  retryOn?: RetryPredicate<T>;
  /**
   * Time budget from the start of the first attempt. A retry whose delay would reach it is
   * not started: the policy gives up at once. Default Infinity.
   */
  maxElapsedMs?: number;
  /** Random source handed to the backoff (the built-in jitters use it). Default Math.random. */
  random?: Random;
  /**
   * A budget shared with other retries and hedges (`retryBudget()`): each call's first attempt
   * is recorded in it, and each retry must be granted by it, or the policy gives up at once
   * with reason 'budget'. Default: none (only `maxAttempts` bounds retries).
   */
  budget?: AttemptBudget;
}

/** Why a retry policy stopped without a success. */
export type GiveUpReason =
  | 'maxAttempts'
  | 'maxElapsed'
  | 'deadline'
  | 'notRetryable'
  | 'aborted'
  | 'budget';

/** Each detail carries the call's `key` (`execute(fn, { key })`), undefined when none. */
export interface RetryEvents {
  /** An attempt failed and another follows after `delayMs`; emitted before the sleep. */
  retry: {
    readonly attempt: number;
    readonly delayMs: number;
    readonly outcome: Outcome;
    readonly key: string | undefined;
  };
  /** The policy stopped on a failure (or on a result `retryOn` still wanted retried). */
  giveUp: {
    readonly attempts: number;
    readonly outcome: Outcome;
    readonly reason: GiveUpReason;
    readonly key: string | undefined;
  };
  /** An attempt succeeded (also on the first try); `attempts` counts the first. */
  success: { readonly attempts: number; readonly key: string | undefined };
}

/**
 * What `retry` retries when no `retryOn` is given: errors, except refusals that do not declare
 * themselves `retryable`; never a result. Build on it to narrow the rule:
 * `retryOn: (outcome) => defaultRetryOn(outcome) && !isClientError(outcome)`.
 */
export function defaultRetryOn(outcome: Outcome): boolean {
  if (outcome.ok) return false;
  const error = outcome.error;
  return !(error instanceof ExecutionRejectedError) || error.retryable === true;
}

/** The call's classifier decides; where it abstains, the default rule does. */
function retryAsClassified(policy: string, classify: Classifier, outcome: Outcome): boolean {
  const answer = classOf(policy, classify, outcome);
  return answer === undefined ? defaultRetryOn(outcome) : answer === 'retryable';
}

/** Runs the rest of the pipeline again after failures, waiting a backoff between attempts. */
export class RetryPolicy<T = unknown> extends BasePolicy<RetryEvents, T> {
  readonly maxAttempts: number;
  readonly maxElapsedMs: number;
  readonly #backoff: Backoff;
  readonly #retryOn: RetryPredicate | undefined;
  readonly #random: Random;
  readonly #clock: Clock;
  readonly #budget: AttemptBudget | undefined;

  constructor(options?: RetryOptions) {
    const opts = checkOptions<RetryOptions>('retry', options);
    super('retry', opts.name);
    this.maxAttempts = checkInteger(this.name, 'maxAttempts', opts.maxAttempts ?? 3, 1, true);
    this.maxElapsedMs = checkMs(this.name, 'maxElapsedMs', opts.maxElapsedMs ?? Infinity, 0, true);
    this.#backoff =
      opts.backoff === undefined
        ? defaultBackoff
        : checkFunction<Backoff>(this.name, 'backoff', opts.backoff);
    this.#retryOn =
      opts.retryOn === undefined
        ? undefined
        : checkFunction<RetryPredicate>(this.name, 'retryOn', opts.retryOn);
    this.#random =
      opts.random === undefined
        ? Math.random
        : checkFunction<Random>(this.name, 'random', opts.random);
    this.#clock = checkClock(this.name, opts.clock, systemClock);
    const budget = opts.budget;
    if (budget !== undefined && !isAttemptBudget(budget)) {
      throw invalid(
        this.name,
        'budget',
        budget,
        'an AttemptBudget (an object with recordCall() and tryAcquire(), such as retryBudget())',
      );
    }
    this.#budget = budget;
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    const first = context.attempt === 1 ? context : context.withAttempt(1);
    if (this.#budget !== undefined) this.#budget.recordCall();
    if (
      this.#retryOn !== undefined ||
      context.classify !== undefined ||
      this.maxElapsedMs !== Infinity
    ) {
      return this.#loop(context, index, undefined, first, undefined);
    }
    // The common case: the first attempt succeeds. This path costs one derived promise and the
    // rejection handler; no outcome, no clock read. It measured faster than an async function.
    return next(first, index + 1).then(
      this.events.enabled ? (value: unknown) => this.#succeeded(1, value, context.key) : undefined,
      (error: unknown) => this.#loop(context, index, 0, first, { ok: false, error }),
    );
  }

  /**
   * Runs attempts from `attemptContext.attempt` on; when `failed` is given, that attempt
   * already ran and produced it. `start` is when the first attempt began, if known yet.
   */
  async #loop(
    context: Context,
    index: number,
    start: number | undefined,
    attemptContext: Context,
    failed: Outcome | undefined,
  ): Promise<unknown> {
    // The clock is read up front only when an elapsed budget needs a start time.
    start ??= this.maxElapsedMs === Infinity ? 0 : this.#clock.now();
    const retryOn = this.#retryOn;
    const classify = context.classify;
    // Without a rule that can refuse a result, a result ends the call at once.
    const resultsJudged = retryOn !== undefined || classify !== undefined;
    const key = context.key;
    let attempt = attemptContext.attempt;
    let outcome = failed;
    let previousDelayMs = 0;
    for (;;) {
      if (outcome === undefined) {
        try {
          const value = await next(attemptContext, index + 1);
          if (!resultsJudged) return this.#succeeded(attempt, value, key);
          outcome = { ok: true, value };
        } catch (error) {
          outcome = { ok: false, error };
        }
      }
      const retry =
        retryOn !== undefined
          ? verdict(this.name, 'retryOn', retryOn(outcome, attemptContext), outcome)
          : classify !== undefined
            ? retryAsClassified(this.name, classify, outcome)
            : defaultRetryOn(outcome);
      if (!retry) {
        if (outcome.ok) return this.#succeeded(attempt, outcome.value, key);
        return this.#gaveUp(attempt, outcome, 'notRetryable', key);
      }
      if (context.scope.aborted) return this.#gaveUp(attempt, outcome, 'aborted', key);
      if (attempt >= this.maxAttempts) return this.#gaveUp(attempt, outcome, 'maxAttempts', key);

      const delayMs = this.#delay(attempt, outcome, previousDelayMs);
      const limit = Math.min(start + this.maxElapsedMs, context.deadline);
      if (limit !== Infinity && this.#clock.now() + delayMs >= limit) {
        const reason = start + this.maxElapsedMs <= context.deadline ? 'maxElapsed' : 'deadline';
        return this.#gaveUp(attempt, outcome, reason, key);
      }
      // Asked last, once nothing else stands in the way: a granted retry is counted at once.
      if (this.#budget !== undefined && !this.#budget.tryAcquire()) {
        return this.#gaveUp(attempt, outcome, 'budget', key);
      }
      if (this.events.enabled) this.events.emit('retry', { attempt, delayMs, outcome, key });
      try {
        // A zero delay resolves at once, arming no timer; an abort is still honoured first.
        await sleep(this.#clock, delayMs, context.scope);
      } catch (reason) {
        this.#emitGiveUp(attempt, outcome, 'aborted', key);
        throw reason;
      }
      // The scope may abort in the turn between the timer firing and this line.
      if (context.scope.aborted) {
        this.#emitGiveUp(attempt, outcome, 'aborted', key);
        throw context.scope.reason;
      }
      previousDelayMs = delayMs;
      attempt++;
      attemptContext = context.withAttempt(attempt);
      outcome = undefined;
    }
  }

  /** `retryOn`'s answer; a promise is a bug in the predicate, reported with the outcome. */
  #delay(attempt: number, outcome: Outcome, previousDelayMs: number): number {
    const delay = this.#backoff(attempt, outcome, previousDelayMs, this.#random);
    if (typeof delay !== 'number' || !(delay >= 0) || delay === Infinity) {
      throw new TypeError(
        `${this.name}: backoff returned ${describe(delay)} after attempt ${attempt}; expected a finite number of milliseconds >= 0`,
        outcome.ok ? undefined : { cause: outcome.error },
      );
    }
    const hint = retryAfterHint(outcome);
    return hint !== undefined && hint > delay ? hint : delay;
  }

  #succeeded(attempts: number, value: unknown, key: string | undefined): unknown {
    if (this.events.enabled) this.events.emit('success', { attempts, key });
    return value;
  }

  #gaveUp(
    attempts: number,
    outcome: Outcome,
    reason: GiveUpReason,
    key: string | undefined,
  ): unknown {
    this.#emitGiveUp(attempts, outcome, reason, key);
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }

  #emitGiveUp(
    attempts: number,
    outcome: Outcome,
    reason: GiveUpReason,
    key: string | undefined,
  ): void {
    if (this.events.enabled) this.events.emit('giveUp', { attempts, outcome, reason, key });
  }
}

/**
 * Runs the rest of the pipeline up to `maxAttempts` times, waiting a backoff between attempts,
 * and returns the first accepted outcome. When it gives up it returns the last result or
 * rethrows the last error as it was thrown.
 */
export function retry<T = unknown>(options?: RetryOptions<T>): RetryPolicy<T> {
  return new RetryPolicy<T>(options as RetryOptions);
}
