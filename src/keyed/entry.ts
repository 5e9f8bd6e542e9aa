import type { Layer } from '../core/context.js';
import type { Linked } from '../core/linked-list.js';
import type { Policy } from '../core/policy.js';
import type { KeyedHandle } from './handle.js';

/** What `entries()` and `snapshot()` tell about one kept key. Reading it changes nothing. */
export interface KeyedSnapshot<P extends Policy> {
  readonly key: string;
  /** The key's policy, as its factory made it. */
  readonly policy: P;
  /** Calls running under the key now (through `execute` or a handle from `get`). */
  readonly inFlight: number;
  /**
   * When the key was last used (its last call started, or `get`), on the clock's scale.
   * Undefined when `idleMs` is Infinity: the keyed policy then reads no clock at all.
   */
  readonly lastUsedMs: number | undefined;
}

/**
 * One kept key. It waits in its keyed policy's eviction line, in the order it was placed
 * there, except while it is parked: eviction that meets a busy entry takes it out of the line
 * rather than step over it again and again, and the entry takes its place at the back when its
 * last call ends.
 * @internal
 */
export class Entry<P extends Policy> implements Linked<Entry<P>> {
  prev: Entry<P> | undefined;
  next: Entry<P> | undefined;
  queued = false;
  /** Used since eviction last passed it over: it gets one more turn (second chance). */
  used = false;
  inFlight = 0;
  /** When it joined the back of the line; the line is in this order. */
  placedAt = 0;
  handle: KeyedHandle<P> | undefined;
  /** Made once per key, so a call through the key allocates no handlers of its own. */
  readonly settled = (value: unknown): unknown => {
    if (--this.inFlight === 0) this.release(this);
    return value;
  };
  readonly failed = (error: unknown): never => {
    if (--this.inFlight === 0) this.release(this);
    throw error;
  };

  constructor(
    readonly key: string,
    readonly policy: P,
    /** What runs in the keyed policy's place for this key: see `inPlace`. */
    readonly layer: Layer,
    /** When its last call started, or `get` was called for it. */
    public lastUsed: number,
    /** Called when its last call in flight ends. */
    private readonly release: (entry: Entry<P>) => void,
  ) {}
}
