/**
 * Every metric the adapter exports: name (before the prefix), type, help text and label names
 * after `policy`. Names and encodings follow the seeds' dashboards and alert rules
 * (alerts/bulwark.rules.yml); docs/prometheus.md describes each.
 */
export const catalog = {
  circuitBreakerState: {
    name: 'circuit_breaker_state',
    type: 'gauge',
    help: 'State of the circuit breaker: 0 closed, 1 half-open, 2 open (isolated counts as open); a keyed breaker shows its worst key.',
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
    help: 'Latest status of a health check: 1 pass, 0.5 warn, 0 fail (no series before its first result).',
    labels: ['check'],
  },
  bulkheadRunning: {
    name: 'bulkhead_running',
    type: 'gauge',
    help: 'Calls running in a bulkhead or load shedder.',
    labels: [],
  },
  bulkheadQueued: {
    name: 'bulkhead_queued',
    type: 'gauge',
    help: 'Calls waiting in the queue of a bulkhead or load shedder.',
    labels: [],
  },
  concurrencyLimit: {
    name: 'concurrency_limit',
    type: 'gauge',
    help: 'Calls a bulkhead, load shedder or adaptive limit lets run at once, now.',
    labels: [],
  },
  callDuration: {
    name: 'call_duration_seconds',
    type: 'histogram',
    help: 'Duration of calls through a pipeline, or a policy called on its own, by outcome: success, failure, or rejected (refused by a policy).',
    labels: ['outcome'],
  },
} as const;

export type CatalogEntry = (typeof catalog)[keyof typeof catalog];
