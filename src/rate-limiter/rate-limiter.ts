import { AbortScope } from '../core/abort-scope.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { type Context, type ExecutionContext, next } from '../core/context.js';
import { RateLimitedError } from '../core/errors.js';
import { type GaugeSink, readGauges, registerGauges } from '../core/gauges.js';
import { BasePolicy, describe, type PolicyOptions } from '../core/policy.js';
import { checkInteger, checkMs, checkOneOf, checkOptions, invalid } from '../core/validate.js';
import type { RateLimitAlgorithm, RateLimitRule } from './algorithms.js';
import { StoreCaller } from './remote.js';
import { MemoryRateLimitStore, type RateLimitDecision, type RateLimitStore } from './store.js';
import { Waiter, WaiterHeap } from './waiters.js';

export type RateLimitMode = 'reject' | 'wait';

export interface RateLimiterOptions extends PolicyOptions {
  /** Units admitted per `intervalMs` in the long run. Required: an integer >= 0 (0 refuses all). */
  limit: number;
  /** The period `limit` applies to, in ms (> 0, finite). Default: 1000. */
  intervalMs?: number;
  /** Units an idle bucket admits at once, an integer >= 1. Default: `limit`. */
  burst?: number;
  /** How units are counted. Default: 'gcra'. */
  algorithm?: RateLimitAlgorithm;
  /** 'reject' refuses a call that does not fit; 'wait' holds it until it does. Default: 'reject'. */
  mode?: RateLimitMode;
  /**
   * Wait mode: the longest a call may wait for its units (ms, >= 0 or Infinity); a call that
   * would wait longer, or past its deadline, is refused at once. Default: `intervalMs`.
   */
  maxWaitMs?: number;
  /** Units a call takes: a number >= 0, or a function of the call's context. Default: 1. */
  cost?: number | ((context: ExecutionContext) => number);
  /**
   * Most keyed buckets kept by the built-in store (an integer >= 1); not with `store`, which
   * has its own. Default: 100_000.
   */
  maxKeys?: number;
  /** Where buckets live. Default: a `MemoryRateLimitStore` of `maxKeys` buckets. */
  store?: RateLimitStore;
  /** Longest a store that answers with a promise may take, in ms (> 0). Default: 1000. */
  storeTimeoutMs?: number;
  /**
   * What a call gets when the store fails or times out: 'allow' runs it (fail open), 'reject'
   * rejects it with the store's error (fail closed). Default: 'allow'.
   */
  onStoreError?: 'allow' | 'reject';
}

export interface RateLimiterEvents {
  /** A call (or a `consume`) was refused. */
  limited: { readonly key: string | undefined; readonly retryAfterMs: number };
  /** A waiting call got its units and started. */
  waited: { readonly key: string | undefined; readonly waitedMs: number };
  /** The key's bucket, not yet refilled, was dropped to keep within `maxKeys`. */
  evicted: { readonly key: string };
  /** The store failed or timed out; `onStoreError` says what the call got. */
  storeError: { readonly key: string | undefined; readonly error: unknown };
}

/** The options a `consume` or `peek` takes. */
export interface RateLimitRequest {
  /** The bucket's key; calls without one share a bucket. */
  key?: string;
  /** Units to take (or, for peek, to ask about). Default: the limiter's `cost` if a number, else 1. */
  cost?: number;
}

/**
 * At most `limit` units per `intervalMs` for each key, with bursts of up to `burst`. Refuses
 * (or, in wait mode, delays) calls beyond that.
 */
export class RateLimiterPolicy extends BasePolicy<RateLimiterEvents> {
  readonly limit: number;
  readonly intervalMs: number;
  readonly burst: number;
  readonly algorithm: RateLimitAlgorithm;
  readonly mode: RateLimitMode;
  readonly maxWaitMs: number;
  readonly storeTimeoutMs: number;
  readonly onStoreError: 'allow' | 'reject';
  /** The rule handed to the store with every decision. */
  readonly rule: RateLimitRule;
  readonly store: RateLimitStore;
  readonly #clock: Clock;
  readonly #fixedCost: number;
  readonly #costOf: ((context: ExecutionContext) => number) | undefined;
  /** The built-in store's synchronous path, or undefined for a store of the user's. */
  readonly #memory: MemoryRateLimitStore | undefined;
  readonly #remote: StoreCaller | undefined;
  readonly #waiters = new WaiterHeap();
  #seq = 0;
  #timer: TimerHandle | undefined;
  #armedFor = Number.POSITIVE_INFINITY;
  readonly #onTimer = (): void => this.#wake();

