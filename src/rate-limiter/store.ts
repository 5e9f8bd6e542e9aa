import { LinkedList } from '../core/linked-list.js';
import { checkInteger, checkOptions } from '../core/validate.js';
import { Bucket, decide, type RateLimitRule, Rates, reset, type Verdict } from './algorithms.js';

/** What a limiter answers about one key: `consume()`, `peek()`, and every store call. */
export interface RateLimitDecision {
  /** Whether the units were (or, for `peek`, would be) granted. */
  readonly allowed: boolean;
  /** Units left now, after this decision. */
  readonly remaining: number;
  /**
   * Refused: how long until the cost would fit, in ms. Granted: 0, or, for a reservation a
   * waiting call made (see {@link RateLimitStore.decide}), how long until it may run.
   */
  readonly retryAfterMs: number;
  /** How long until the key's bucket is full again (as if never used), in ms. */
  readonly resetAfterMs: number;
  /** The limiter's `limit`. */
  readonly limit: number;
}

/**
 * Where a limiter keeps its buckets. The built-in {@link MemoryRateLimitStore} keeps them in
 * the process; a store backed by Redis (a later adapter) shares them between processes.
 *
 * One `decide` call makes one decision atomically: read the key's state, judge, and, when
 * `consume` is set and the cost fits, write it back (for GCRA, one Lua script). It may answer
 * synchronously or with a promise; the limiter bounds a promise by its `storeTimeoutMs`.
 */
export interface RateLimitStore {
  /**
   * Decides whether `cost` units of `rule` fit `key`'s bucket at `now` (the limiter's clock)
   * or within `maxDelayMs` after it. When they fit and `consume` is set, takes them: with a
   * delay, as a reservation that later calls queue behind (`retryAfterMs` says when the
   * reserved call may run). `key` is undefined for calls without one, which share a bucket.
   */
  decide(
    rule: RateLimitRule,
    key: string | undefined,
    cost: number,
    now: number,
    consume: boolean,
    maxDelayMs: number,
  ): RateLimitDecision | PromiseLike<RateLimitDecision>;
}

export interface MemoryRateLimitStoreOptions {
  /**
   * Most keyed buckets kept (an integer >= 1). A bucket full for an interval is dropped
   * silently as new keys come; past the bound, the least recently used one goes, and the
   * limiter emits `evicted` for it unless it had refilled. Default: 100_000.
   */
  maxKeys?: number;
}

/** What a waiting call needs to give its reservation back. @internal */
export interface Reservation {
  bucket: Bucket | undefined;
  version: number;
  a: number;
  b: number;
  c: number;
  d: number;
  fullAt: number;
}

