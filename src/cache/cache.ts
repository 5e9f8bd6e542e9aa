import { AbortScope } from '../core/abort-scope.js';
import { type Clock, systemClock } from '../core/clock.js';
import { Context, type ExecutionContext, next } from '../core/context.js';
import { failure, type Outcome, success } from '../core/outcome.js';
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
import { Flight, Waiter } from './flight.js';
import {
  type CacheEntry,
  type CacheEvictReason,
  type CacheStore,
  MemoryCacheStore,
} from './store.js';

export interface CacheOptions<T = unknown> extends PolicyOptions {
  /** How long a stored value is answered without calling the function, in ms (>= 0 or Infinity). Required. */
  ttlMs: number;
  /**
   * After `ttlMs`, how long a stale value is still answered at once while one background call
   * refreshes it, in ms (>= 0 or Infinity). Default: 0 (none).
   */
  staleWhileRevalidateMs?: number;
  /**
   * After `ttlMs`, how long a stale value stands in for a failed call, in ms (>= 0 or
   * Infinity). Default: 0 (none).
   */
  staleIfErrorMs?: number;
  /**
   * How long a failure that `cacheOn` accepts is stored (and rethrown without calling the
   * function), in ms (>= 0 or Infinity). Default: 0 (failures are never stored).
   */
  negativeTtlMs?: number;
  /** Most entries the built-in store keeps (integer >= 1); not with `store`. Default: 10_000. */
  maxEntries?: number;
  /**
   * Most bytes the built-in store keeps, as `sizeOf` measures them (integer >= 1 or Infinity);
   * needs `sizeOf`; not with `store`. Default: Infinity.
   */
  maxBytes?: number;
  /** A value's size in bytes, for `maxBytes`. Not with `store`. Default: none. */
  sizeOf?: (value: T) => number;
  /**
   * The cache key of a call; undefined lets the call pass straight through, uncached. Default:
   * the call's `key` (`execute(fn, { key })`).
   */
  keyOf?: (context: ExecutionContext) => string | undefined;
  /**
   * Which outcomes are stored; must decide synchronously. Default: every success, no failure.
   * A failure it accepts is stored for `negativeTtlMs`.
   */
  cacheOn?: (outcome: Outcome<T>) => boolean;
  /** Where entries live. Default: a `MemoryCacheStore` bounded by `maxEntries` and `maxBytes`. */
  store?: CacheStore<T>;
}

export interface CacheEvents {
  /** A call was answered from a fresh entry, without calling the function. */
  hit: { readonly key: string };
  /** A call found no usable entry and started the call that fills it. */
  miss: { readonly key: string };
  /** A call was answered with a stale value; one background call refreshes it. */
  stale: { readonly key: string };
  /** A background refresh ended; `stored` says whether its outcome replaced the stale value. */
  revalidated: { readonly key: string; readonly outcome: Outcome; readonly stored: boolean };
  /** A failed call was answered with the stale value instead of its error. */
  staleIfError: { readonly key: string; readonly error: unknown };
  /** A call joined the call already running for its key; `waiters` counts it. */
  coalesced: { readonly key: string; readonly waiters: number };
  /** The built-in store dropped a usable entry to keep within a bound. */
  evicted: { readonly key: string; readonly reason: CacheEvictReason };
  /** A store call failed; reads count as misses, writes are lost. */
  storeError: { readonly key: string | undefined; readonly error: unknown };
}

/** What a cache of `T` may answer instead of the function's own result; nothing for an untyped one. */
type Answers<T> = unknown extends T ? never : T;

/**
 * Answers calls from stored outcomes by key: fresh ones without calling the function, stale
 * ones while a background call refreshes them or in place of a failure, and concurrent misses
 * for one key from one shared call.
 */
export class CachePolicy<T = unknown> extends BasePolicy<CacheEvents, T, Answers<T>> {
  readonly ttlMs: number;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  readonly negativeTtlMs: number;
  readonly store: CacheStore<T>;
  /** The built-in store, read synchronously on the hit path; undefined for a store of the user's. */
  readonly #memory: MemoryCacheStore<T> | undefined;
  readonly #keyOf: ((context: ExecutionContext) => string | undefined) | undefined;
  readonly #cacheOn: ((outcome: Outcome<T>) => boolean) | undefined;
  readonly #clock: Clock;
  /** How long past `freshUntil` an entry has any use. */
  readonly #staleMs: number;
  /** The call running for each key, at most one. */
  readonly #flights = new Map<string, Flight>();