  constructor(options: RateLimiterOptions) {
    const opts = checkOptions<RateLimiterOptions>('rateLimiter', options);
    super('rate-limiter', opts.name);
    const name = this.name;
    this.limit = checkInteger(name, 'limit', opts.limit, 0);
    const intervalMs = opts.intervalMs ?? 1000;
    if (typeof intervalMs !== 'number' || !(intervalMs > 0) || !Number.isFinite(intervalMs)) {
      throw invalid(name, 'intervalMs', intervalMs, 'a finite number of milliseconds > 0');
    }
    this.intervalMs = intervalMs;
    this.burst = checkInteger(name, 'burst', opts.burst ?? Math.max(this.limit, 1), 1);
    this.algorithm = checkOneOf(name, 'algorithm', opts.algorithm ?? 'gcra', [
      'gcra',
      'token-bucket',
      'sliding-window',
      'fixed-window',
    ]);
    this.mode = checkOneOf(name, 'mode', opts.mode ?? 'reject', ['reject', 'wait']);
    this.maxWaitMs = checkMs(name, 'maxWaitMs', opts.maxWaitMs ?? intervalMs, 0, true);
    const cost = opts.cost ?? 1;
    if (typeof cost === 'function') {
      this.#costOf = cost;
      this.#fixedCost = 1;
    } else {
      if (typeof cost !== 'number' || !(cost >= 0) || !Number.isFinite(cost)) {
        throw invalid(name, 'cost', cost, 'a finite number >= 0 or a function');
      }
      if (cost > this.burst && this.limit > 0) {
        throw invalid(
          name,
          'cost',
          cost,
          `at most burst (${this.burst}), or no call could ever run`,
        );
      }
      this.#fixedCost = cost;
    }
    this.storeTimeoutMs = checkMs(name, 'storeTimeoutMs', opts.storeTimeoutMs ?? 1000, 1, true);
    this.onStoreError = checkOneOf(name, 'onStoreError', opts.onStoreError ?? 'allow', [
      'allow',
      'reject',
    ]);
    this.#clock = this.useClock(opts.clock);
    this.rule = Object.freeze({
      name,
      algorithm: this.algorithm,
      limit: this.limit,
      intervalMs,
      burst: this.burst,
    });
    if (opts.store !== undefined) {
      const store = opts.store as Partial<RateLimitStore> | null;
      if (typeof store !== 'object' || store === null || typeof store.decide !== 'function') {
        throw invalid(name, 'store', opts.store, 'a RateLimitStore, an object with decide()');
      }
      if (opts.maxKeys !== undefined) {
        throw invalid(
          name,
          'maxKeys',
          opts.maxKeys,
          'unset when a store is given (the store has its own bound)',
        );
      }
      this.store = opts.store;
    } else {
      const maxKeys = checkInteger(name, 'maxKeys', opts.maxKeys ?? 100_000, 1);
      this.store = new MemoryRateLimitStore({ maxKeys });
    }
    if (this.store instanceof MemoryRateLimitStore) {
      this.#memory = this.store;
      this.#memory.bind(this.rule, this.#onEvicted);
    } else {
      this.#remote = new StoreCaller(this.store, this.rule, this.#clock, this.storeTimeoutMs);
    }
    registerGauges(this);
  }

