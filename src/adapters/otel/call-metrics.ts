import type { Histogram, Meter } from '@opentelemetry/api';
import type { AnyTelemetryEvent } from '../../core/events.js';
import type { ExecutionEvents } from '../../core/execution.js';
import { type AttributeSets, errorType } from './attribute-sets.js';
import { attributes, instruments } from './names.js';

type Ended = ExecutionEvents['execution'] | ExecutionEvents['attempt'];

/** The duration histograms of calls and of their attempts, fed by the core's execution events. */
export class CallMetrics {
  readonly #sets: AttributeSets;
  readonly #calls: Histogram;
  readonly #attempts: Histogram;

  constructor(meter: Meter, sets: AttributeSets, buckets: number[]) {
    this.#sets = sets;
    this.#calls = meter.createHistogram(instruments.callDuration, {
      description:
        'Calls of pipelines and of policies called directly, by outcome: success, failure, rejected.',
      unit: 's',
      advice: { explicitBucketBoundaries: buckets },
    });
    this.#attempts = meter.createHistogram(instruments.attemptDuration, {
      description: 'Runs of the task inside calls, by outcome: success, failure.',
      unit: 's',
      advice: { explicitBucketBoundaries: buckets },
    });
  }

  /** Records an `execution` or `attempt` event; false for any other event. */
  record(event: AnyTelemetryEvent): boolean {
    const histogram =
      event.type === 'execution'
        ? this.#calls
        : event.type === 'attempt'
          ? this.#attempts
          : undefined;
    if (histogram === undefined) return false;
    const { durationMs, outcome, error } = event.detail as Ended;
    const failed = outcome !== 'success';
    const at = this.#sets.of(
      event.policy,
      event.kind,
      attributes.outcome,
      outcome,
      failed ? attributes.errorType : undefined,
      failed ? errorType(error) : undefined,
    );
    histogram.record(durationMs / 1000, at);
    return true;
  }
}
