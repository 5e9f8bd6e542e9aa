import type { Clock, TimerHandle } from '../core/clock.js';
import { TimeoutError } from '../core/errors.js';
import { type Linked, LinkedList } from '../core/linked-list.js';
import { describe } from '../core/policy.js';
import type { RateLimitRule } from './algorithms.js';
import type { RateLimitDecision, RateLimitStore } from './store.js';

/** A store call still out. */
class Pending implements Linked<Pending> {
  prev: Pending | undefined = undefined;
  next: Pending | undefined = undefined;
  queued = false;
  resolve: (decision: RateLimitDecision) => void = noop;
  reject: (error: unknown) => void = noop;

  constructor(readonly due: number) {}
}

/**
 * Asks a store that answers with promises, each call bounded by `timeoutMs`. Every call gets
 * the same timeout, so they fall due in the order they were made: one list, one timer armed
 * for the oldest.
 */
export class StoreCaller {
  readonly #pending = new LinkedList<Pending>();
  #timer: TimerHandle | undefined;
  readonly #onTimer = (): void => this.#expire();

  constructor(
    private readonly store: RateLimitStore,
    private readonly rule: RateLimitRule,
    private readonly clock: Clock,
    readonly timeoutMs: number,
  ) {}

  ask(
    key: string | undefined,
    cost: number,
    now: number,
    consume: boolean,
    maxDelayMs: number,
  ): Promise<RateLimitDecision> {
    let answer: RateLimitDecision | PromiseLike<RateLimitDecision>;
    try {
      answer = this.store.decide(this.rule, key, cost, now, consume, maxDelayMs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!isThenable(answer)) return this.#checked(answer);
    const pending = new Pending(now + this.timeoutMs);
    const promise = new Promise<RateLimitDecision>((resolve, reject) => {
      pending.resolve = resolve;
      pending.reject = reject;
    });
    this.#pending.push(pending);
    if (this.#timer === undefined)
      this.#timer = this.clock.setTimeout(this.#onTimer, this.timeoutMs);
    Promise.resolve(answer).then(
      (decision) => {
        if (this.#leave(pending)) this.#checked(decision).then(pending.resolve, pending.reject);
      },
      (error: unknown) => {
        if (this.#leave(pending)) pending.reject(error);
      },
    );
    return promise;
  }

  #checked(decision: RateLimitDecision): Promise<RateLimitDecision> {
    const ok =
      typeof decision === 'object' &&
      decision !== null &&
      typeof decision.allowed === 'boolean' &&
      typeof decision.retryAfterMs === 'number' &&
      decision.retryAfterMs >= 0 &&
      Number.isFinite(decision.retryAfterMs);
    if (ok) return Promise.resolve(decision);
    return Promise.reject(
      new TypeError(
        `${this.rule.name}: the store's decide() must answer { allowed: boolean, retryAfterMs: a finite number >= 0, ... } (got ${describe(decision)})`,
      ),
    );
  }

  /** Takes a settled call off the list; false when its timeout already answered. */
  #leave(pending: Pending): boolean {
    if (!this.#pending.remove(pending)) return false;
    if (this.#pending.size === 0 && this.#timer !== undefined) {
      this.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    return true;
  }

  #expire(): void {
    this.#timer = undefined;
    const now = this.clock.now();
    for (let head = this.#pending.head; head !== undefined; head = this.#pending.head) {
      if (head.due > now) {
        this.#timer = this.clock.setTimeout(this.#onTimer, head.due - now);
        return;
      }
      this.#pending.remove(head);
      head.reject(new TimeoutError(this.timeoutMs));
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<RateLimitDecision> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function noop(): void {}
