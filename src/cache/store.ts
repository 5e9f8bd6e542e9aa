import { type Linked, LinkedList } from '../core/linked-list.js';
import type { Outcome } from '../core/outcome.js';
import { checkFunction, checkInteger, checkOptions } from '../core/validate.js';

/** One stored answer and the times that bound its use, on the cache policy's clock. */
export interface CacheEntry<T = unknown> {
  /** What the call gave: a value, or (negative caching) the error a hit rethrows. */
  readonly outcome: Outcome<T>;
  /** Until when it is answered without calling the function. */
  readonly freshUntil: number;
  /**
   * Until when it may still be used stale (stale-while-revalidate, stale-if-error); the store
   * may forget it after this. Equal to `freshUntil` when it has no stale use.
   */
  readonly staleUntil: number;
}

/**
 * Where a cache keeps its entries. The built-in {@link MemoryCacheStore} keeps them in the
 * process, and the cache reads it synchronously; a store of another process (Redis, later)
 * may answer any call with a promise, which the cache awaits.
 *
 * The policy decides freshness itself from `freshUntil`; a store only has to keep an entry
 * until `staleUntil` (its TTL: `staleUntil - now`), and may drop it sooner.
 */
export interface CacheStore<T = unknown> {
  /** The entry under `key`, or undefined when there is none (or it is past `staleUntil`). */
  get(key: string, now: number): CacheEntry<T> | undefined | PromiseLike<CacheEntry<T> | undefined>;
  /** Stores `entry` under `key`, replacing what was there. */
  set(key: string, entry: CacheEntry<T>, now: number): void | PromiseLike<void>;
  /** Forgets `key`. */
  delete(key: string): void | PromiseLike<void>;
  /** Forgets every entry. */
  clear(): void | PromiseLike<void>;
}

/** Why a memory store dropped an entry that was still usable. */
export type CacheEvictReason = 'maxEntries' | 'maxBytes';

export interface MemoryCacheStoreOptions<T = unknown> {
  /** Most entries kept (an integer >= 1); past it the least recently used goes. Default: 10_000. */
  maxEntries?: number;
  /**
   * Most bytes kept, as `sizeOf` measures them (an integer >= 1 or Infinity); past it the least
   * recently used entries go. Needs `sizeOf`. Default: Infinity.
   */
  maxBytes?: number;
  /** The size of a value in bytes (a number >= 0). Required with `maxBytes`. */
  sizeOf?: (value: T) => number;
}

/** An entry in memory: the store's list node too, so a hit allocates nothing. @internal */
class Node<T> implements CacheEntry<T>, Linked<Node<T>> {
  prev: Node<T> | undefined = undefined;
  next: Node<T> | undefined = undefined;
  queued = false;

  constructor(
    readonly key: string,
    readonly outcome: Outcome<T>,
    readonly freshUntil: number,
    readonly staleUntil: number,
    readonly size: number,
  ) {}
}

/** Entries examined for expiry on each write: bounded work, never a timer. */
const SWEEP_PER_WRITE = 2;

/**
 * Entries in process memory: a Map for lookup and an intrusive list in least-recently-used
 * order, both O(1) per call. Expired entries go when they are read, when a write's sweep
 * reaches them (a cursor walks the list a few entries per write) or when the bounds push them
 * out, whichever comes first; nothing arms a timer.
 */
export class MemoryCacheStore<T = unknown> implements CacheStore<T> {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly #sizeOf: ((value: T) => number) | undefined;
  readonly #nodes = new Map<string, Node<T>>();
  /** Least recently used first. */
  readonly #line = new LinkedList<Node<T>>();
  #cursor: Node<T> | undefined;
  #bytes = 0;
  /** Told about entries dropped to keep the bounds. @internal */
  onEvicted: ((key: string, reason: CacheEvictReason) => void) | undefined;

  constructor(options?: MemoryCacheStoreOptions<T>) {
    const opts = checkOptions<MemoryCacheStoreOptions<T>>('memoryCacheStore', options);
    this.maxEntries = checkInteger('memoryCacheStore', 'maxEntries', opts.maxEntries ?? 10_000, 1);
    this.maxBytes = checkInteger(
      'memoryCacheStore',
      'maxBytes',
      opts.maxBytes ?? Number.POSITIVE_INFINITY,
      1,
      true,
    );
    this.#sizeOf =
      opts.sizeOf === undefined
        ? undefined
        : checkFunction<(value: T) => number>('memoryCacheStore', 'sizeOf', opts.sizeOf);
    if (this.maxBytes !== Number.POSITIVE_INFINITY && this.#sizeOf === undefined) {
      throw new TypeError(
        'memoryCacheStore: option "sizeOf" must be a function when "maxBytes" is set (got undefined)',
      );
    }
  }

  /** Entries kept now, expired ones not yet swept included. */
  get size(): number {
    return this.#nodes.size;
  }

  /** Bytes kept now, as `sizeOf` measured them (0 without `sizeOf`). */
  get bytes(): number {
    return this.#bytes;
  }

  get(key: string, now: number): CacheEntry<T> | undefined {
    const node = this.#nodes.get(key);
    if (node === undefined) return undefined;
    if (node.staleUntil <= now) {
      this.#drop(node);
      return undefined;
    }
    // Most recently used goes last; already there (a hot key) costs nothing.
    if (node.next !== undefined) {
      this.#line.remove(node);
      this.#line.push(node);
    }
    return node;
  }

  set(key: string, entry: CacheEntry<T>, now: number): void {
    const old = this.#nodes.get(key);
    if (old !== undefined) this.#drop(old);
    let size = 0;
    if (this.#sizeOf !== undefined && entry.outcome.ok) {
      size = this.#sizeOf(entry.outcome.value);
      if (typeof size !== 'number' || !(size >= 0) || !Number.isFinite(size)) {
        throw new TypeError(
          `memoryCacheStore: option "sizeOf" must return a finite number >= 0 (got ${String(size)} for key ${JSON.stringify(key)})`,
        );
      }
    }
    this.#sweep(now);
    // A value bigger than the whole budget would only push everything else out, then itself.
    if (size > this.maxBytes) {
      this.onEvicted?.(key, 'maxBytes');
      return;
    }
    const node = new Node(key, entry.outcome, entry.freshUntil, entry.staleUntil, size);
    this.#nodes.set(key, node);
    this.#line.push(node);
    this.#bytes += size;
    while (this.#nodes.size > this.maxEntries) this.#evict('maxEntries');
    while (this.#bytes > this.maxBytes) this.#evict('maxBytes');
  }

  delete(key: string): void {
    const node = this.#nodes.get(key);
    if (node !== undefined) this.#drop(node);
  }

  clear(): void {
    this.#nodes.clear();
    while (this.#line.shift() !== undefined) {}
    this.#cursor = undefined;
    this.#bytes = 0;
  }

  #evict(reason: CacheEvictReason): void {
    const oldest = this.#line.head!;
    this.#drop(oldest);
    this.onEvicted?.(oldest.key, reason);
  }

  /** Walks a few entries from where the last write stopped, dropping the expired ones. */
  #sweep(now: number): void {
    for (let i = 0; i < SWEEP_PER_WRITE; i++) {
      const node = this.#cursor ?? this.#line.head;
      if (node === undefined) return;
      this.#cursor = node.next;
      if (node.staleUntil <= now) this.#drop(node);
    }
  }

  #drop(node: Node<T>): void {
    if (this.#cursor === node) this.#cursor = node.next;
    this.#nodes.delete(node.key);
    this.#line.remove(node);
    this.#bytes -= node.size;
  }
}
