import type { Disposer } from '../../core/events.js';
import { startMetrics } from './metrics.js';
import { type OpenTelemetryOptions, parseOptions } from './options.js';
import { startTracing } from './trace-setup.js';

/**
 * Turns bulwark's telemetry into OpenTelemetry metrics and spans, through the user's meter and
 * tracer providers (the global ones by default). Returns the function that stops it: nothing
 * is recorded after that (OpenTelemetry cannot remove instruments from a meter, so the ones
 * made stay listed, with the values they had).
 */
export function openTelemetry(options?: OpenTelemetryOptions): Disposer {
  const settings = parseOptions(options);
  const parts: Disposer[] = [];
  // Tracing first: it is the part that can refuse (one tracing adapter at a time).
  if (settings.tracerProvider !== undefined) parts.push(startTracing(settings.tracerProvider));
  const stopAll = (): void => {
    for (const stop of parts) stop();
  };
  if (settings.meterProvider !== undefined) {
    try {
      parts.push(startMetrics(settings.meterProvider, settings));
    } catch (error) {
      // A provider that throws leaves nothing attached behind it.
      stopAll();
      throw error;
    }
  }
  let attached = true;
  return () => {
    if (!attached) return;
    attached = false;
    stopAll();
  };
}
