import type { Registry, RegistryContentType } from 'prom-client';
import { type Clock, systemClock } from '../../core/clock.js';
import { describe } from '../../core/policy.js';
import { checkClock, checkOptions, invalid } from '../../core/validate.js';

export interface PrometheusMetricsOptions {
  /** The prom-client `Registry` the metrics are registered on (your own, or `register`). Required. */
  registry: Registry<RegistryContentType>;
  /** Put before every metric name, e.g. `'shop_'` for `shop_circuit_breaker_state`. Default: ''. */
  prefix?: string;
  /**
   * Upper bounds, in seconds, of `call_duration_seconds`' buckets, increasing. Default:
   * OpenTelemetry's HTTP duration buckets, 0.005 to 10 s.
   */
  buckets?: readonly number[];
  /**
   * Upper bounds, in seconds, of `recovery_time_seconds`' buckets, increasing. Default: 1 s to
   * 1 h (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600).
   */
  recoveryBuckets?: readonly number[];
  /**
   * Labels every series carries, such as `{ service: 'checkout', operation: 'charge' }`. They
   * must not reuse the adapter's own label names. Default: none.
   */
  labels?: Readonly<Record<string, string>>;
  /** Where recovery times are measured from. Default: the system clock. */
  clock?: Clock;
}

/** The label names the adapter's own metrics use; constant labels must differ. */
export const ownLabelNames: readonly string[] = [
  'policy',
  'result',
  'reason',
  'priority',
  'outcome',
  'check',
  'le',
];

const defaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const defaultRecoveryBuckets = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export interface CheckedOptions {
  readonly registry: Registry<RegistryContentType>;
  readonly prefix: string;
  readonly buckets: readonly number[];
  readonly recoveryBuckets: readonly number[];
  readonly labels: Readonly<Record<string, string>>;
  readonly clock: Clock;
}

const NAME = 'prometheusMetrics';
const metricNamePrefix = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkRegistry(value: unknown): Registry<RegistryContentType> {
  const registry = value as Partial<Registry<RegistryContentType>> | null;
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof registry.registerMetric !== 'function' ||
    typeof registry.getSingleMetric !== 'function' ||
    typeof registry.removeSingleMetric !== 'function'
  ) {
    throw invalid(
      NAME,
      'registry',
      value,
      "a prom-client Registry (new Registry(), or 'register')",
    );
  }
  return value as Registry<RegistryContentType>;
}

function checkBuckets(option: string, value: unknown): readonly number[] {
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (bound, i) =>
        typeof bound === 'number' &&
        Number.isFinite(bound) &&
        bound > 0 &&
        (i === 0 || bound > (value[i - 1] as number)),
    );
  if (!ok) {
    throw invalid(NAME, option, value, 'a non-empty array of finite numbers > 0, increasing');
  }
  return Object.freeze([...(value as number[])]);
}

function checkLabels(value: unknown): Readonly<Record<string, string>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(NAME, 'labels', value, 'an object of label names to string values');
  }
  for (const [name, label] of Object.entries(value)) {
    if (!labelName.test(name) || name.startsWith('__') || ownLabelNames.includes(name)) {
      throw invalid(
        NAME,
        'labels',
        value,
        `label names matching ${labelName}, not starting with "__" and none of ${ownLabelNames.join(', ')} (${describe(name)} is not)`,
      );
    }
    if (typeof label !== 'string') {
      throw invalid(NAME, 'labels', value, `string values (${name} is ${describe(label)})`);
    }
  }
  return Object.freeze({ ...(value as Record<string, string>) });
}

export function checkPrometheusOptions(options: unknown): CheckedOptions {
  if (options === undefined) {
    throw new TypeError(`${NAME}: options with a "registry" are required (got undefined)`);
  }
  const o = checkOptions<PrometheusMetricsOptions>(NAME, options);
  const prefix = o.prefix ?? '';
  if (typeof prefix !== 'string' || !metricNamePrefix.test(prefix)) {
    throw invalid(
      NAME,
      'prefix',
      prefix,
      `'' or a metric name prefix matching ${metricNamePrefix}`,
    );
  }
  return {
    registry: checkRegistry(o.registry),
    prefix,
    buckets: checkBuckets('buckets', o.buckets ?? defaultBuckets),
    recoveryBuckets: checkBuckets('recoveryBuckets', o.recoveryBuckets ?? defaultRecoveryBuckets),
    labels: o.labels === undefined ? {} : checkLabels(o.labels),
    clock: checkClock(NAME, o.clock, systemClock),
  };
}
