/** Labels a reading carries besides its policy's name and kind, e.g. `{ check: 'db' }`. */
export type GaugeLabels = Readonly<Record<string, string>>;

/** One value of a policy's state at the moment it was read, as `telemetry.gauges()` answers. */
export interface GaugeReading {
  /** The policy's `name` (a keyed policy's name for the aggregates of its keys). */
  readonly policy: string;
  /** The kind of policy the state belongs to: 'bulkhead', 'circuit-breaker', ... */
  readonly kind: string;
  /** Which state: 'running', 'queued', 'state', 'limit', ... (see docs/telemetry.md). */
  readonly gauge: string;
  readonly value: number;
  /** More labels; undefined when there are none. Never a call's key. */
  readonly labels: GaugeLabels | undefined;
  /** For a gauge of states (a breaker's 'state'): the state's name, which `value` encodes. */
  readonly state: string | undefined;
}

/** Where a source reports its state when read. @internal */
export interface GaugeSink {
  /** A number; a keyed policy sums it over its keys. */
  value(policy: string, kind: string, gauge: string, value: number, labels?: GaugeLabels): void;
  /**
   * A state, named `state` and encoded as `code`; `states` lists every state it can be in. A
   * keyed policy counts its keys in each of them.
   */
  state(
    policy: string,
    kind: string,
    gauge: string,
    state: string,
    code: number,
    states: readonly string[],
    labels?: GaugeLabels,
  ): void;
}

/** Where a stateful policy answers what its state is now. @internal */
export const readGauges: unique symbol = Symbol('bulwark.gauges');

/** Anything whose state can be read on demand. @internal */
export interface GaugeSource {
  [readGauges](sink: GaugeSink): void;
}

/**
 * The sources that registered, held weakly: a policy nobody uses any more is collected as
 * usual, and its entry is dropped at the next read or the next growth of the list. A plain
 * array: a Set's entry cost about 50 bytes more per policy.
 */
let sources: WeakRef<GaugeSource>[] = [];
/** Dead entries are swept when the list reaches this size, so it stays within twice the live. */
let sweepAt = 64;
/** Above zero while a keyed policy builds a key's policy: that one must not register. */
let unregistered = 0;

/**
 * Makes `source`'s state readable through `telemetry.gauges()` for as long as it lives. A
 * source made for one key of a keyed policy is not registered: the keyed policy reports the
 * aggregate of its keys, so traffic with many keys adds no readings.
 * @internal
 */
export function registerGauges(source: GaugeSource): void {
  if (unregistered > 0) return;
  sources.push(new WeakRef(source));
  if (sources.length >= sweepAt) {
    sweep();
    sweepAt = Math.max(64, sources.length * 2);
  }
}

/** Runs `build` with registration off: what it makes is read through its owner. @internal */
export function withoutRegistration<T>(build: () => T): T {
  unregistered++;
  try {
    return build();
  } finally {
    unregistered--;
  }
}

function sweep(): void {
  sources = sources.filter((ref) => ref.deref() !== undefined);
}

/** Every live source's state now, in the order the sources were made. @internal */
export function readAllGauges(): GaugeReading[] {
  const readings: GaugeReading[] = [];
  const sink: GaugeSink = {
    value(policy, kind, gauge, value, labels) {
      readings.push({ policy, kind, gauge, value, labels, state: undefined });
    },
    state(policy, kind, gauge, state, code, _states, labels) {
      readings.push({ policy, kind, gauge, value: code, labels, state });
    },
  };
  sweep();
  for (const ref of sources) ref.deref()?.[readGauges](sink);
  return readings;
}
