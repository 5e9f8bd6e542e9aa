import type { Metric } from 'prom-client';
import type { Disposer } from '../../core/events.js';
import { telemetry } from '../../telemetry.js';
import { checkPrometheusOptions, type PrometheusMetricsOptions } from './options.js';
import { Recorder } from './recorder.js';

/**
 * Exports bulwark's telemetry as Prometheus metrics: registers the metrics on your prom-client
 * `Registry` and keeps them up to date from the telemetry bus, for every policy in the process.
 * Series are labelled by policy name (plus your constant `labels`), never by a call's key, so
 * their number stays bounded whatever the traffic.
 *
 * Returns the function that detaches: it unsubscribes from the bus and removes the metrics
 * from the registry. Calling it twice is harmless.
 */
export function prometheusMetrics(options: PrometheusMetricsOptions): Disposer {
  const checked = checkPrometheusOptions(options);
  const { registry } = checked;
  const recorder = new Recorder(checked);
  for (const metric of recorder.metrics) {
    if (registry.getSingleMetric(metric.name) !== undefined) {
      throw new TypeError(
        `prometheusMetrics: option "registry" already has a metric named "${metric.name}" (attached twice to one registry? A prefix tells two apart)`,
      );
    }
  }
  // Kept by the name registered under: prom-client renames counters when it writes OpenMetrics.
  const registered = recorder.metrics.map((metric) => {
    // Our metrics implement what the Registry reads from its metrics (name, help, type,
    // aggregator, get(), reset()); prom-client's type names only its own classes.
    registry.registerMetric(metric as unknown as Metric);
    return [metric.name, metric] as const;
  });
  // Call durations need the execution events; attempts are not timed, so calls pay less.
  const unsubscribe = telemetry.subscribe(recorder.record, { executions: true, attempts: false });
  let attached = true;
  return () => {
    if (!attached) return;
    attached = false;
    unsubscribe();
    for (const [name, metric] of registered) {
      if (registry.getSingleMetric(name) === (metric as unknown)) registry.removeSingleMetric(name);
    }
  };
}
