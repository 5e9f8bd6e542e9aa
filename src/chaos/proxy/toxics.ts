import { describe } from '../../core/policy.js';

/** Which way data flows through a toxic: to the upstream server, or back to the client. */
export type ToxicStream = 'upstream' | 'downstream';

/** Each toxic type's attributes (Toxiproxy's names and units). */
export interface ToxicAttributesByType {
  /** Delays each chunk by `latency` ms, plus or minus up to `jitter` ms, keeping order. */
  latency: { latency: number; jitter: number };
  /** Limits throughput to `rate` KB/s (1 KB = 1000 bytes); 0 lets data through unlimited. */
  bandwidth: { rate: number };
  /** Delays passing the end of the stream (the FIN) on by `delay` ms. */
  slow_close: { delay: number };
  /** Drops all data; closes the connection after `timeout` ms, or never if 0. */
  timeout: { timeout: number };
  /** Drops data and resets the connection (a TCP RST) `timeout` ms after the first data. */
  reset_peer: { timeout: number };
  /** Splits data into pieces of `average_size` ± `size_variation` bytes, `delay` µs apart. */
  slicer: { average_size: number; size_variation: number; delay: number };
  /** Lets `bytes` bytes through, then closes the connection. */
  limit_data: { bytes: number };
}

export type ToxicType = keyof ToxicAttributesByType;

/** A toxic as it is stored and reported, with every attribute filled in. */
export type Toxic = {
  [T in ToxicType]: {
    readonly name: string;
    readonly type: T;
    readonly stream: ToxicStream;
    /** The probability that the toxic applies to a connection, rolled once per connection. */
    readonly toxicity: number;
    readonly attributes: Readonly<ToxicAttributesByType[T]>;
  };
}[ToxicType];

/** A toxic to add: only `type` is required. */
export type ToxicSpec = {
  [T in ToxicType]: {
    /** Default `<type>_<stream>`, e.g. `latency_downstream`. */
    readonly name?: string;
    readonly type: T;
    /** Default 'downstream' (data on its way back to the client). */
    readonly stream?: ToxicStream;
    /** Default 1: every connection. */
    readonly toxicity?: number;
    /** Attributes left out take their defaults (see `TOXIC_DEFAULTS`). */
    readonly attributes?: Partial<ToxicAttributesByType[T]>;
  };
}[ToxicType];

/** Changes to a toxic: a new toxicity and attributes to merge over the current ones. */
export interface ToxicChanges {
  readonly toxicity?: number;
  readonly attributes?: Readonly<Record<string, number>>;
}

interface AttributeRule {
  readonly fallback: number;
  readonly integer: boolean;
  readonly min: number;
  readonly unit: string;
}

const ms = (fallback = 0): AttributeRule => ({ fallback, integer: false, min: 0, unit: 'ms' });
const bytes = (fallback: number, min: number): AttributeRule => ({
  fallback,
  integer: true,
  min,
  unit: 'bytes',
});

const RULES: {
  readonly [T in ToxicType]: Readonly<Record<keyof ToxicAttributesByType[T], AttributeRule>>;
} = {
  latency: { latency: ms(), jitter: ms() },
  bandwidth: { rate: { fallback: 0, integer: false, min: 0, unit: 'KB/s' } },
  slow_close: { delay: ms() },
  timeout: { timeout: ms() },
  reset_peer: { timeout: ms() },
  slicer: {
    average_size: bytes(64, 1),
    size_variation: bytes(0, 0),
    delay: { fallback: 0, integer: false, min: 0, unit: 'µs' },
  },
  limit_data: { bytes: bytes(0, 0) },
};

export const TOXIC_TYPES = Object.keys(RULES) as readonly ToxicType[];
export const TOXIC_STREAMS: readonly ToxicStream[] = ['upstream', 'downstream'];

/** Each toxic type's attribute defaults. */
export const TOXIC_DEFAULTS = Object.fromEntries(
  TOXIC_TYPES.map((type) => [type, defaultsOf(type)]),
) as { readonly [T in ToxicType]: Readonly<ToxicAttributesByType[T]> };

function defaultsOf(type: ToxicType): Record<string, number> {
  const rules: Record<string, AttributeRule> = RULES[type];
  return Object.fromEntries(Object.entries(rules).map(([key, rule]) => [key, rule.fallback]));
}

