export type { PrometheusMetricsOptions } from './options.js';
export { prometheusMetrics } from './prometheus-metrics.js';