  /** @internal */
  [readGauges](sink: GaugeSink): void {
    sink.value(this.name, 'rate-limiter', 'waiting', this.#waiters.size);
  }

  /** Calls waiting for their reserved units now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Takes `cost` units from `key`'s bucket if they fit now, and says what happened. */
  consume(request?: RateLimitRequest): Promise<RateLimitDecision> {
    return this.#decideFor('consume', request, true);
  }

  /** What `consume` would answer now, without taking anything. */
  peek(request?: RateLimitRequest): Promise<RateLimitDecision> {
    return this.#decideFor('peek', request, false);
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    if (context.scope.aborted) return Promise.reject(context.scope.reason);
    let cost = this.#fixedCost;
    if (this.#costOf !== undefined) {
      const asked: unknown = this.#costOf(context);
      if (!this.#fits(asked)) {
        return Promise.reject(this.#costError(asked, 'option "cost" returned'));
      }
      cost = asked;
    }
    const memory = this.#memory;
    if (memory === undefined || this.limit === 0) return this.#runRemote(context, index, cost);
    const now = this.#clock.now();
    const key = context.key;
    if (this.mode === 'reject') {
      if (memory.decideNow(key, cost, now, true, 0)) return next(context, index + 1);
      return Promise.reject(
        this.#limited(key, memory.verdict.retryAfterMs, memory.verdict.remaining),
      );
    }
    const maxDelay = this.#maxDelay(context, now);
    if (!memory.decideNow(key, cost, now, true, maxDelay)) {
      return Promise.reject(
        this.#limited(key, memory.verdict.retryAfterMs, memory.verdict.remaining),
      );
    }
    const delay = memory.verdict.retryAfterMs;
    if (delay === 0) return next(context, index + 1);
    const waiter = this.#enqueue(context, now, delay);
    const undo = memory.undo;
    waiter.bucket = undo.bucket;
    waiter.version = undo.version;
    waiter.a = undo.a;
    waiter.b = undo.b;
    waiter.c = undo.c;
    waiter.d = undo.d;
    waiter.fullAt = undo.fullAt;
    return this.#afterWait(waiter, index);
  }

  /** A store of the user's, or `limit: 0` (which needs no store at all). */
  async #runRemote(context: Context, index: number, cost: number): Promise<unknown> {
    const key = context.key;
    if (this.limit === 0) throw this.#limited(key, this.intervalMs, 0);
    const now = this.#clock.now();
    const maxDelay = this.mode === 'wait' ? this.#maxDelay(context, now) : 0;
    let decision: RateLimitDecision;
    try {
      decision = await abortable(context.scope, this.#remote!.ask(key, cost, now, true, maxDelay));
    } catch (error) {
      if (context.scope.aborted) throw context.scope.reason;
      if (this.events.enabled) this.events.emit('storeError', { key, error });
      if (this.onStoreError === 'reject') throw error;
      return next(context, index + 1);
    }
    if (!decision.allowed) throw this.#limited(key, decision.retryAfterMs, decision.remaining);
    if (context.scope.aborted) throw context.scope.reason;
    // Not a reservation this limiter can give back: a remote store's units stay spent.
    const delay = Math.max(0, decision.retryAfterMs - (this.#clock.now() - now));
    if (delay === 0 || this.mode === 'reject') return next(context, index + 1);
    return this.#afterWait(this.#enqueue(context, this.#clock.now(), delay), index);
  }

  async #afterWait(waiter: Waiter, index: number): Promise<unknown> {
    await new Promise<void>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
      waiter.scope.watch(waiter.onAbort);
    });
    // Its time came, but the caller may have aborted in the moment before this resumed.
    if (waiter.scope.aborted) throw waiter.scope.reason;
    return next(waiter.context, index + 1);
  }

  #enqueue(context: Context, now: number, delay: number): Waiter {
    const waiter = new Waiter(context, context.scope, now + delay, this.#seq++, now);
    waiter.onAbort = (reason) => this.#abandon(waiter, reason);
    this.#waiters.push(waiter);
    if (waiter.due < this.#armedFor) this.#arm(waiter.due, now);
    return waiter;
  }

  #abandon(waiter: Waiter, reason: unknown): void {
    if (!this.#waiters.remove(waiter)) return;
    this.#memory?.refund(waiter, this.#clock.now());
    if (this.#waiters.size === 0) this.#disarm();
    waiter.reject(reason);
  }

  /** Starts every waiter whose time has come, oldest reservation first, then re-arms. */
  #wake(): void {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    for (let top = this.#waiters.top; top !== undefined; top = this.#waiters.top) {
      if (top.due > now) {
        this.#arm(top.due, now);
        return;
      }
      this.#waiters.remove(top);
      top.scope.unwatch(top.onAbort);
      if (this.events.enabled) {
        this.events.emit('waited', { key: top.context.key, waitedMs: now - top.since });
      }
      top.resolve();
    }
  }

  #arm(due: number, now: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#armedFor = due;
    this.#timer = this.#clock.setTimeout(this.#onTimer, Math.max(0, due - now));
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  /** How long a call may wait: `maxWaitMs`, and no wait that cannot fit its deadline. */
  #maxDelay(context: Context, now: number): number {
    const left = context.deadline - now;
    const max = left < this.maxWaitMs ? left : this.maxWaitMs;
    return max > 0 ? max : 0;
  }