  constructor(options: CacheOptions<T>) {
    const opts = checkOptions<CacheOptions<T>>('cache', options);
    super('cache', opts.name);
    const name = this.name;
    this.ttlMs = checkMs(name, 'ttlMs', opts.ttlMs, 0, true);
    this.staleWhileRevalidateMs = checkMs(
      name,
      'staleWhileRevalidateMs',
      opts.staleWhileRevalidateMs ?? 0,
      0,
      true,
    );
    this.staleIfErrorMs = checkMs(name, 'staleIfErrorMs', opts.staleIfErrorMs ?? 0, 0, true);
    this.negativeTtlMs = checkMs(name, 'negativeTtlMs', opts.negativeTtlMs ?? 0, 0, true);
    this.#staleMs = Math.max(this.staleWhileRevalidateMs, this.staleIfErrorMs);
    this.#keyOf = opts.keyOf === undefined ? undefined : checkFunction(name, 'keyOf', opts.keyOf);
    this.#cacheOn =
      opts.cacheOn === undefined ? undefined : checkFunction(name, 'cacheOn', opts.cacheOn);
    this.#clock = checkClock(name, opts.clock, systemClock);
    if (opts.store !== undefined) {
      const store = opts.store as Partial<CacheStore<T>> | null;
      if (
        typeof store !== 'object' ||
        store === null ||
        typeof store.get !== 'function' ||
        typeof store.set !== 'function' ||
        typeof store.delete !== 'function' ||
        typeof store.clear !== 'function'
      ) {
        throw invalid(
          name,
          'store',
          opts.store,
          'a CacheStore, with get(), set(), delete() and clear()',
        );
      }
      for (const option of ['maxEntries', 'maxBytes', 'sizeOf'] as const) {
        if (opts[option] !== undefined) {
          throw invalid(
            name,
            option,
            opts[option],
            'unset when a store is given (the store has its own bounds)',
          );
        }
      }
      this.store = opts.store;
    } else {
      if (opts.maxBytes !== undefined && opts.sizeOf === undefined) {
        throw invalid(name, 'sizeOf', undefined, 'a function when "maxBytes" is set');
      }
      this.store = new MemoryCacheStore<T>({
        maxEntries: checkInteger(name, 'maxEntries', opts.maxEntries ?? 10_000, 1),
        maxBytes: checkInteger(
          name,
          'maxBytes',
          opts.maxBytes ?? Number.POSITIVE_INFINITY,
          1,
          true,
        ),
        sizeOf: opts.sizeOf === undefined ? undefined : checkFunction(name, 'sizeOf', opts.sizeOf),
      });
    }
    if (this.store instanceof MemoryCacheStore) {
      if (this.store.onEvicted !== undefined) {
        throw invalid(
          name,
          'store',
          'a MemoryCacheStore',
          'a store no other cache uses; give each cache its own',
        );
      }
      this.store.onEvicted = (key, reason) => {
        if (this.events.enabled) this.events.emit('evicted', { key, reason });
      };
      this.#memory = this.store;
    }
  }

  /** Calls running now, one per key at most (background refreshes included). */
  get inflight(): number {
    return this.#flights.size;
  }

  /** The fresh value stored under `key`, or undefined. Never calls anything. */
  async get(key: string): Promise<T | undefined> {
    const now = this.#clock.now();
    const entry = await this.store.get(checkKey(this.name, key), now);
    if (entry === undefined || now >= entry.freshUntil) return undefined;
    return entry.outcome.ok ? entry.outcome.value : undefined;
  }

