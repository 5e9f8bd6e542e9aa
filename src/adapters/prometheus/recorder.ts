import type { GaugeReading as StateReading } from '../../core/gauges.js';
import { type TelemetryEvent, telemetry } from '../../telemetry.js';
import { type CatalogEntry, catalog } from './catalog.js';
import {
  CounterFamily,
  GaugeFamily,
  type GaugeReading,
  HistogramFamily,
  join,
  type ScrapedMetric,
} from './metric-family.js';
import type { CheckedOptions } from './options.js';

/** The seeds' encoding of breaker states; isolated counts as open so the alert fires. */
const breakerStateValue: Readonly<Record<string, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
  isolated: 2,
};

/** Health statuses; a check with no result yet ('unknown') has no series. */
const healthValue: Readonly<Record<string, number>> = { pass: 1, warn: 0.5, fail: 0 };

/**
 * Turns telemetry into metric values. Counters and histograms add up as events come; gauges
 * read the live policies' state (`telemetry.gauges()`) when scraped.
 */
export class Recorder {
  readonly metrics: readonly ScrapedMetric[];
  readonly #clock: CheckedOptions['clock'];
  readonly #callDuration: HistogramFamily;
  readonly #retryAttempts: CounterFamily;
  readonly #loadShed: CounterFamily;
  readonly #degradation: CounterFamily;
  readonly #rateLimited: CounterFamily;
  readonly #timeouts: CounterFamily;
  readonly #bulkheadRejected: CounterFamily;
  readonly #cacheRequests: CounterFamily;
  readonly #recoveryTime: HistogramFamily;
  /** When each breaker left closed, by name; removed when it closes again. */
  readonly #leftClosedAt = new Map<string, number>();
  /** The policies' state, read once per scrape however many gauges ask. */
  #states: readonly StateReading[] | undefined;

  constructor(options: CheckedOptions) {
    const { prefix, labels: constant } = options;
    const info = (entry: CatalogEntry) => ({
      name: `${prefix}${entry.name}`,
      help: entry.help,
      labelNames: ['policy', ...entry.labels],
      constant,
    });
    this.#clock = options.clock;
    this.#callDuration = new HistogramFamily(info(catalog.callDuration), options.buckets);
    this.#retryAttempts = new CounterFamily(info(catalog.retryAttempts));
    this.#loadShed = new CounterFamily(info(catalog.loadShed));
    this.#degradation = new CounterFamily(info(catalog.degradation));
    this.#rateLimited = new CounterFamily(info(catalog.rateLimited));
    this.#timeouts = new CounterFamily(info(catalog.timeouts));
    this.#bulkheadRejected = new CounterFamily(info(catalog.bulkheadRejected));
    this.#cacheRequests = new CounterFamily(info(catalog.cacheRequests));
    this.#recoveryTime = new HistogramFamily(info(catalog.recoveryTime), options.recoveryBuckets);
    const gauge = (
      entry: CatalogEntry,
      aggregator: 'sum' | 'max' | 'min',
      read: (state: StateReading) => GaugeReading | undefined,
    ) =>
      new GaugeFamily(info(entry), aggregator, () => {
        const readings: GaugeReading[] = [];
        for (const state of this.#readStates()) {
          const reading = read(state);
          if (reading !== undefined) readings.push(reading);
        }
        return readings;
      });
    this.metrics = [
      this.#callDuration,
      gauge(catalog.circuitBreakerState, 'max', readBreakerState),
      this.#recoveryTime,
      this.#retryAttempts,
      this.#loadShed,
      this.#degradation,
      this.#rateLimited,
      this.#timeouts,
      this.#bulkheadRejected,
      gauge(catalog.bulkheadRunning, 'sum', (state) => readOccupancy(state, 'running')),
      gauge(catalog.bulkheadQueued, 'sum', (state) => readOccupancy(state, 'queued')),
      gauge(catalog.concurrencyLimit, 'sum', readLimit),
      this.#cacheRequests,
      gauge(catalog.healthCheckStatus, 'min', readHealth),
    ];
  }

