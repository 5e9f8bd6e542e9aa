import { AbortScope } from '../core/abort-scope.js';
import { type Clock, systemClock } from '../core/clock.js';
import { type Context, next } from '../core/context.js';
import { TimeoutError } from '../core/errors.js';
import { BasePolicy, type PolicyOptions } from '../core/policy.js';
import { checkClock, checkMs, checkOneOf, checkOptions } from '../core/validate.js';
import { Deadline, DeadlineQueue } from './deadline-queue.js';

export type TimeoutStrategy = 'cooperative' | 'aggressive';

export interface TimeoutOptions extends PolicyOptions {
  /**
   * 'cooperative' (default): at the deadline, abort `ctx.signal` and wait for the function to
   * stop. 'aggressive': also reject with `TimeoutError` at the deadline, even if the function
   * ignores its signal (its work goes on unobserved).
   */
  strategy?: TimeoutStrategy;
}

export interface TimeoutEvents {
  /** A deadline passed while the function was running. */
  timeout: { readonly timeoutMs: number; readonly strategy: TimeoutStrategy };
}

/** A running call's deadline: aborts the call's scope when it passes. */
class CallDeadline extends Deadline {
  error: TimeoutError | undefined = undefined;

  constructor(
    due: number,
    readonly budgetMs: number,
    readonly scope: AbortScope,
    readonly policy: TimeoutPolicy,
  ) {
    super(due);
  }

  expire(): void {
    this.error = new TimeoutError(this.budgetMs);
    this.policy.expired(this);
    this.scope.abort(this.error);
  }
}

const strategies: readonly TimeoutStrategy[] = ['cooperative', 'aggressive'];

/** Bounds how long the rest of the pipeline may run. */
export class TimeoutPolicy extends BasePolicy<TimeoutEvents> {
  readonly timeoutMs: number;
  readonly strategy: TimeoutStrategy;
  readonly #clock: Clock;
  readonly #deadlines: DeadlineQueue;

  constructor(ms: number, options?: TimeoutOptions) {
    const opts = checkOptions<TimeoutOptions>('timeout', options);
    super('timeout', opts.name);
    this.timeoutMs = checkMs(this.name, 'ms', ms, 0, true);
    this.strategy = checkOneOf(this.name, 'strategy', opts.strategy ?? 'cooperative', strategies);
    this.#clock = checkClock(this.name, opts.clock, systemClock);
    this.#deadlines = new DeadlineQueue(this.#clock);
  }

  /** Deadlines currently armed: one per call in flight. */
  get pending(): number {
    return this.#deadlines.size;
  }

  /** @internal */
  async run(context: Context, index: number): Promise<unknown> {
    const start = this.#clock.now();
    const own = start + this.timeoutMs;
    const due = Math.min(own, context.deadline);
    if (context.scope.aborted) throw context.scope.reason;
    const scope = new AbortScope(context.scope);
    const deadline = new CallDeadline(due, due - start, scope, this);
    if (due <= start) deadline.expire();
    else if (due !== Number.POSITIVE_INFINITY) this.#deadlines.add(deadline);
    try {
      if (deadline.error !== undefined) throw deadline.error;
      const inner = next(context.withScope(scope, due), index + 1);
      return await (this.strategy === 'aggressive' ? raceAbort(inner, scope) : inner);
    } catch (error) {
      // Whatever the function threw after its deadline passed, the cause is the timeout.
      if (deadline.error !== undefined && error !== deadline.error) {
        throw new TimeoutError(deadline.budgetMs, { cause: error });
      }
      throw error;
    } finally {
      this.#deadlines.remove(deadline);
      scope.dispose();
    }
  }

  /** @internal */
  expired(deadline: CallDeadline): void {
    if (this.events.enabled) {
      this.events.emit('timeout', { timeoutMs: deadline.budgetMs, strategy: this.strategy });
    }
  }
}

/** Settles with `work`, or rejects with the scope's reason as soon as the scope aborts. */
function raceAbort<T>(work: Promise<T>, scope: AbortScope): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (reason: unknown): void => reject(reason);
    scope.watch(onAbort);
    work.then(
      (value) => {
        scope.unwatch(onAbort);
        resolve(value);
      },
      (error: unknown) => {
        scope.unwatch(onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Bounds the time the rest of the pipeline may take to `ms` milliseconds. Nested timeouts and
 * the caller's own deadline combine: the function's `ctx.deadline` is the earliest of them.
 */
export function timeout(ms: number, options?: TimeoutOptions): TimeoutPolicy {
  return new TimeoutPolicy(ms, options);
}
