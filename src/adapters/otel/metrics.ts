import type { MeterProvider } from '@opentelemetry/api';
import type { Disposer } from '../../core/events.js';
import { telemetry } from '../../telemetry.js';
import { AttributeSets } from './attribute-sets.js';
import { CallMetrics } from './call-metrics.js';
import { EventMetrics } from './event-metrics.js';
import { observeGauges } from './gauges.js';
import type { Settings } from './options.js';

/** The instrumentation scope bulwark's instruments and spans are made under. */
export const scopeName = 'bulwark';

/** Makes bulwark's instruments on `provider` and feeds them; the disposer stops that. */
export function startMetrics(provider: MeterProvider, settings: Settings): Disposer {
  const meter = provider.getMeter(scopeName);
  const sets = new AttributeSets(settings.attributes);
  const calls = new CallMetrics(meter, sets, settings.durationBuckets);
  const events = new EventMetrics(meter, sets, settings.clock, settings.recoveryBuckets);
  const unsubscribe = telemetry.subscribe(
    (event) => {
      if (!calls.record(event)) events.record(event);
    },
    // Attempts too: they feed the attempt duration histogram.
    { executions: true, attempts: true },
  );
  const unobserve = observeGauges(meter, sets);
  return () => {
    unsubscribe();
    unobserve();
  };
}
