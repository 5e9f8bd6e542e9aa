import {
  type Attributes,
  type MeterProvider,
  metrics,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { type Clock, systemClock } from '../../core/clock.js';
import { describe } from '../../core/policy.js';
import { checkClock, checkOptions, invalid } from '../../core/validate.js';
import { defaultDurationBuckets, defaultRecoveryBuckets } from './names.js';

const adapter = 'openTelemetry';

export interface OpenTelemetryOptions {
  /** Where the instruments are made. Default: the global one (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /** Where the spans are made. Default: the global one (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Record metrics. Default: true. */
  metrics?: boolean;
  /** Record spans. Default: true. */
  tracing?: boolean;
  /**
   * Attributes added to every measurement, e.g. `{ 'service.name': 'checkout' }` when the
   * resource does not say it already. Values must be strings, numbers or booleans. Default: none.
   */
  attributes?: Attributes;
  /**
   * Bucket boundaries, in seconds, advised for `bulwark.call.duration` and
   * `bulwark.attempt.duration` (a View in the SDK still overrides them). Default: OpenTelemetry's
   * advice for HTTP client durations, 0.005 to 10 s.
   */
  durationBuckets?: readonly number[];
  /** Bucket boundaries, in seconds, for breakers' recovery time. Default: 1 s to 30 min. */
  recoveryBuckets?: readonly number[];
  /**
   * The clock breakers' recovery is timed on: give the one the breakers use when it is not the
   * system clock (a `VirtualClock` in tests). Default: the system clock.
   */
  clock?: Clock;
}

/** The options, checked, with their defaults in place. */
export interface Settings {
  readonly meterProvider: MeterProvider | undefined;
  readonly tracerProvider: TracerProvider | undefined;
  readonly attributes: Attributes;
  readonly durationBuckets: number[];
  readonly recoveryBuckets: number[];
  readonly clock: Clock;
}

export function parseOptions(options: unknown): Settings {
  const opts = checkOptions<OpenTelemetryOptions>(adapter, options);
  const withMetrics = checkBoolean('metrics', opts.metrics);
  const withTracing = checkBoolean('tracing', opts.tracing);
  const meterProvider = checkProvider<MeterProvider>(
    'meterProvider',
    opts.meterProvider,
    'getMeter',
  );
  const tracerProvider = checkProvider<TracerProvider>(
    'tracerProvider',
    opts.tracerProvider,
    'getTracer',
  );
  return {
    meterProvider: withMetrics ? (meterProvider ?? metrics.getMeterProvider()) : undefined,
    tracerProvider: withTracing ? (tracerProvider ?? trace.getTracerProvider()) : undefined,
    attributes: checkAttributes(opts.attributes),
    durationBuckets: checkBuckets('durationBuckets', opts.durationBuckets, defaultDurationBuckets),
    recoveryBuckets: checkBuckets('recoveryBuckets', opts.recoveryBuckets, defaultRecoveryBuckets),
    clock: checkClock(adapter, opts.clock, systemClock),
  };
}

function checkBoolean(option: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw invalid(adapter, option, value, 'a boolean');
  return value;
}

function checkProvider<P>(option: string, value: unknown, method: string): P | undefined {
  if (value === undefined) return undefined;
  const ok =
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[method] === 'function';
  if (!ok) throw invalid(adapter, option, value, `an object with a ${method}() method`);
  return value as P;
}

function checkAttributes(value: unknown): Attributes {
  const expected = 'an object of string, number or boolean values';
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(adapter, 'attributes', value, expected);
  }
  const checked: Attributes = {};
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
      throw new TypeError(
        `${adapter}: option "attributes" must be ${expected} (got ${describe(item)} for "${name}")`,
      );
    }
    checked[name] = item;
  }
  return checked;
}

function checkBuckets(option: string, value: unknown, fallback: readonly number[]): number[] {
  if (value === undefined) return [...fallback];
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (bound, at) =>
        typeof bound === 'number' &&
        Number.isFinite(bound) &&
        (at === 0 || bound > (value[at - 1] as number)),
    );
  if (!ok) {
    throw invalid(adapter, option, value, 'a non-empty array of increasing finite numbers');
  }
  return [...(value as number[])];
}
