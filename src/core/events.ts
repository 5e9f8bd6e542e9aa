import { type GaugeReading, readAllGauges } from './gauges.js';

/** Undoes a subscription. Calling it twice is harmless. */
export type Disposer = () => void;

/**
 * Maps each event type of a policy to the shape of its detail, e.g.
 * `{ retry: { attempt: number; delayMs: number } }`. An interface works too.
 */
export type EventMap = object;

export type Listener<T> = (event: T) => void;

/**
 * One event from any policy, as the telemetry bus delivers it. The bus as exported from the
 * package delivers `TelemetryEvent`, the union of every kind's events, which this shape covers.
 */
export interface AnyTelemetryEvent {
  /** The emitting policy's `name` option. */
  readonly policy: string;
  /** What sort of policy emitted it: 'retry', 'timeout', 'circuit-breaker', ... */
  readonly kind: string;
  /** The event type, as passed to the policy's `on()`. */
  readonly type: string;
  /** The event's detail, the same object the policy's own listeners receive. */
  readonly detail: object;
}

/** What a subscriber to the telemetry bus asks for. */
export interface SubscribeOptions {
  /**
   * Also deliver the `execution` event of every call (metrics and tracing need it; logs do
   * not). Calls are timed only while someone asks, since timing costs a little on every call.
   * Default: false.
   */
  executions?: boolean;
  /**
   * Also deliver the `attempt` event of every run of a task (tracing needs it, metrics of calls
   * do not). Timing attempts costs a little more again: a metrics adapter passes false.
   * Default: the value of `executions`.
   */
  attempts?: boolean;
}

/** Options that ask for execution events: the subscriber gets them besides the policies' own. */
export type ExecutionsWanted = SubscribeOptions & ({ executions: true } | { attempts: true });

/**
 * The stream of every policy's events. `E` is what a subscriber gets; `X`, what it gets when it
 * asks for execution events too.
 */
export interface TelemetryBus<
  E extends AnyTelemetryEvent = AnyTelemetryEvent,
  X extends AnyTelemetryEvent = E,
> {
  /**
   * Calls `listener` with every event from now on, the `execution` and `attempt` events
   * included as asked; returns the function that unsubscribes.
   */
  subscribe(listener: Listener<X>, options: ExecutionsWanted): Disposer;
  /** Calls `listener` with every policy's own events from now on. */
  subscribe(listener: Listener<E>, options?: SubscribeOptions): Disposer;
  /** True while anything is subscribed. */
  readonly active: boolean;
  /**
   * The state of every live stateful policy now: breaker states, bulkhead and load shedder
   * running and queued, limits, ... Metrics adapters read it when scraped. A keyed policy
   * answers aggregates over its keys, never one reading per key.
   */
  gauges(): GaugeReading[];
}

/**
 * Listener lists are replaced, never changed in place, when someone subscribes or leaves, so
 * `emit` can walk the list it read without copying it first (subscriptions are rare, events
 * are not).
 */
let busListeners: readonly Listener<AnyTelemetryEvent>[] = [];
/** The subscribers that asked for `execution` events too. */
let executionListeners: readonly Listener<AnyTelemetryEvent>[] = [];
/** The subscribers that asked for `attempt` events too. */
let attemptListeners: readonly Listener<AnyTelemetryEvent>[] = [];

/** In `executionInterest`: someone wants `execution` events. @internal */
export const WANTS_EXECUTIONS = 1;
/** In `executionInterest`: someone wants `attempt` events. @internal */
export const WANTS_ATTEMPTS = 2;
/** What the bus's subscribers want of execution events, kept in step with the two lists. */
let busInterest = 0;

function updateBusInterest(): void {
  busInterest =
    (executionListeners.length > 0 ? WANTS_EXECUTIONS : 0) |
    (attemptListeners.length > 0 ? WANTS_ATTEMPTS : 0);
}

/**
 * Listener errors must not break the call that emitted the event, nor go unseen: like
 * `EventTarget`, rethrow them on a fresh stack where the process reports them, as an uncaught
 * exception. An async listener's rejection is reported the same way.
 */
function deliver<T>(listener: Listener<T>, event: T): void {
  try {
    const returned: unknown = listener(event);
    if (
      typeof returned === 'object' &&
      returned !== null &&
      typeof (returned as PromiseLike<unknown>).then === 'function'
    ) {
      (returned as PromiseLike<unknown>).then(undefined, rethrow);
    }
  } catch (error) {
    rethrow(error);
  }
}

