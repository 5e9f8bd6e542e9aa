import type { MeterProvider } from '@opentelemetry/api';
import type { Disposer } from '../../core/events.js';
import { telemetry } from '../../telemetry.js';
import { AttributeSets } from './attribute-sets.js';
import { EventMetrics } from './event-metrics.js';
import type { Settings } from './options.js';

/** The instrumentation scope bulwark's instruments and spans are made under. */
export const scopeName = 'bulwark';

/** Makes bulwark's instruments on `provider` and feeds them; the disposer stops that. */
export function startMetrics(provider: MeterProvider, settings: Settings): Disposer {
  const meter = provider.getMeter(scopeName);
  const sets = new AttributeSets(settings.attributes);
  const events = new EventMetrics(meter, sets, settings.clock, settings.recoveryBuckets);
  return telemetry.subscribe((event) => events.record(event));
}
