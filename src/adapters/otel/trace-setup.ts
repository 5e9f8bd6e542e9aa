import type { TracerProvider } from '@opentelemetry/api';
import type { Disposer } from '../../core/events.js';
import { useExecutionScope } from '../../core/execution-scope.js';
import { telemetry } from '../../telemetry.js';
import { scopeName } from './metrics.js';
import { Tracing } from './tracing.js';

/** Makes spans for every call from now on; the disposer stops that and ends open spans. */
export function startTracing(provider: TracerProvider): Disposer {
  const tracing = new Tracing(provider.getTracer(scopeName));
  let release: Disposer;
  try {
    release = useExecutionScope(tracing);
  } catch {
    throw new Error(
      'openTelemetry: tracing is already attached; dispose of the other openTelemetry() first, or pass tracing: false',
    );
  }
  // Calls end their spans on `execution` events, attempts on `attempt` events.
  const unsubscribe = telemetry.subscribe((event) => tracing.record(event), {
    executions: true,
    attempts: true,
  });
  return () => {
    unsubscribe();
    release();
    tracing.stop();
  };
}
