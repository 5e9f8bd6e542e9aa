/**
 * Every metric the adapter exports: name (before the prefix), type, help text and label names
 * after `policy`. Names and encodings follow the seeds' dashboards and alert rules
 * (alerts/bulwark.rules.yml); docs/prometheus.md describes each.
 */
export const catalog = {
  circuitBreakerState: {
    name: 'circuit_breaker_state',
    type: 'gauge',
    help: 'State of the circuit breaker: 0 closed, 1 half-open, 2 open (isolated counts as open).',
    labels: [],
  },
  recoveryTime: {
    name: 'recovery_time_seconds',
    type: 'histogram',
    help: 'Time from a circuit breaker leaving closed (opening, or isolated) to closing again.',
    labels: [],
  },
  retryAttempts: {
    name: 'retry_attempts_total',
    type: 'counter',
    help: 'Attempts made by retry policies, by result: success, retry (failed, tried again) or give_up (failed, no more; reason says why).',
    labels: ['result', 'reason'],
  },
  loadShed: {
    name: 'load_shed_total',
    type: 'counter',
    help: 'Calls refused by load shedders, by reason (capacity, queue-timeout, codel, pressure, evicted) and priority.',
    labels: ['reason', 'priority'],
  },
  degradation: {
    name: 'degradation_events_total',
    type: 'counter',
    help: 'Calls answered in a degraded way: by a feature fallback (reason: why the feature degraded) or by a fallback policy (reason: fallback).',
    labels: ['reason'],
  },
  rateLimited: {
    name: 'rate_limited_total',
    type: 'counter',
    help: 'Calls refused by rate limiters.',
    labels: [],
  },
  timeouts: {
    name: 'timeouts_total',
    type: 'counter',
    help: 'Calls whose timeout policy ran out of time.',
    labels: [],
  },
  bulkheadRejected: {
    name: 'bulkhead_rejected_total',
    type: 'counter',
    help: 'Calls refused by bulkheads, by reason: full (no slot, no queue place) or queueTimeout.',
    labels: ['reason'],
  },
  cacheRequests: {
    name: 'cache_requests_total',
    type: 'counter',
    help: 'Cache lookups, by result: hit (fresh), stale (served stale, refreshed in the background) or miss.',
    labels: ['result'],
  },
  healthCheckStatus: {
    name: 'health_check_status',
    type: 'gauge',
    help: 'Latest status of a health check (check label) or of a probe overall (probe label): 1 pass, 0.5 warn, 0 fail.',
    labels: ['check', 'probe'],
  },
} as const;

export type CatalogEntry = (typeof catalog)[keyof typeof catalog];