function rethrow(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** `list` without its first `item`, or the same list when `item` is not in it. */
function without<T>(list: readonly T[], item: T): readonly T[] {
  const at = list.indexOf(item);
  return at === -1 ? list : [...list.slice(0, at), ...list.slice(at + 1)];
}

function checkFlag(option: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new TypeError(`telemetry: option "${option}" must be a boolean (got ${String(value)})`);
  }
  return value;
}

/**
 * The one stream that receives every policy's events, tagged with the policy's name and kind.
 * Metrics, tracing and logging adapters subscribe here.
 */
export const telemetry: TelemetryBus = {
  subscribe(listener: Listener<AnyTelemetryEvent>, options?: SubscribeOptions): Disposer {
    if (typeof listener !== 'function') {
      throw new TypeError(`telemetry: subscribe() needs a function (got ${typeof listener})`);
    }
    const executions = checkFlag('executions', options?.executions);
    const attempts = checkFlag('attempts', options?.attempts ?? executions);
    busListeners = [...busListeners, listener];
    if (executions) executionListeners = [...executionListeners, listener];
    if (attempts) attemptListeners = [...attemptListeners, listener];
    updateBusInterest();
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      busListeners = without(busListeners, listener);
      if (executions) executionListeners = without(executionListeners, listener);
      if (attempts) attemptListeners = without(attemptListeners, listener);
      updateBusInterest();
    };
  },
  get active(): boolean {
    return busListeners.length > 0;
  },
  gauges: readAllGauges,
};

/**
 * The typed events of one policy. Emitting sites check `enabled` first, so with no listener
 * anywhere an event costs one property read and builds nothing.
 */
export class PolicyEvents<E extends EventMap> {
  readonly #policy: string;
  readonly #kind: string;
  /** Made on the first `on()`: most policies are never listened to, and each byte counts. */
  #listeners: Map<keyof E, readonly Listener<never>[]> | undefined;
  #count = 0;

  constructor(policy: string, kind: string) {
    this.#policy = policy;
    this.#kind = kind;
  }

  /** True when a listener on this policy or on the telemetry bus would see an event. */
  get enabled(): boolean {
    return this.#count > 0 || busListeners.length > 0;
  }

  /** The policy's name, as the bus tags its events. */
  get policy(): string {
    return this.#policy;
  }

  /** The policy's kind, as the bus tags its events. */
  get kind(): string {
    return this.#kind;
  }

  /**
   * Who would see this policy's execution events now: `WANTS_EXECUTIONS` and `WANTS_ATTEMPTS`
   * bits, set by bus subscribers that asked for them and by listeners on this policy. Zero,
   * nearly always, costs `execute` nothing more.
   */
  get executionInterest(): number {
    let interest = busInterest;
    const listeners = this.#listeners;
    if (listeners === undefined) return interest;
    if ((listeners.get('execution' as keyof E)?.length ?? 0) > 0) interest |= WANTS_EXECUTIONS;
    if ((listeners.get('attempt' as keyof E)?.length ?? 0) > 0) interest |= WANTS_ATTEMPTS;
    return interest;
  }

  on<K extends keyof E & string>(type: K, listener: Listener<E[K]>): Disposer {
    if (typeof listener !== 'function') {
      throw new TypeError(`${this.#policy}: listener for "${type}" must be a function`);
    }
    this.#listeners ??= new Map();
    const listeners = this.#listeners;
    listeners.set(type, [...(listeners.get(type) ?? []), listener as Listener<never>]);
    this.#count++;
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      listeners.set(type, without(listeners.get(type) ?? [], listener as Listener<never>));
      this.#count--;
    };
  }

  emit<K extends keyof E & string>(type: K, detail: E[K]): void {
    this.#emitTo(busListeners, type, detail);
  }

  /** Emits an `execution` or `attempt` event: on the bus, only to who asked for them. */
  emitExecution<K extends keyof E & string>(type: K, detail: E[K]): void {
    this.#emitTo(type === 'attempt' ? attemptListeners : executionListeners, type, detail);
  }

  #emitTo<K extends keyof E & string>(
    bus: readonly Listener<AnyTelemetryEvent>[],
    type: K,
    detail: E[K],
  ): void {
    const list = this.#listeners?.get(type) as readonly Listener<E[K]>[] | undefined;
    if (list !== undefined) for (const listener of list) deliver(listener, detail);
    if (bus.length > 0) {
      const event: AnyTelemetryEvent = {
        policy: this.#policy,
        kind: this.#kind,
        type,
        detail: detail as object,
      };
      for (const listener of bus) deliver(listener, event);
    }
  }
}