  /**
   * Stores `value` under `key` as if a call had just returned it. A call running for the key
   * keeps going for its callers, but its outcome is no longer stored.
   */
  async set(key: string, value: T): Promise<void> {
    this.#detach(checkKey(this.name, key));
    await this.store.set(key, this.#entry(success(value), this.#clock.now()), this.#clock.now());
  }

  /** Forgets `key`; a call running for it is no longer stored either. */
  async delete(key: string): Promise<void> {
    this.#detach(checkKey(this.name, key));
    await this.store.delete(key);
  }

  /** Forgets every key; calls running now are no longer stored. */
  async clear(): Promise<void> {
    for (const flight of this.#flights.values()) flight.current = false;
    this.#flights.clear();
    await this.store.clear();
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    const key = this.#keyOf === undefined ? context.key : this.#keyFor(context);
    if (key === undefined) return next(context, index + 1);
    const scope = context.scope;
    if (scope.aborted) return Promise.reject(scope.reason);
    const now = this.#clock.now();
    const memory = this.#memory;
    if (memory === undefined) return this.#runRemote(context, index, key, now);
    const entry = memory.get(key, now);
    if (entry !== undefined && now < entry.freshUntil) {
      if (this.events.enabled) this.events.emit('hit', { key });
      const outcome = entry.outcome;
      return outcome.ok ? Promise.resolve(outcome.value) : Promise.reject(outcome.error);
    }
    return this.#decide(context, index, key, now, entry);
  }

  #keyFor(context: Context): string | undefined {
    const key = this.#keyOf!(context);
    if (key === undefined || typeof key === 'string') return key;
    throw new TypeError(
      `${this.name}: option "keyOf" must return a string or undefined (got ${describe(key)})`,
    );
  }

  async #runRemote(context: Context, index: number, key: string, now: number): Promise<unknown> {
    let entry: CacheEntry<T> | undefined;
    try {
      entry = await this.store.get(key, now);
    } catch (error) {
      if (this.events.enabled) this.events.emit('storeError', { key, error });
    }
    if (context.scope.aborted) throw context.scope.reason;
    if (entry !== undefined && now < entry.freshUntil) {
      if (this.events.enabled) this.events.emit('hit', { key });
      if (entry.outcome.ok) return entry.outcome.value;
      throw entry.outcome.error;
    }
    return this.#decide(context, index, key, now, entry);
  }

