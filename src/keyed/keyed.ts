import { type Clock, systemClock } from '../core/clock.js';
import type { Context, Layer } from '../core/context.js';
import { BasePolicy, describe, layersOf, type Policy, type PolicyOptions } from '../core/policy.js';
import {
  checkClock,
  checkFunction,
  checkInteger,
  checkMs,
  checkOptions,
} from '../core/validate.js';

export interface KeyedOptions extends PolicyOptions {
  /**
   * Most keys kept at once; past it, the least recently used idle key is dropped. Keys with
   * calls in flight are never dropped, so the bound can be exceeded by the keys busy at that
   * moment. Default: 10_000.
   */
  maxKeys?: number;
  /**
   * A key unused for this long (ms) is dropped, so its state does not outlive the traffic that
   * needed it. Default: Infinity (keys go only when `maxKeys` pushes them out).
   */
  idleMs?: number;
}

export type KeyedEvictReason = 'capacity' | 'idle';

export interface KeyedEvents {
  /** A key was used for the first time (or again after it was dropped). */
  created: { readonly key: string };
  /** A key and its policy were dropped. */
  evicted: { readonly key: string; readonly reason: KeyedEvictReason };
}

/** What a keyed factory must return: one bulwark policy (its own single layer). */
export type KeyablePolicy = Policy & Layer & { readonly [layersOf]: readonly Layer[] };

/** One key's policy and what eviction needs to know about it. */
class Entry<P> {
  /**
   * Set when the key is used again; cleared when eviction passes the entry over (second-chance
   * LRU). A key used only once is not flagged, so a scan of one-off keys evicts itself first.
   */
  used = false;
  inFlight = 0;
  readonly settled = (value: unknown): unknown => {
    this.inFlight--;
    return value;
  };
  readonly failed = (error: unknown): never => {
    this.inFlight--;
    throw error;
  };

  constructor(
    readonly policy: P,
    public lastUsed: number,
  ) {}
}

/** A policy of one kind per key, made on first use, with a bound on how many are kept. */
export class KeyedPolicy<P extends KeyablePolicy> extends BasePolicy<KeyedEvents> {
  readonly maxKeys: number;
  readonly idleMs: number;
  readonly #factory: (key: string) => P;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry<P>>();
  /**
   * The eviction hand: one live iterator kept across evictions. A fresh `entries()` iterator
   * would walk past every slot deleted since the map last compacted, making each eviction O(n).
   */
  #hand: MapIterator<[string, Entry<P>]> | undefined;
  #nextSweep = Number.POSITIVE_INFINITY;

  constructor(factory: (key: string) => P, options?: KeyedOptions) {
    const opts = checkOptions<KeyedOptions>('keyed', options);
    super('keyed', opts.name);
    this.#factory = checkFunction(this.name, 'factory', factory);
    this.maxKeys = checkInteger(this.name, 'maxKeys', opts.maxKeys ?? 10_000, 1);
    this.idleMs = checkMs(this.name, 'idleMs', opts.idleMs ?? Number.POSITIVE_INFINITY, 1, true);
    this.#clock = checkClock(this.name, opts.clock, systemClock);
    if (this.idleMs !== Number.POSITIVE_INFINITY) this.#nextSweep = this.#clock.now() + this.idleMs;
  }

  /** Keys kept now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The policy for `key`, made now if the key is new. */
  get(key: string): P {
    return this.#entry(key, this.#now()).policy;
  }

  /** The policy for `key` if it is kept, without making one or counting as a use. */
  peek(key: string): P | undefined {
    return this.#entries.get(key)?.policy;
  }

  /** Drops `key` and its policy; true if it was kept. */
  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    const key = context.key;
    if (typeof key !== 'string') {
      return Promise.reject(
        new TypeError(`${this.name}: execute() needs options.key, a string (got ${describe(key)})`),
      );
    }
    let entry: Entry<P>;
    try {
      entry = this.#entry(key, this.#now());
    } catch (error) {
      return Promise.reject(error);
    }
    entry.inFlight++;
    // The key's policy takes this layer's place in the chain and carries on from there.
    return entry.policy.run(context, index).then(entry.settled, entry.failed);
  }

  #now(): number {
    return this.idleMs === Number.POSITIVE_INFINITY ? 0 : this.#clock.now();
  }

  #entry(key: string, now: number): Entry<P> {
    if (now >= this.#nextSweep) this.#sweep(now);
    let entry = this.#entries.get(key);
    if (entry !== undefined) {
      entry.used = true;
      entry.lastUsed = now;
      return entry;
    }
    entry = new Entry(this.#create(key), now);
    this.#entries.set(key, entry);
    if (this.events.enabled) this.events.emit('created', { key });
    if (this.#entries.size > this.maxKeys) this.#evictOverflow(key);
    return entry;
  }

  #create(key: string): P {
    const policy = this.#factory(key);
    const layers = (policy as Partial<KeyablePolicy> | undefined)?.[layersOf];
    if (layers?.length !== 1 || layers[0] !== policy) {
      throw new TypeError(
        `${this.name}: the factory must return one bulwark policy (not a pipeline) for key ${JSON.stringify(key)} (got ${describe(policy)})`,
      );
    }
    return policy;
  }

  /**
   * Second-chance LRU over the map's insertion order: a used-again or busy entry is moved to
   * the back with its flag cleared; the first entry found neither goes. Each entry is passed
   * over at most once per use, so eviction is O(1) amortised.
   */
  #evictOverflow(justAdded: string): void {
    const entries = this.#entries;
    let passes = entries.size * 2;
    while (entries.size > this.maxKeys && passes-- > 0) {
      let step = this.#hand?.next();
      if (step === undefined || step.done) {
        this.#hand = entries.entries();
        step = this.#hand.next();
        if (step.done) return;
      }
      const [key, entry] = step.value;
      if (key === justAdded || entry.used || entry.inFlight > 0) {
        // Re-inserting puts it behind the hand, which reaches it again only after a full turn.
        entry.used = false;
        entries.delete(key);
        entries.set(key, entry);
        continue;
      }
      entries.delete(key);
      if (this.events.enabled) this.events.emit('evicted', { key, reason: 'capacity' });
    }
  }

  #sweep(now: number): void {
    this.#nextSweep = now + this.idleMs / 2;
    for (const [key, entry] of this.#entries) {
      if (entry.inFlight === 0 && now - entry.lastUsed >= this.idleMs) {
        this.#entries.delete(key);
        if (this.events.enabled) this.events.emit('evicted', { key, reason: 'idle' });
      }
    }
  }
}

/**
 * One policy per `key` (a host, a tenant), made by `factory` on the key's first call:
 * `keyed((host) => circuitBreaker({ name: `breaker:${host}`, consecutiveFailures: 5 }))`.
 * Calls must pass `options.key`. At most `maxKeys` are kept, and with `idleMs` a key unused
 * that long is dropped, so unbounded key spaces cannot exhaust memory.
 */
export function keyed<P extends KeyablePolicy>(
  factory: (key: string) => P,
  options?: KeyedOptions,
): KeyedPolicy<P> {
  return new KeyedPolicy(factory, options);
}