  /** The telemetry bus listener. */
  readonly record = (event: TelemetryEvent): void => {
    // Calls first: an observed process sees one of these per call, the rest now and then.
    if (event.type === 'execution') {
      const { outcome, durationMs } = event.detail;
      const cell = this.#callDuration.cell(event.policy, outcome);
      this.#callDuration.observe(cell, durationMs / 1000);
      return;
    }
    switch (event.kind) {
      case 'retry':
        if (event.type === 'success') this.#retryAttempts.cell(event.policy, 'success').value++;
        else if (event.type === 'retry') this.#retryAttempts.cell(event.policy, 'retry').value++;
        else if (event.type === 'giveUp') {
          const rest = join('give_up', event.detail.reason);
          this.#retryAttempts.cell(event.policy, rest).value++;
        }
        return;
      case 'circuit-breaker':
        if (event.type === 'stateChange') this.#breakerChanged(event.policy, event.detail);
        return;
      case 'load-shedder':
        if (event.type === 'shed') {
          const rest = join(event.detail.reason, event.detail.priority);
          this.#loadShed.cell(event.policy, rest).value++;
        }
        return;
      case 'feature':
        if (event.type === 'degraded') {
          this.#degradation.cell(event.policy, event.detail.reason).value++;
        }
        return;
      case 'fallback':
        if (event.type === 'fallback') this.#degradation.cell(event.policy, 'fallback').value++;
        return;
      case 'rate-limiter':
        if (event.type === 'limited') this.#rateLimited.cell(event.policy).value++;
        return;
      case 'timeout':
        if (event.type === 'timeout') this.#timeouts.cell(event.policy).value++;
        return;
      case 'bulkhead':
        if (event.type === 'rejected') {
          this.#bulkheadRejected.cell(event.policy, event.detail.reason).value++;
        }
        return;
      case 'cache':
        if (event.type === 'hit' || event.type === 'miss' || event.type === 'stale') {
          this.#cacheRequests.cell(event.policy, event.type).value++;
        }
        return;
    }
  };

  /**
   * Times a breaker's recovery, by name: from leaving closed to closing again. Breakers that
   * share a name (a keyed breaker's keys) are timed from the first to leave to the first back.
   */
  #breakerChanged(policy: string, { from, to }: { from: string; to: string }): void {
    if (from === 'closed' && !this.#leftClosedAt.has(policy)) {
      this.#leftClosedAt.set(policy, this.#clock.now());
    } else if (to === 'closed') {
      const since = this.#leftClosedAt.get(policy);
      if (since === undefined) return;
      this.#leftClosedAt.delete(policy);
      const cell = this.#recoveryTime.cell(policy);
      this.#recoveryTime.observe(cell, (this.#clock.now() - since) / 1000);
    }
  }

  #readStates(): readonly StateReading[] {
    if (this.#states === undefined) {
      this.#states = telemetry.gauges();
      // A scrape asks every metric at once: they share this reading, the next scrape reads anew.
      queueMicrotask(() => {
        this.#states = undefined;
      });
    }
    return this.#states;
  }
}

/**
 * A breaker's state; a keyed breaker reports how many of its keys are in each state, and shows
 * the worst state any key is in (closed when it has none).
 */
function readBreakerState(state: StateReading): GaugeReading | undefined {
  if (state.kind !== 'circuit-breaker') return undefined;
  if (state.gauge === 'state') {
    return { policy: state.policy, value: breakerStateValue[state.state ?? ''] ?? 0 };
  }
  if (state.gauge === 'keys') {
    const worst = state.value > 0 ? (breakerStateValue[state.labels?.state ?? ''] ?? 0) : 0;
    return { policy: state.policy, value: worst };
  }
  return undefined;
}

function readOccupancy(state: StateReading, gauge: 'running' | 'queued') {
  const { kind } = state;
  if (state.gauge !== gauge || (kind !== 'bulkhead' && kind !== 'load-shedder')) return undefined;
  return { policy: state.policy, value: state.value };
}

function readLimit(state: StateReading): GaugeReading | undefined {
  const { kind } = state;
  const limited = kind === 'bulkhead' || kind === 'load-shedder' || kind === 'adaptive-limit';
  if (!limited || state.gauge !== 'limit') return undefined;
  return { policy: state.policy, value: state.value };
}

function readHealth(state: StateReading): GaugeReading | undefined {
  if (state.kind !== 'health' || state.gauge !== 'status') return undefined;
  const value = healthValue[state.state ?? ''];
  const check = state.labels?.check;
  if (value === undefined || check === undefined) return undefined;
  return { policy: state.policy, labels: [check], value };
}