  /** A call that found no fresh entry: a stale answer, a shared call, or a new one. */
  #decide(
    context: Context,
    index: number,
    key: string,
    now: number,
    entry: CacheEntry<T> | undefined,
  ): Promise<unknown> {
    const usable = entry?.outcome.ok ? entry : undefined;
    let flight = this.#flights.get(key);
    if (usable !== undefined && now < usable.freshUntil + this.staleWhileRevalidateMs) {
      if (this.events.enabled) this.events.emit('stale', { key });
      if (flight === undefined) this.#start(context, index, key, true, usable);
      return Promise.resolve((usable.outcome as { value: T }).value);
    }
    if (flight === undefined) {
      if (this.events.enabled) this.events.emit('miss', { key });
      const stale =
        usable !== undefined && now < usable.freshUntil + this.staleIfErrorMs ? usable : undefined;
      flight = this.#start(context, index, key, false, stale);
    } else if (this.events.enabled) {
      this.events.emit('coalesced', { key, waiters: flight.waiters.size + 1 });
    }
    return this.#wait(flight, context.scope);
  }

  /** Starts the shared call for `key`, under its own scope and with no caller's deadline. */
  #start(
    context: Context,
    index: number,
    key: string,
    background: boolean,
    stale: CacheEntry | undefined,
  ): Flight {
    const flight = new Flight(key, background, stale);
    this.#flights.set(key, flight);
    const shared = new Context(
      context.task,
      context.chain,
      flight.scope,
      context.attempt,
      context.key,
      context.data,
      Number.POSITIVE_INFINITY,
      false,
      context.priority,
      context.classify,
    );
    next(shared, index + 1).then(
      (value) => this.#settle(flight, success(value)),
      (error: unknown) => this.#settle(flight, failure(error)),
    );
    return flight;
  }

  #wait(flight: Flight, scope: AbortScope): Promise<unknown> {
    const waiter = new Waiter(scope);
    const promise = new Promise<unknown>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    flight.waiters.push(waiter);
    if (scope !== AbortScope.none) {
      waiter.onAbort = (reason) => this.#leave(flight, waiter, reason);
      scope.watch(waiter.onAbort);
    }
    return promise;
  }

  /** A caller gave up: it leaves with its reason; the last one out cancels the shared call. */
  #leave(flight: Flight, waiter: Waiter, reason: unknown): void {
    if (!flight.waiters.remove(waiter)) return;
    waiter.reject(reason);
    if (flight.waiters.size > 0 || flight.background) return;
    // An invalidated flight is no longer in the map, where a newer one may stand for its key.
    if (flight.current) {
      flight.current = false;
      this.#flights.delete(flight.key);
    }
    flight.scope.abort(reason);
  }

  /** Makes the running call for `key`, if any, no longer the one whose outcome is stored. */
  #detach(key: string): void {
    const flight = this.#flights.get(key);
    if (flight === undefined) return;
    flight.current = false;
    this.#flights.delete(key);
  }

  #settle(flight: Flight, outcome: Outcome): void {
    const now = this.#clock.now();
    let answer = outcome;
    let stored = false;
    if (flight.current) {
      flight.current = false;
      this.#flights.delete(flight.key);
      try {
        stored = this.#store(flight, outcome as Outcome<T>, now);
      } catch (error) {
        answer = failure(error);
      }
    }
    if (flight.background && this.events.enabled) {
      this.events.emit('revalidated', { key: flight.key, outcome: answer, stored });
    }
    const stale = flight.stale;
    const rescue =
      !answer.ok && stale !== undefined && now < stale.freshUntil + this.staleIfErrorMs;
    for (
      let waiter = flight.waiters.shift();
      waiter !== undefined;
      waiter = flight.waiters.shift()
    ) {
      waiter.scope.unwatch(waiter.onAbort);
      if (rescue) {
        if (this.events.enabled) {
          this.events.emit('staleIfError', {
            key: flight.key,
            error: (answer as { error: unknown }).error,
          });
        }
        waiter.resolve((stale.outcome as { value: unknown }).value);
      } else if (answer.ok) waiter.resolve(answer.value);
      else waiter.reject(answer.error);
    }
  }

  /** Stores the outcome if `cacheOn` accepts it; true when it did. */
  #store(flight: Flight, outcome: Outcome<T>, now: number): boolean {
    const accepted =
      this.#cacheOn === undefined
        ? outcome.ok
        : verdict(this.name, 'cacheOn', this.#cacheOn(outcome), outcome);
    if (!accepted) return false;
    // A failure never replaces a value still good for stale-if-error, nor one being refreshed.
    if (
      !outcome.ok &&
      (this.negativeTtlMs === 0 || flight.background || flight.stale !== undefined)
    ) {
      return false;
    }
    const entry = this.#entry(outcome, now);
    // The built-in store fails only on a bad sizeOf: the caller's bug, shown to the caller.
    if (this.#memory !== undefined) {
      this.#memory.set(flight.key, entry, now);
      return true;
    }
    try {
      const written = this.store.set(flight.key, entry, now);
      if (written !== undefined)
        Promise.resolve(written).then(undefined, this.#onWriteError(flight.key));
    } catch (error) {
      this.#onWriteError(flight.key)(error);
    }
    return true;
  }

  #onWriteError(key: string): (error: unknown) => void {
    return (error) => {
      if (this.events.enabled) this.events.emit('storeError', { key, error });
    };
  }

  #entry(outcome: Outcome<T>, now: number): CacheEntry<T> {
    if (!outcome.ok) {
      const until = now + this.negativeTtlMs;
      return { outcome, freshUntil: until, staleUntil: until };
    }
    const freshUntil = now + this.ttlMs;
    return { outcome, freshUntil, staleUntil: freshUntil + this.#staleMs };
  }
}

function checkKey(policy: string, key: unknown): string {
  if (typeof key !== 'string') {
    throw new TypeError(`${policy}: a cache key must be a string (got ${describe(key)})`);
  }
  return key;
}

/**
 * Caches outcomes by key for `ttlMs`, serves stale values while refreshing
 * (`staleWhileRevalidateMs`) or in place of failures (`staleIfErrorMs`), and shares one call
 * among concurrent misses for a key.
 */
export function cache<T = unknown>(options: CacheOptions<T>): CachePolicy<T> {
  return new CachePolicy<T>(options);
}