/**
 * Buckets in process memory: a Map for lookup and an intrusive list in least-recently-used
 * order, both O(1) per call. Times are kept relative to the first one seen, so that the
 * floating-point arithmetic works on small numbers rather than on epoch milliseconds.
 *
 * It serves one limiter: the limiter binds it to its rule when built.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #line = new LinkedList<Bucket>();
  #shared: Bucket | undefined;
  /** Stands in for a key not kept, so a refusal or a peek makes no bucket. */
  readonly #scratch = new Bucket(undefined);
  #rule: RateLimitRule | undefined;
  #rates: Rates | undefined;
  #origin = Number.NaN;
  #onEvicted: ((key: string) => void) | undefined;
  /** The outcome of the latest `decideNow`, read by the limiter right after. @internal */
  readonly verdict: Verdict = { allowed: false, retryAfterMs: 0, remaining: 0, resetAfterMs: 0 };
  /**
   * What undoing the latest consumption of a `decideNow` with a delay allowed takes: the
   * limiter copies it into the waiter it makes. @internal
   */
  readonly undo: Reservation = {
    bucket: undefined,
    version: 0,
    a: 0,
    b: 0,
    c: 0,
    d: 0,
    fullAt: 0,
  };

  constructor(options?: MemoryRateLimitStoreOptions) {
    const opts = checkOptions<MemoryRateLimitStoreOptions>('memoryRateLimitStore', options);
    this.maxKeys = checkInteger('memoryRateLimitStore', 'maxKeys', opts.maxKeys ?? 100_000, 1);
  }

  /** Keyed buckets kept now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Binds the store to its limiter. @internal */
  bind(rule: RateLimitRule, onEvicted: (key: string) => void): void {
    if (this.#rule !== undefined) {
      throw new TypeError(
        `${rule.name}: option "store" is a memory store that already serves the limiter "${this.#rule.name}"; give each limiter its own`,
      );
    }
    this.#rule = rule;
    this.#rates = new Rates(rule);
    this.#onEvicted = onEvicted;
  }

  decide(
    rule: RateLimitRule,
    key: string | undefined,
    cost: number,
    now: number,
    consume: boolean,
    maxDelayMs: number,
  ): RateLimitDecision {
    if (rule !== this.#rule) {
      throw new TypeError(`memoryRateLimitStore: asked about a rule it is not bound to`);
    }
    this.decideNow(key, cost, now, consume, maxDelayMs);
    const { allowed, remaining, retryAfterMs, resetAfterMs } = this.verdict;
    return { allowed, remaining, retryAfterMs, resetAfterMs, limit: rule.limit };
  }

  /**
   * The limiter's synchronous path: decides into `verdict` and returns whether granted.
   * @internal
   */
  decideNow(
    key: string | undefined,
    cost: number,
    absoluteNow: number,
    consume: boolean,
    maxDelayMs: number,
  ): boolean {
    const rates = this.#rates!;
    if (Number.isNaN(this.#origin)) this.#origin = absoluteNow;
    const now = absoluteNow - this.#origin;
    const verdict = this.verdict;
    let bucket = key === undefined ? this.#shared : this.#buckets.get(key);
    if (bucket === undefined) {
      const scratch = this.#scratch;
      reset(scratch, rates, now);
      if (!decide(scratch, rates, cost, now, consume, maxDelayMs, verdict)) return verdict.allowed;
      bucket = this.#create(key, now);
      bucket.a = scratch.a;
      bucket.b = scratch.b;
      bucket.c = scratch.c;
      bucket.d = scratch.d;
      bucket.fullAt = scratch.fullAt;
      // Undoing a fresh bucket's first consumption makes it fresh again.
      if (maxDelayMs > 0) this.undo.a = Number.NaN;
    } else {
      if (key !== undefined && bucket !== this.#line.tail) {
        this.#line.remove(bucket);
        this.#line.push(bucket);
      }
      if (maxDelayMs > 0) {
        const undo = this.undo;
        undo.a = bucket.a;
        undo.b = bucket.b;
        undo.c = bucket.c;
        undo.d = bucket.d;
        undo.fullAt = bucket.fullAt;
      }
      if (!decide(bucket, rates, cost, now, consume, maxDelayMs, verdict)) return verdict.allowed;
    }
    bucket.version++;
    if (maxDelayMs > 0) {
      this.undo.bucket = bucket;
      this.undo.version = bucket.version;
    }
    return true;
  }

  /**
   * Gives a reservation back if nothing was consumed from its bucket since, and the bucket is
   * still kept; returns whether it did. Otherwise the units stay spent: later calls were
   * placed after them, and handing them out again could break the limit.
   * @internal
   */
  refund(reservation: Reservation, absoluteNow: number): boolean {
    const bucket = reservation.bucket;
    if (bucket === undefined || bucket.version !== reservation.version) return false;
    const kept = bucket.key === undefined ? this.#shared : this.#buckets.get(bucket.key);
    if (kept !== bucket) return false;
    if (Number.isNaN(reservation.a)) {
      reset(bucket, this.#rates!, absoluteNow - this.#origin);
    } else {
      bucket.a = reservation.a;
      bucket.b = reservation.b;
      bucket.c = reservation.c;
      bucket.d = reservation.d;
      bucket.fullAt = reservation.fullAt;
    }
    bucket.version++;
    return true;
  }

  #create(key: string | undefined, now: number): Bucket {
    const bucket = new Bucket(key);
    if (key === undefined) {
      this.#shared = bucket;
      return bucket;
    }
    const line = this.#line;
    // Refilled buckets are dropped as they are met at the old end of the line: they are
    // indistinguishable from buckets never made. Only those refilled an interval ago, though:
    // a key that comes back sooner would be made again on every call. Two per new key keep
    // pace with arrivals.
    const idle = now - this.#rule!.intervalMs;
    for (let i = 0; i < 2; i++) {
      const oldest = line.head;
      if (oldest === undefined || oldest.fullAt > idle) break;
      line.remove(oldest);
      this.#buckets.delete(oldest.key!);
    }
    if (this.#buckets.size >= this.maxKeys) {
      const oldest = line.shift()!;
      this.#buckets.delete(oldest.key!);
      if (oldest.fullAt > now) this.#onEvicted?.(oldest.key!);
    }
    this.#buckets.set(key, bucket);
    line.push(bucket);
    return bucket;
  }
}

/** An in-memory store for one limiter; see {@link MemoryRateLimitStore}. */
export function memoryRateLimitStore(options?: MemoryRateLimitStoreOptions): MemoryRateLimitStore {
  return new MemoryRateLimitStore(options);
}
