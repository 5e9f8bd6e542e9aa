import { AbortScope } from '../core/abort-scope.js';
import type { Clock } from '../core/clock.js';
import { type Context, type ExecutionContext, next } from '../core/context.js';
import { type Deadline, DeadlineQueue } from '../core/deadline-queue.js';
import { TimeoutError } from '../core/errors.js';
import { BasePolicy, describe, type PolicyOptions } from '../core/policy.js';
import { checkOneOf, checkOptions, invalid } from '../core/validate.js';

export type TimeoutStrategy = 'cooperative' | 'aggressive';

/**
 * A budget decided per call from the call's context (its `key`, `data`, `attempt`,
 * `deadline`): milliseconds >= 0, or Infinity for no budget of its own.
 */
export type TimeoutBudget<D = unknown> = (context: ExecutionContext<D>) => number;

export interface TimeoutOptions extends PolicyOptions {
  /**
   * 'cooperative' (default): at the deadline, abort `ctx.signal` and wait for the function to
   * stop. 'aggressive': also reject with `TimeoutError` at the deadline, even if the function
   * ignores its signal (its work goes on unobserved).
   */
  strategy?: TimeoutStrategy;
}

export interface TimeoutEvents {
  /** A deadline passed while the function was running, or the call came with none left. */
  timeout: {
    readonly timeoutMs: number;
    readonly strategy: TimeoutStrategy;
    /** The call's `key`. */
    readonly key: string | undefined;
  };
}

/**
 * One call under a timeout: its node in the policy's deadline queue, holding the call's abort
 * scope (a child of the caller's). It holds the scope rather than extending it: on Node 24 a
 * derived class costs about 10 ns more to construct than two plain objects, on every call.
 */
class TimedCall implements Deadline {
  prev: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  queued = false;
  index = -1;
  /** Set when the deadline passed: the error the scope was aborted with. */
  error: TimeoutError | undefined = undefined;
  readonly scope: AbortScope;

  constructor(
    parent: AbortScope,
    readonly due: number,
    readonly budgetMs: number,
    readonly key: string | undefined,
    readonly policy: TimeoutPolicy,
  ) {
    this.scope = new AbortScope(parent);
  }

  expire(): void {
    this.error = new TimeoutError(this.budgetMs);
    this.policy.expired(this);
    this.scope.abort(this.error);
  }
}

const strategies: readonly TimeoutStrategy[] = ['cooperative', 'aggressive'];
const budgetExpected = 'a number of milliseconds >= 0 or Infinity';

/** Bounds how long the rest of the pipeline may run. */
export class TimeoutPolicy extends BasePolicy<TimeoutEvents> {
  /** The budget in milliseconds; undefined when a function decides it per call. */
  readonly timeoutMs: number | undefined;
  readonly strategy: TimeoutStrategy;
  readonly #budget: TimeoutBudget | undefined;
  readonly #clock: Clock;
  readonly #deadlines: DeadlineQueue;

  constructor(ms: number | TimeoutBudget, options?: TimeoutOptions) {
    const opts = checkOptions<TimeoutOptions>('timeout', options);
    super('timeout', opts.name);
    if (typeof ms === 'function') {
      this.#budget = ms;
      this.timeoutMs = undefined;
    } else if (typeof ms === 'number' && ms >= 0) {
      this.timeoutMs = ms;
    } else {
      throw invalid(this.name, 'ms', ms, `${budgetExpected}, or a function returning one`);
    }
    this.strategy = checkOneOf(this.name, 'strategy', opts.strategy ?? 'cooperative', strategies);
    this.#clock = this.useClock(opts.clock);
    this.#deadlines = new DeadlineQueue(this.#clock);
  }

  /** Deadlines currently armed: one per call in flight. */
  get pending(): number {
    return this.#deadlines.size;
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    if (context.scope.aborted) return Promise.reject(context.scope.reason);
    const ms = this.timeoutMs ?? this.#budgetOf(context);
    const start = this.#clock.now();
    const own = start + ms;
    // An enclosing timeout ends the call no later than this one would: leave it to that one, so
    // the caller gets one TimeoutError, not whichever of two simultaneous expiries came first.
    // A cooperative one only aborts the signal, though: an aggressive timeout still rejects
    // then, with the enclosing error, so nesting never makes a call end later.
    if (context.deadlineEnforced && context.deadline <= own) {
      const rest = next(context, index + 1);
      return this.strategy === 'aggressive' && context.deadlineEnforced === 'cooperative'
        ? raceAbort(rest, context.scope)
        : rest;
    }
    const due = Math.min(own, context.deadline);
    // A caller deadline already past leaves no budget at all, not a negative one.
    const call = new TimedCall(context.scope, due, Math.max(0, due - start), context.key, this);
    if (due <= start) {
      call.expire();
      call.scope.dispose();
      return Promise.reject(call.error);
    }
    if (due !== Number.POSITIVE_INFINITY) this.#deadlines.add(call);
    const inner = next(context.withDeadline(call.scope, due, this.strategy), index + 1);
    return (this.strategy === 'aggressive' ? raceAbort(inner, call.scope) : inner).then(
      (value) => {
        this.#finish(call);
        return value;
      },
      (error: unknown) => {
        this.#finish(call);
        // Whatever the function threw after its deadline passed, the cause is the timeout.
        if (call.error !== undefined && error !== call.error) {
          throw new TimeoutError(call.budgetMs, { cause: error });
        }
        throw error;
      },
    );
  }

  /** Asks the budget function; a throw from it, or a bad answer, rejects the call unrun. */
  #budgetOf(context: Context): number {
    const ms: unknown = this.#budget!(context);
    if (typeof ms !== 'number' || !(ms >= 0)) {
      const promise = ms instanceof Promise;
      // Nobody will await it: its own rejection must not surface as an unhandled one.
      if (promise) ms.catch(ignore);
      const shown = promise ? 'a promise' : describe(ms);
      throw new TypeError(
        `${this.name}: option "ms" returned ${shown} for this call; expected ${budgetExpected}`,
      );
    }
    return ms;
  }

  #finish(call: TimedCall): void {
    this.#deadlines.remove(call);
    call.scope.dispose();
  }

  /** @internal */
  expired(call: TimedCall): void {
    if (this.events.enabled) {
      this.events.emit('timeout', {
        timeoutMs: call.budgetMs,
        strategy: this.strategy,
        key: call.key,
      });
    }
  }
}

function ignore(): void {}

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
 * Bounds the time the rest of the pipeline may take to `ms` milliseconds, or to what
 * `ms(ctx)` answers for each call. Nested timeouts and the caller's own deadline combine: the
 * function's `ctx.deadline` is the earliest of them.
 */
export function timeout<D = unknown>(
  ms: number | TimeoutBudget<D>,
  options?: TimeoutOptions,
): TimeoutPolicy {
  return new TimeoutPolicy(ms as number | TimeoutBudget, options);
}
