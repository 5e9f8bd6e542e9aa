import { classOf } from '../core/classify.js';
import { type Context, type ExecutionContext, next } from '../core/context.js';
import { failure, type Outcome, success } from '../core/outcome.js';
import { BasePolicy, describe, type PolicyOptions } from '../core/policy.js';
import { checkFunction, checkOptions, verdict } from '../core/validate.js';

/** Makes the substitute from the outcome it replaces. */
export type FallbackValue<R, T = unknown> = (
  outcome: Outcome<T>,
  context: ExecutionContext,
) => R | PromiseLike<R>;

/** Decides whether an outcome is replaced. */
export type FallbackHandle<T = unknown> = (
  outcome: Outcome<T>,
  context: ExecutionContext,
) => boolean;

/**
 * `R` is the substitute's type; `T`, what the rest of the pipeline returns, which `handle` and
 * `value` judge. With a `handle`, `T` defaults to `R` (the substitute stands in for a result
 * of the same type); without one, to `unknown` (any task).
 */
export interface FallbackOptions<R = unknown, T = R> extends PolicyOptions {
  /**
   * The substitute. A function is called with the outcome being replaced and the execution
   * context, and may return a value or a promise; if it throws or rejects, that error is what
   * the caller gets. Anything else that is not a function is returned as it is. Required.
   */
  value: FallbackValue<R, T> | Exclude<R, Function>;
  /**
   * Which outcomes to replace: return true to fall back. It sees successes too, so a bad result
   * (an HTTP 503 response) can be replaced. Default: every failure, and no success; for a call
   * made with `classify`, what it answers ('retryable' and 'failure' are replaced).
   */
  handle?: FallbackHandle<T>;
}

export interface FallbackEvents {
  /** An outcome was replaced; emitted just before the substitute is made. */
  fallback: {
    /** The call's key. */
    readonly key: string | undefined;
    readonly outcome: Outcome;
  };
}

/**
 * Replaces a failed (or unwanted) outcome of the rest of the pipeline with a substitute. A
 * caller's abort is never replaced: the caller's reason goes through.
 */
export class FallbackPolicy<R = unknown, T = unknown> extends BasePolicy<FallbackEvents, T, R> {
  readonly #value: FallbackValue<R> | R;
  readonly #handle: FallbackHandle | undefined;

  constructor(options: FallbackOptions<R, unknown>) {
    const opts = checkOptions<FallbackOptions<R, unknown>>('fallback', options);
    super('fallback', opts.name);
    if (opts.value === undefined) {
      throw new TypeError(
        `${this.name}: option "value" must be a function or a substitute value (got ${describe(opts.value)}); to fall back to undefined, pass () => undefined`,
      );
    }
    this.#value = opts.value as FallbackValue<R> | R;
    this.#handle =
      opts.handle === undefined
        ? undefined
        : checkFunction<FallbackHandle>(this.name, 'handle', opts.handle);
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    // Only a rule can turn a success into a fallback, so only then is a success seen.
    const judgesSuccesses = this.#handle !== undefined || context.classify !== undefined;
    return next(context, index + 1).then(
      judgesSuccesses ? (value) => this.#succeeded(value, context) : undefined,
      (error: unknown) => this.#failed(error, context),
    );
  }

  #succeeded(value: unknown, context: Context): unknown {
    // The caller has gone: nobody wants a substitute, and none is made.
    if (context.scope.aborted) return value;
    const outcome = success(value);
    return this.#replaces(outcome, context) ? this.#substitute(outcome, context) : value;
  }

  #failed(error: unknown, context: Context): Promise<unknown> {
    const scope = context.scope;
    if (scope.aborted) throw scope.reason;
    const outcome = failure(error);
    if (!this.#replaces(outcome, context)) throw error;
    return this.#substitute(outcome, context);
  }

  /** The user's handle decides; without one, the call's classifier; without that, failures are. */
  #replaces(outcome: Outcome, context: Context): boolean {
    const handle = this.#handle;
    if (handle !== undefined)
      return verdict(this.name, 'handle', handle(outcome, context), outcome);
    const answer =
      context.classify === undefined ? undefined : classOf(this.name, context.classify, outcome);
    return answer === undefined ? !outcome.ok : answer !== 'success';
  }

  async #substitute(outcome: Outcome, context: Context): Promise<unknown> {
    if (this.events.enabled) this.events.emit('fallback', { key: context.key, outcome });
    const value = this.#value;
    return typeof value === 'function' ? (value as FallbackValue<R>)(outcome, context) : value;
  }
}

/**
 * Answers with a substitute when the rest of the pipeline fails, e.g.
 * `fallback({ value: () => cachedPrices })`. Put it outermost, so it also covers the refusals
 * (open breaker, full bulkhead, timeout) of the policies inside it.
 */
export function fallback<R = unknown, T = R>(
  options: FallbackOptions<R, T> & { readonly handle: FallbackHandle<T> },
): FallbackPolicy<R, T>;
export function fallback<R = unknown, T = unknown>(
  options: FallbackOptions<R, T>,
): FallbackPolicy<R, T>;
export function fallback<R, T>(options: FallbackOptions<R, T>): FallbackPolicy<R, T> {
  return new FallbackPolicy<R, T>(options as unknown as FallbackOptions<R, unknown>);
}
