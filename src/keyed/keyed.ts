import type { Clock } from '../core/clock.js';
import type { Context } from '../core/context.js';
import { type GaugeSink, readGauges, registerGauges, withoutRegistration } from '../core/gauges.js';
import { inPlace } from '../core/in-place.js';
import { LinkedList } from '../core/linked-list.js';
import {
  BasePolicy,
  describe,
  type InOf,
  type OutOf,
  type Policy,
  type PolicyOptions,
} from '../core/policy.js';
import { checkFunction, checkInteger, checkMs, checkOptions } from '../core/validate.js';
import { Entry, type KeyedSnapshot } from './entry.js';
import { KeyTotals, readPolicyGauges } from './gauges.js';
import { KeyedHandle } from './handle.js';

export interface KeyedOptions extends PolicyOptions {
  /**
   * Most keys kept; past it, an idle key not used lately is dropped. A key with calls in flight
   * is never dropped, so when the kept keys are all busy the keyed policy holds `maxKeys` plus
   * the busy keys beyond it, and shrinks back to `maxKeys` as their calls end. Default: 10_000.
   */
  maxKeys?: number;
  /**
   * A key with no call started for this long (ms) and none in flight is dropped, so its state
   * does not outlive the traffic that needed it. Checked as calls arrive; a key may linger up
   * to another `idleMs`. Default: Infinity (keys go only when `maxKeys` pushes them out).
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

/**
 * What a keyed factory may return: any policy, a pipeline or one not made by bulwark. The keyed
 * policy's types follow it: it judges what the key's policy judges and may answer what it may.
 */
export type KeyablePolicy = Policy<never, unknown>;

/** A policy of one kind per key, made on first use, with a bound on how many are kept. */
export class KeyedPolicy<P extends KeyablePolicy> extends BasePolicy<
  KeyedEvents,
  InOf<P>,
  OutOf<P>
> {
  readonly maxKeys: number;
  readonly idleMs: number;
  readonly #factory: (key: string) => P;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry<P>>();
  /** The eviction line: kept keys in the order they were placed, busy ones parked out of it. */
  readonly #line = new LinkedList<Entry<P>>();
  /** The latest `now` a call saw: when a parked key's last call ended, near enough. */
  #lastNow = 0;
  readonly #totals = new KeyTotals();

  constructor(factory: (key: string) => P, options?: KeyedOptions) {
    const opts = checkOptions<KeyedOptions>('keyed', options);
    super('keyed', opts.name);
    this.#factory = checkFunction(this.name, 'factory', factory);
    this.maxKeys = checkInteger(this.name, 'maxKeys', opts.maxKeys ?? 10_000, 1);
    this.idleMs = checkMs(this.name, 'idleMs', opts.idleMs ?? Number.POSITIVE_INFINITY, 1, true);
    this.#clock = this.useClock(opts.clock);
    registerGauges(this);
  }

  /**
   * @internal The number of keys, and the state of the keys' policies as totals under this
   * policy's name: one reading per kind of state, however many keys there are.
   */
  [readGauges](sink: GaugeSink): void {
    sink.value(this.name, 'keyed', 'keys', this.#entries.size);
    for (const entry of this.#entries.values()) readPolicyGauges(entry.policy, this.#totals);
    this.#totals.report(this.name, sink);
  }

  /** Keys kept now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * A handle on `key`, its policy made now if the key is new; counts as a use of the key.
   * The handle's `execute` runs through this keyed policy, and its `policy` is the key's.
   */
  get(key: string): KeyedHandle<P> {
    if (typeof key !== 'string') {
      throw new TypeError(`${this.name}: get() needs a string key (got ${describe(key)})`);
    }
    const entry = this.#lookup(key, this.#now());
    entry.handle ??= new KeyedHandle(this, key, this.#policyOf);
    return entry.handle;
  }

  /** The policy for `key` if it is kept, without making one or counting as a use. */
  peek(key: string): P | undefined {
    return this.#entries.get(key)?.policy;
  }

  /** What is known of `key` if it is kept, without making it or counting as a use. */
  snapshot(key: string): KeyedSnapshot<P> | undefined {
    const entry = this.#entries.get(key);
    return entry === undefined ? undefined : this.#snapshotOf(entry);
  }

  /** The kept keys, oldest first; a live iterator, not a copy. Reading counts as no use. */
  keys(): MapIterator<string> {
    return this.#entries.keys();
  }

  /** A snapshot of each kept key, oldest first, made as the iteration reaches it. */
  *entries(): Generator<KeyedSnapshot<P>, void, undefined> {
    for (const entry of this.#entries.values()) yield this.#snapshotOf(entry);
  }

  /** Drops `key` and its policy; true if it was kept. Calls in flight under it finish. */
  delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    this.#line.remove(entry);
    return true;
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
      entry = this.#lookup(key, this.#now());
    } catch (error) {
      return Promise.reject(error);
    }
    entry.inFlight++;
    let result: Promise<unknown>;
    try {
      // The key's policy takes this layer's place in the chain and carries on from there.
      result = entry.layer.run(context, index);
    } catch (error) {
      // Such as a broken clock: the count must still come down, or the key is pinned for good.
      result = Promise.reject(error);
    }
    return result.then(entry.settled, entry.failed);
  }

  #now(): number {
    return this.idleMs === Number.POSITIVE_INFINITY ? 0 : this.#clock.now();
  }

  /** The entry for `key`, made if new; counts as a use. */
  #lookup(key: string, now: number): Entry<P> {
    if (this.idleMs !== Number.POSITIVE_INFINITY) {
      this.#lastNow = now;
      this.#sweep(now);
    }
    const entry = this.#entries.get(key);
    if (entry === undefined) return this.#admit(key, now);
    entry.used = true;
    entry.lastUsed = now;
    return entry;
  }

  readonly #policyOf = (key: string): P => this.#lookup(key, this.#now()).policy;

  #admit(key: string, now: number): Entry<P> {
    // The keyed policy reports the key's state, as part of its totals: it must not register.
    const policy = withoutRegistration(() => this.#factory(key));
    const layer = inPlace(policy);
    if (layer === undefined) {
      throw new TypeError(
        `${this.name}: the factory must return a policy, an object with execute(), for key ${JSON.stringify(key)} (got ${brief(policy)})`,
      );
    }
    const entry = new Entry(key, policy, layer, now, this.#release);
    this.#entries.set(key, entry);
    if (this.events.enabled) this.events.emit('created', { key });
    // Placed after the shrink, so the new key cannot be the one to go.
    if (this.#entries.size > this.maxKeys) this.#shrink(now);
    this.#place(entry, now);
    return entry;
  }

  /** A key's last call in flight ended. */
  readonly #release = (entry: Entry<P>): void => {
    if (entry.queued) {
      if (this.#entries.size > this.maxKeys) this.#shrink(this.#lastNow);
    } else if (this.#entries.get(entry.key) === entry) {
      // Parked while busy: back in line, unless it was deleted meanwhile.
      this.#place(entry, this.#lastNow);
      if (this.#entries.size > this.maxKeys) this.#shrink(this.#lastNow);
    }
  };

  #place(entry: Entry<P>, now: number): void {
    entry.placedAt = now;
    this.#line.push(entry);
  }

  /**
   * Second chance over the line until within `maxKeys`: a busy key is parked, a key used since
   * it was placed goes to the back with its flag cleared, the first neither goes. Each step is
   * paid for by a use, a call or an admission, so eviction is O(1) amortised.
   */
  #shrink(now: number): void {
    let head = this.#line.head;
    while (head !== undefined && this.#entries.size > this.maxKeys) {
      this.#line.remove(head);
      // A busy key stays out of line (parked) until its calls end.
      if (head.inFlight === 0) {
        if (head.used) {
          head.used = false;
          this.#place(head, now);
        } else {
          this.#forget(head, 'capacity');
        }
      }
      head = this.#line.head;
    }
  }

  /**
   * Visits the keys placed at least `idleMs` ago, oldest first, and stops at the first placed
   * since: each key is visited at most once per `idleMs`, so the sweep is O(1) amortised. A
   * key goes at a visit at least `idleMs` after its last use, so within `2 * idleMs` of it.
   */
  #sweep(now: number): void {
    let head = this.#line.head;
    while (head !== undefined && now - head.placedAt >= this.idleMs) {
      this.#line.remove(head);
      if (head.inFlight === 0) {
        if (now - head.lastUsed >= this.idleMs) {
          this.#forget(head, 'idle');
        } else {
          // Its second chance: capacity eviction must not move it to the back once more and
          // so put off its next visit beyond 2 * idleMs after its last use.
          head.used = false;
          this.#place(head, now);
        }
      }
      head = this.#line.head;
    }
  }

  #forget(entry: Entry<P>, reason: KeyedEvictReason): void {
    this.#entries.delete(entry.key);
    if (this.events.enabled) this.events.emit('evicted', { key: entry.key, reason });
  }

  #snapshotOf(entry: Entry<P>): KeyedSnapshot<P> {
    return {
      key: entry.key,
      policy: entry.policy,
      inFlight: entry.inFlight,
      lastUsedMs: this.idleMs === Number.POSITIVE_INFINITY ? undefined : entry.lastUsed,
    };
  }
}

/** Names what a factory returned without dumping it (a pipeline renders as pages of JSON). */
function brief(value: unknown): string {
  if (typeof value !== 'object' || value === null) return describe(value);
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object'
    ? `an instance of ${name}`
    : 'an object';
}

/**
 * One policy per `key` (a host, a tenant), made by `factory` on the key's first call:
 * `keyed((host) => circuitBreaker({ name: `breaker:${host}`, consecutiveFailures: 5 }))`.
 * Calls must pass `options.key`. At most `maxKeys` keys are kept (more only while more than
 * that are busy), and with `idleMs` a key idle that long is dropped, so unbounded key spaces
 * cannot exhaust memory.
 */
export function keyed<P extends KeyablePolicy>(
  factory: (key: string) => P,
  options?: KeyedOptions,
): KeyedPolicy<P> {
  return new KeyedPolicy(factory, options);
}
