/**
 * The names bulwark's OpenTelemetry signals use, in the semantic-convention style: dotted
 * namespaces, snake_case words, units in the instrument's `unit` (never in its name), counters
 * named for what they count. OpenTelemetry has no conventions for resilience policies yet, so
 * everything lives under `bulwark.`; `error.type` and `http.request.resend_count` are the
 * standard attributes.
 */
export const instruments = {
  callDuration: 'bulwark.call.duration',
  attemptDuration: 'bulwark.attempt.duration',
  breakerState: 'bulwark.circuit_breaker.state',
  breakerRecovery: 'bulwark.circuit_breaker.recovery.duration',
  retryAttempts: 'bulwark.retry.attempts',
  shedCalls: 'bulwark.load_shedder.shed_calls',
  shedderRunning: 'bulwark.load_shedder.running_calls',
  shedderQueued: 'bulwark.load_shedder.queued_calls',
  degradedCalls: 'bulwark.degradation.degraded_calls',
  limitedCalls: 'bulwark.rate_limiter.limited_calls',
  timedOutCalls: 'bulwark.timeout.timed_out_calls',
  bulkheadRejected: 'bulwark.bulkhead.rejected_calls',
  bulkheadRunning: 'bulwark.bulkhead.running_calls',
  bulkheadQueued: 'bulwark.bulkhead.queued_calls',
  concurrencyLimit: 'bulwark.adaptive_limit.limit',
  cacheRequests: 'bulwark.cache.requests',
  healthStatus: 'bulwark.health.status',
} as const;

/** Attribute keys. None of them ever holds a call's key: their values are bounded sets. */
export const attributes = {
  policyName: 'bulwark.policy.name',
  policyKind: 'bulwark.policy.kind',
  outcome: 'bulwark.outcome',
  attemptNumber: 'bulwark.attempt.number',
  attempts: 'bulwark.call.attempts',
  retryResult: 'bulwark.retry.result',
  retryReason: 'bulwark.retry.reason',
  shedReason: 'bulwark.load_shedder.reason',
  degradedReason: 'bulwark.degradation.reason',
  rejectReason: 'bulwark.bulkhead.reason',
  cacheResult: 'bulwark.cache.result',
  healthCheck: 'bulwark.health.check',
  errorType: 'error.type',
  resendCount: 'http.request.resend_count',
} as const;

/**
 * Histogram buckets for call and attempt durations, in seconds: OpenTelemetry's advice for
 * `http.client.request.duration`, so bulwark's durations line up with the HTTP client's.
 */
export const defaultDurationBuckets: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** Recovery takes at least one break (seconds to minutes): buckets from 1 s to 30 min. */
export const defaultRecoveryBuckets: readonly number[] = [
  1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
];