function fail(what: string, value: unknown, expected: string): TypeError {
  return new TypeError(`chaosProxy: ${what} must be ${expected} (got ${describe(value)})`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(
  what: string,
  value: Record<string, unknown>,
  allowed: readonly string[],
  noun = 'field',
) {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new TypeError(
        `chaosProxy: ${what} has no ${noun} "${key}" (it takes ${allowed.join(', ')})`,
      );
    }
  }
}

function checkToxicity(value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw fail('toxic "toxicity"', value, 'a number from 0 to 1');
  }
  return value;
}

/** `base` with `changes` merged over it, each attribute checked against its type's rules. */
function mergeAttributes(
  type: ToxicType,
  base: Record<string, number>,
  changes: unknown,
): Record<string, number> {
  if (changes === undefined) return { ...base };
  if (!isRecord(changes)) throw fail(`${type} toxic "attributes"`, changes, 'an object');
  const rules: Record<string, AttributeRule> = RULES[type];
  checkKeys(`a ${type} toxic`, changes, Object.keys(rules), 'attribute');
  const merged = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    const rule = rules[key]!;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      value >= rule.min &&
      (!rule.integer || Number.isInteger(value));
    if (!ok) {
      const number = rule.integer ? 'an integer' : 'a number';
      throw fail(`${type} attribute "${key}"`, value, `${number} of ${rule.unit} >= ${rule.min}`);
    }
    merged[key] = value;
  }
  return merged;
}

function checkSlicer(attributes: Record<string, number>): void {
  if (attributes.size_variation! >= attributes.average_size!) {
    throw fail(
      'slicer attribute "size_variation"',
      attributes.size_variation,
      `smaller than average_size (${attributes.average_size})`,
    );
  }
}

/** Checks a toxic to add and fills in its defaults. Throws a TypeError naming what is wrong. */
export function toxicFromSpec(spec: unknown): Toxic {
  if (!isRecord(spec)) throw fail('a toxic', spec, 'an object with a "type"');
  checkKeys('a toxic', spec, ['name', 'type', 'stream', 'toxicity', 'attributes']);
  const { type, stream = 'downstream', toxicity = 1, name } = spec;
  if (!TOXIC_TYPES.includes(type as ToxicType)) {
    throw fail('toxic "type"', type, `one of ${TOXIC_TYPES.join(', ')}`);
  }
  if (!TOXIC_STREAMS.includes(stream as ToxicStream)) {
    throw fail('toxic "stream"', stream, "'upstream' or 'downstream'");
  }
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw fail('toxic "name"', name, 'a non-empty string');
  }
  const attributes = mergeAttributes(
    type as ToxicType,
    TOXIC_DEFAULTS[type as ToxicType],
    spec.attributes,
  );
  if (type === 'slicer') checkSlicer(attributes);
  return Object.freeze({
    name: (name as string | undefined) ?? `${type}_${stream}`,
    type,
    stream,
    toxicity: checkToxicity(toxicity),
    attributes: Object.freeze(attributes),
  }) as Toxic;
}

/**
 * `toxic` with `changes` applied. The body of Toxiproxy's update may repeat the toxic's name,
 * type and stream; they must match, as they cannot change.
 */
export function updatedToxic(toxic: Toxic, changes: unknown): Toxic {
  if (!isRecord(changes)) throw fail('a toxic update', changes, 'an object');
  checkKeys('a toxic update', changes, ['name', 'type', 'stream', 'toxicity', 'attributes']);
  for (const key of ['name', 'type', 'stream'] as const) {
    if (changes[key] !== undefined && changes[key] !== toxic[key]) {
      throw fail(`toxic "${key}"`, changes[key], `${describe(toxic[key])}: it cannot change`);
    }
  }
  const attributes = mergeAttributes(toxic.type, toxic.attributes, changes.attributes);
  if (toxic.type === 'slicer') checkSlicer(attributes);
  return Object.freeze({
    ...toxic,
    toxicity: changes.toxicity === undefined ? toxic.toxicity : checkToxicity(changes.toxicity),
    attributes: Object.freeze(attributes),
  }) as Toxic;
}
