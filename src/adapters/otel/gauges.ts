import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import type { Disposer } from '../../core/events.js';
import type { GaugeReading } from '../../core/gauges.js';
import { telemetry } from '../../telemetry.js';
import type { AttributeSets } from './attribute-sets.js';
import { instruments } from './names.js';

/**
 * An observable gauge: its name, unit and description, and how a reading becomes its value
 * (undefined: not reported) when the reading's own value is not it.
 */
type GaugeSpec = readonly [
  name: string,
  unit: string,
  description: string,
  readValue?: (reading: GaugeReading) => number | undefined,
];

/** A check's status as the Prometheus adapter encodes it; nothing before its first result. */
const healthValues: Readonly<Record<string, number>> = { pass: 1, warn: 0.5, fail: 0 };

/**
 * The instrument each of the core's gauges (`telemetry.gauges()`, by kind and gauge) is
 * reported as. A keyed policy reports its keys' states as a count of keys per state (`keys`,
 * labelled with the state).
 */
const gaugeSpecs: Readonly<Record<string, GaugeSpec>> = {
  'circuit-breaker/state': [
    instruments.breakerState,
    '1',
    'Circuit breaker state: 0 closed, 1 half-open, 2 open (isolated counts as open).',
  ],
  'circuit-breaker/keys': [
    'bulwark.circuit_breaker.keys',
    '{key}',
    'Keys of a keyed circuit breaker in each state (bulwark.circuit_breaker.state).',
  ],
  'bulkhead/running': [instruments.bulkheadRunning, '{call}', 'Calls running in a bulkhead.'],
  'bulkhead/queued': [instruments.bulkheadQueued, '{call}', "Calls waiting in a bulkhead's queue."],
  'bulkhead/limit': ['bulwark.bulkhead.limit', '{call}', "A bulkhead's concurrency limit now."],
  'load-shedder/running': [
    instruments.shedderRunning,
    '{call}',
    'Calls a load shedder admitted, running.',
  ],
  'load-shedder/queued': [
    instruments.shedderQueued,
    '{call}',
    "Calls waiting in a load shedder's queue.",
  ],
  'load-shedder/limit': [
    'bulwark.load_shedder.limit',
    '{call}',
    "A load shedder's concurrency limit now.",
  ],
  'adaptive-limit/limit': [
    instruments.concurrencyLimit,
    '{call}',
    "An adaptive concurrency limit's current limit.",
  ],
  'rate-limiter/waiting': [
    'bulwark.rate_limiter.waiting_calls',
    '{call}',
    'Calls waiting for a rate limiter to admit them.',
  ],
  'adaptive-throttle/probability': [
    'bulwark.adaptive_throttle.probability',
    '1',
    'The probability with which client-side throttling refuses a call now.',
  ],
  'cache/entries': ['bulwark.cache.entries', '{entry}', "Entries in a cache's built-in store."],
  'cache/inflight': [
    'bulwark.cache.loads',
    '{call}',
    'Calls a cache is running to fill or refresh entries.',
  ],
  'feature/mode': [
    'bulwark.degradation.mode',
    '1',
    "A feature's mode: 0 primary, 1 fallback, 2 disabled.",
  ],
  'feature/keys': ['bulwark.degradation.keys', '{key}', 'Keys of a keyed feature in each mode.'],
  'health/status': [
    instruments.healthStatus,
    '1',
    "A health check's latest status: 1 pass, 0.5 warn, 0 fail.",
    (reading) => healthValues[reading.state ?? ''],
  ],
  'keyed/keys': ['bulwark.keyed.keys', '{key}', 'Keys a keyed policy holds.'],
};

/** The attribute namespace of a kind's labels: `check` of 'health' is `bulwark.health.check`. */
function namespaceOf(kind: string): string {
  return kind === 'feature' ? 'degradation' : kind.replaceAll('-', '_');
}

/**
 * Observable gauges read from the core's `telemetry.gauges()` at each collection: the state of
 * every live stateful policy, never a series per key. Two policies of one kind under one name
 * are reported as one series: counts add up, a state shows the worse (higher) code.
 */
export function observeGauges(meter: Meter, sets: AttributeSets): Disposer {
  const observables = new Map<string, readonly [Observable, GaugeSpec[3]]>();
  for (const [id, [name, unit, description, readValue]] of Object.entries(gaugeSpecs)) {
    observables.set(id, [meter.createObservableGauge(name, { unit, description }), readValue]);
  }
  const callback = (result: BatchObservableResult): void => {
    const totals = new Map<Observable, Map<Attributes, number>>();
    for (const reading of telemetry.gauges()) {
      const found = observables.get(`${reading.kind}/${reading.gauge}`);
      if (found === undefined) continue;
      const [observable, readValue] = found;
      const reported = readValue === undefined ? reading.value : readValue(reading);
      if (reported === undefined) continue;
      const at = attributesOf(sets, reading);
      let values = totals.get(observable);
      if (values === undefined) {
        values = new Map();
        totals.set(observable, values);
      }
      const seen = values.get(at);
      const value =
        seen === undefined
          ? reported
          : reading.state !== undefined
            ? Math.max(seen, reported)
            : seen + reported;
      values.set(at, value);
    }
    for (const [observable, values] of totals) {
      for (const [at, value] of values) result.observe(observable, value, at);
    }
  };
  const all = [...observables.values()].map(([observable]) => observable);
  meter.addBatchObservableCallback(callback, all);
  return () => meter.removeBatchObservableCallback(callback, all);
}

function attributesOf(sets: AttributeSets, reading: GaugeReading): Attributes {
  const { policy, kind, labels } = reading;
  if (labels === undefined) return sets.of(policy, kind);
  const [first, second] = Object.entries(labels);
  const namespace = namespaceOf(kind);
  return sets.of(
    policy,
    kind,
    first && `bulwark.${namespace}.${first[0]}`,
    first?.[1],
    second && `bulwark.${namespace}.${second[0]}`,
    second?.[1],
  );
}
