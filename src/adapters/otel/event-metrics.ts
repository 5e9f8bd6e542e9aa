import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import type { Clock } from '../../core/clock.js';
import type { TelemetryEvent } from '../../telemetry.js';
import type { AttributeSets } from './attribute-sets.js';
import { attributes, instruments } from './names.js';
import { RecoveryTracker } from './recovery.js';

/**
 * What `retry` events count as, per attempt: tried again, ended the call well, or gave up (the
 * Prometheus adapter's values).
 */
const retryResults = { retry: 'retry', success: 'success', giveUp: 'give_up' } as const;

/**
 * The counters and the recovery histogram, fed by the policies' events on the telemetry bus.
 * Every measurement carries the policy's name and kind and, where the event has one, a reason
 * from a fixed set; never the call's key.
 */
export class EventMetrics {
  readonly #sets: AttributeSets;
  readonly #clock: Clock;
  readonly #recovery = new RecoveryTracker();
  readonly #recoveryTime: Histogram;
  readonly #retryAttempts: Counter;
  readonly #shedCalls: Counter;
  readonly #degradedCalls: Counter;
  readonly #limitedCalls: Counter;
  readonly #timedOutCalls: Counter;
  readonly #bulkheadRejected: Counter;
  readonly #cacheRequests: Counter;

  constructor(meter: Meter, sets: AttributeSets, clock: Clock, recoveryBuckets: number[]) {
    this.#sets = sets;
    this.#clock = clock;
    this.#recoveryTime = meter.createHistogram(instruments.breakerRecovery, {
      description: 'How long circuit breakers took from opening (or isolation) to closing again.',
      unit: 's',
      advice: { explicitBucketBoundaries: recoveryBuckets },
    });
    this.#retryAttempts = meter.createCounter(instruments.retryAttempts, {
      description:
        'Attempts that retry policies saw end, by what followed: retry, success, give_up.',
      unit: '{attempt}',
    });
    this.#shedCalls = meter.createCounter(instruments.shedCalls, {
      description: 'Calls load shedders refused, by reason.',
      unit: '{call}',
    });
    this.#degradedCalls = meter.createCounter(instruments.degradedCalls, {
      description: "Calls a degraded feature answered with its fallback, by the feature's reason.",
      unit: '{call}',
    });
    this.#limitedCalls = meter.createCounter(instruments.limitedCalls, {
      description: 'Calls rate limiters refused.',
      unit: '{call}',
    });
    this.#timedOutCalls = meter.createCounter(instruments.timedOutCalls, {
      description: 'Calls (or attempts) whose timeout expired.',
      unit: '{call}',
    });
    this.#bulkheadRejected = meter.createCounter(instruments.bulkheadRejected, {
      description:
        'Calls bulkheads refused: every slot and queue place taken, or the queue wait ran out.',
      unit: '{call}',
    });
    this.#cacheRequests = meter.createCounter(instruments.cacheRequests, {
      description: 'Calls through caches, by result: hit, miss, stale.',
      unit: '{request}',
    });
  }

  record(event: TelemetryEvent): void {
    const { policy, kind } = event;
    const sets = this.#sets;
    switch (event.kind) {
      case 'retry': {
        if (event.type === 'execution' || event.type === 'attempt') return;
        const result = retryResults[event.type];
        const reason = event.type === 'giveUp' ? event.detail.reason : undefined;
        const at = sets.of(
          policy,
          kind,
          attributes.retryResult,
          result,
          attributes.retryReason,
          reason,
        );
        this.#retryAttempts.add(1, at);
        return;
      }
      case 'circuit-breaker': {
        if (event.type !== 'stateChange') return;
        const { key, from, to } = event.detail;
        const seconds = this.#recovery.change(policy, key, from, to, this.#clock.now());
        if (seconds !== undefined) this.#recoveryTime.record(seconds, sets.of(policy, kind));
        return;
      }
      case 'load-shedder':
        if (event.type === 'shed') {
          this.#shedCalls.add(1, sets.of(policy, kind, attributes.shedReason, event.detail.reason));
        }
        return;
      case 'feature':
        if (event.type === 'degraded') {
          const reason = event.detail.reason;
          this.#degradedCalls.add(1, sets.of(policy, kind, attributes.degradedReason, reason));
        }
        return;
      case 'rate-limiter':
        if (event.type === 'limited') this.#limitedCalls.add(1, sets.of(policy, kind));
        return;
      case 'timeout':
        if (event.type === 'timeout') this.#timedOutCalls.add(1, sets.of(policy, kind));
        return;
      case 'bulkhead':
        if (event.type === 'rejected') {
          const reason = event.detail.reason;
          this.#bulkheadRejected.add(1, sets.of(policy, kind, attributes.rejectReason, reason));
        }
        return;
      case 'cache':
        if (event.type === 'hit' || event.type === 'miss' || event.type === 'stale') {
          this.#cacheRequests.add(1, sets.of(policy, kind, attributes.cacheResult, event.type));
        }
        return;
      default:
        return;
    }
  }
}