  /** A cost a call may have: a finite number >= 0 that a bucket can ever hold. */
  #fits(cost: unknown): cost is number {
    return (
      typeof cost === 'number' &&
      cost >= 0 &&
      Number.isFinite(cost) &&
      (cost <= this.burst || this.limit === 0)
    );
  }

  #costError(cost: unknown, what: string): TypeError {
    const expected =
      typeof cost === 'number' && Number.isFinite(cost) && cost > this.burst
        ? `at most burst (${this.burst}), or the call could never run`
        : 'a finite number >= 0';
    return new TypeError(`${this.name}: ${what} ${describe(cost)}; it must be ${expected}`);
  }

  #limited(key: string | undefined, retryAfterMs: number, remaining: number): RateLimitedError {
    if (this.events.enabled) this.events.emit('limited', { key, retryAfterMs });
    const of = key === undefined ? '' : ` for key ${JSON.stringify(key)}`;
    return new RateLimitedError(
      `${this.name} is rate limited${of}: ${this.limit} per ${this.intervalMs} ms; retry in ${Math.ceil(retryAfterMs)} ms`,
      retryAfterMs,
      this.limit,
      remaining,
      key,
    );
  }

  readonly #onEvicted = (key: string): void => {
    if (this.events.enabled) this.events.emit('evicted', { key });
  };

  /**
   * `consume`, decided synchronously when the limiter needs no store to answer (its built-in
   * memory store, or `limit: 0`): the same decision and events, without the promise. Undefined
   * when a store of the user's must be asked; use `consume` then. Throws what `consume` would
   * reject with. For server adapters, which decide on every request. @internal
   */
  consumeNow(request?: RateLimitRequest): RateLimitDecision | undefined {
    if (this.#memory === undefined && this.limit !== 0) return undefined;
    const { key, cost } = this.#read('consume', request);
    return this.#decideHere(key, cost, true);
  }

  /** The request's key and cost, checked. */
  #read(
    method: 'consume' | 'peek',
    request: RateLimitRequest | undefined,
  ): { key: string | undefined; cost: number } {
    const req = checkOptions<RateLimitRequest>(`${this.name}.${method}`, request);
    const key = req.key;
    if (key !== undefined && typeof key !== 'string') {
      throw new TypeError(
        `${this.name}: ${method}() option "key" must be a string (got ${describe(key)})`,
      );
    }
    const cost = req.cost ?? (this.#costOf === undefined ? this.#fixedCost : 1);
    if (!this.#fits(cost)) throw this.#costError(cost, `${method}() got a cost of`);
    return { key, cost };
  }

  /** A decision made in process: undefined when the store is the user's. */
  #decideHere(
    key: string | undefined,
    cost: number,
    consume: boolean,
  ): RateLimitDecision | undefined {
    if (this.limit === 0) {
      if (consume && this.events.enabled)
        this.events.emit('limited', { key, retryAfterMs: this.intervalMs });
      return {
        allowed: false,
        remaining: 0,
        retryAfterMs: this.intervalMs,
        resetAfterMs: 0,
        limit: 0,
      };
    }
    const memory = this.#memory;
    if (memory === undefined) return undefined;
    const allowed = memory.decideNow(key, cost, this.#clock.now(), consume, 0);
    const { remaining, retryAfterMs, resetAfterMs } = memory.verdict;
    if (consume && !allowed && this.events.enabled) {
      this.events.emit('limited', { key, retryAfterMs });
    }
    return { allowed, remaining, retryAfterMs, resetAfterMs, limit: this.limit };
  }

  #decideFor(
    method: 'consume' | 'peek',
    request: RateLimitRequest | undefined,
    consume: boolean,
  ): Promise<RateLimitDecision> {
    let key: string | undefined;
    let cost: number;
    let here: RateLimitDecision | undefined;
    try {
      ({ key, cost } = this.#read(method, request));
      here = this.#decideHere(key, cost, consume);
    } catch (error) {
      return Promise.reject(error);
    }
    if (here !== undefined) return Promise.resolve(here);
    return this.#remote!.ask(key, cost, this.#clock.now(), consume, 0).then(
      (decision) => {
        if (consume && !decision.allowed && this.events.enabled) {
          this.events.emit('limited', { key, retryAfterMs: decision.retryAfterMs });
        }
        return decision;
      },
      (error: unknown) => {
        if (this.events.enabled) this.events.emit('storeError', { key, error });
        if (this.onStoreError === 'reject') throw error;
        // Fail open: granted, as a call through execute would be, with nothing known.
        return {
          allowed: true,
          remaining: 0,
          retryAfterMs: 0,
          resetAfterMs: 0,
          limit: this.limit,
        };
      },
    );
  }
}

/** `promise`, or the scope's abort reason as soon as it aborts first. */
function abortable<T>(scope: AbortScope, promise: Promise<T>): Promise<T> {
  if (scope === AbortScope.none) return promise;
  return new Promise<T>((resolve, reject) => {
    scope.watch(reject);
    promise.then(
      (value) => {
        scope.unwatch(reject);
        resolve(value);
      },
      (error: unknown) => {
        scope.unwatch(reject);
        reject(error);
      },
    );
  });
}

/**
 * A rate limiter: at most `limit` units per `intervalMs` per key, bursts of up to `burst`.
 * Calls beyond it are refused with `RateLimitedError`, or in wait mode held until they fit.
 */
export function rateLimiter(options: RateLimiterOptions): RateLimiterPolicy {
  return new RateLimiterPolicy(options);
}
