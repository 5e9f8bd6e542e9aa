import type { CircuitState } from '../../circuit-breaker/options.js';
import type { HealthStatus } from '../../health/types.js';
import type { TelemetryEvent } from '../../telemetry.js';
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

const breakerStateValue: Record<CircuitState, number> = {
  closed: 0,
  'half-open': 1,
  open: 2,
  isolated: 2,
};

const healthValue: Record<HealthStatus, number> = { pass: 1, warn: 0.5, fail: 0 };

interface HealthReading {
  /** The `check` and `probe` label values: one of the two is empty. */
  readonly labels: readonly [string, string];
  readonly status: HealthStatus;
}

/**
 * Turns telemetry events into metric values. Counters and histograms add up as events come;
 * gauges are read from the state the events leave behind, when scraped.
 */
export class Recorder {
  readonly metrics: readonly ScrapedMetric[];
  readonly #clock: CheckedOptions['clock'];
  readonly #retryAttempts: CounterFamily;
  readonly #loadShed: CounterFamily;
  readonly #degradation: CounterFamily;
  readonly #rateLimited: CounterFamily;
  readonly #timeouts: CounterFamily;
  readonly #bulkheadRejected: CounterFamily;
  readonly #cacheRequests: CounterFamily;
  readonly #recoveryTime: HistogramFamily;
  /** The last state each breaker reported, by name. */
  readonly #breakerStates = new Map<string, CircuitState>();
  /** When each breaker left closed, by name; removed when it closes again. */
  readonly #leftClosedAt = new Map<string, number>();
  /**
   * The last status of each check and each probe kind, by health registry, then by check
   * (`check:<name>`) or probe (`probe:<kind>`), with the label values its series carries.
   */
  readonly #health = new Map<string, Map<string, HealthReading>>();

  constructor(options: CheckedOptions) {
    const { prefix, labels: constant } = options;
    const info = (entry: CatalogEntry) => ({
      name: `${prefix}${entry.name}`,
      help: entry.help,
      labelNames: ['policy', ...entry.labels],
      constant,
    });
    this.#clock = options.clock;
    this.#retryAttempts = new CounterFamily(info(catalog.retryAttempts));
    this.#loadShed = new CounterFamily(info(catalog.loadShed));
    this.#degradation = new CounterFamily(info(catalog.degradation));
    this.#rateLimited = new CounterFamily(info(catalog.rateLimited));
    this.#timeouts = new CounterFamily(info(catalog.timeouts));
    this.#bulkheadRejected = new CounterFamily(info(catalog.bulkheadRejected));
    this.#cacheRequests = new CounterFamily(info(catalog.cacheRequests));
    this.#recoveryTime = new HistogramFamily(info(catalog.recoveryTime), options.recoveryBuckets);
    this.metrics = [
      new GaugeFamily(info(catalog.circuitBreakerState), 'max', () => this.#readBreakers()),
      this.#recoveryTime,
      this.#retryAttempts,
      this.#loadShed,
      this.#degradation,
      this.#rateLimited,
      this.#timeouts,
      this.#bulkheadRejected,
      this.#cacheRequests,
      new GaugeFamily(info(catalog.healthCheckStatus), 'min', () => this.#readHealth()),
    ];
  }

  /** The telemetry bus listener. */
  readonly record = (event: TelemetryEvent): void => {
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
      case 'health':
        if (event.type === 'statusChange') {
          const { check, kind, to } = event.detail;
          const id = check === undefined ? `probe:${kind}` : `check:${check}`;
          let statuses = this.#health.get(event.policy);
          if (statuses === undefined) {
            statuses = new Map();
            this.#health.set(event.policy, statuses);
          }
          const labels: HealthReading['labels'] =
            check === undefined ? ['', kind ?? ''] : [check, ''];
          statuses.set(id, { labels, status: to });
        }
        return;
    }
  };

  #breakerChanged(policy: string, { from, to }: { from: CircuitState; to: CircuitState }): void {
    this.#breakerStates.set(policy, to);
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

  *#readBreakers(): Iterable<GaugeReading> {
    for (const [policy, state] of this.#breakerStates) {
      yield { policy, value: breakerStateValue[state] };
    }
  }

  *#readHealth(): Iterable<GaugeReading> {
    for (const [policy, statuses] of this.#health) {
      for (const { labels, status } of statuses.values()) {
        yield { policy, labels, value: healthValue[status] };
      }
    }
  }
}
