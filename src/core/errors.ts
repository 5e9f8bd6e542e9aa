import type { Priority } from './context.js';

/**
 * Every error bulwark raises is a `ResilienceError` with a stable `code`. Refusals to run
 * (breaker open, bulkhead full, timed out, ...) extend `ExecutionRejectedError`, so a caller
 * can tell "we refused" from "it failed".
 *
 * `name` and `code` live on each class's prototype rather than on every instance: refusals are
 * made in bulk while a dependency is down, and per-instance fields, redefined at each level of
 * the hierarchy, cost half as much again as the stack capture itself.
 */
export class ResilienceError extends Error {
  /** A stable, machine-readable identifier: match on this, not on the message. */
  declare readonly code: string;
}

/** Base class of every refusal to run the caller's function. */
export class ExecutionRejectedError extends ResilienceError {
  /**
   * Whether running the call again after a wait can succeed, so `retry` retries it by default
   * (after its `retryAfterMs`, if any). False here: most refusals (an open breaker, a full
   * bulkhead) say the dependency needs relief, not more calls. A subclass opts in with
   * `override get retryable() { return true; }`; a getter keeps it off every instance.
   */
  get retryable(): boolean {
    return false;
  }
}

/**
 * A circuit breaker is open (or its half-open probes are all taken). Its standard `cause` is
 * the failure that opened the breaker, when one did: the error of the call that tripped it (or
 * the value `failureOn` judged a failure), or a `TimeoutError` for a probe that hung.
 */
export class BrokenCircuitError extends ExecutionRejectedError {
  /** How long until the breaker admits a probe, when known. Retry honours it as a delay hint. */
  readonly retryAfterMs: number | undefined;

  /** `options` is passed on to `Error`: the breaker shares one `{ cause }` among its refusals. */
  constructor(message = 'Circuit breaker is open', retryAfterMs?: number, options?: ErrorOptions) {
    super(message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** A circuit breaker was isolated by hand and rejects until every isolation is disposed. */
export class IsolatedCircuitError extends ExecutionRejectedError {
  /** Always undefined: an isolation lasts until it is disposed, so no time is known. */
  readonly retryAfterMs: number | undefined = undefined;

  constructor(message = 'Circuit breaker is isolated') {
    super(message);
  }
}

/** The call ran past its time budget. */
export class TimeoutError extends ExecutionRejectedError {
  /** The budget that ran out, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, options?: ErrorOptions) {
    // A budget cut by an enclosing deadline can be fractional: the message shows 0.1 ms steps.
    super(`Timed out after ${Math.round(timeoutMs * 10) / 10} ms`, options);
    this.timeoutMs = timeoutMs;
  }

  /** True: a slow attempt says little about the next one, which gets a fresh budget. */
  override get retryable(): boolean {
    return true;
  }
}

/** A bulkhead had no free slot and no room in its queue (or the queue wait ran out). */
export class BulkheadRejectedError extends ExecutionRejectedError {
  /** Calls running when this one was refused. */
  readonly running: number;
  /** Calls waiting when this one was refused. */
  readonly queued: number;

  constructor(message: string, running: number, queued: number) {
    super(message);
    this.running = running;
    this.queued = queued;
  }
}

/**
 * A rate limiter refused the call: its key has no capacity left now. Retrying after
 * `retryAfterMs` can succeed, so it is `retryable`: retry waits at least that long, or gives up
 * when the wait cannot fit the call's deadline.
 */
export class RateLimitedError extends ExecutionRejectedError {
  /** When the call's cost will fit, in milliseconds from the refusal (finite). */
  readonly retryAfterMs: number;
  /** Units the limiter admits per interval. */
  readonly limit: number;
  /** Units left now (0 when refused for lack of them). */
  readonly remaining: number;
  /** The call's key; undefined for calls that share the limiter's one unkeyed bucket. */
  readonly key: string | undefined;

  constructor(
    message: string,
    retryAfterMs: number,
    limit: number,
    remaining: number,
    key: string | undefined,
  ) {
    super(message);
    this.retryAfterMs = retryAfterMs;
    this.limit = limit;
    this.remaining = remaining;
    this.key = key;
  }

  /** True: the limiter says when it will serve. */
  override get retryable(): boolean {
    return true;
  }
}

/** Why a load shedder refused a call. */
export type LoadShedReason = 'capacity' | 'queue-timeout' | 'codel' | 'pressure' | 'evicted';

/**
 * A load shedder refused the call to keep the service within its capacity. Not retried by
 * default: a service shedding load needs fewer calls, not the same ones again at once.
 */
export class LoadShedError extends ExecutionRejectedError {
  readonly reason: LoadShedReason;
  /** The refused call's priority. */
  readonly priority: Priority;
  /** A hint of when capacity may be back, in milliseconds; undefined when unknown. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, reason: LoadShedReason, priority: Priority, retryAfterMs?: number) {
    super(message);
    this.reason = reason;
    this.priority = priority;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Client-side adaptive throttling refused the call locally: the backend has been rejecting
 * too much of this client's traffic. Not retried by default: a retry would be throttled too.
 */
export class ThrottledError extends ExecutionRejectedError {
  /** The probability with which calls were being refused when this one was. */
  readonly probability: number;

  constructor(message: string, probability: number) {
    super(message);
    this.probability = probability;
  }
}

/**
 * A feature is degraded (disabled by its flag, unhealthy, or its breaker open) and has no
 * fallback to answer with, so its primary was not run. Not retried by default: the feature
 * stays degraded until its flag or its health changes.
 */
export class FeatureDegradedError extends ExecutionRejectedError {
  /** The feature's name. */
  readonly feature: string;
  /** Why it is degraded: 'disabled', 'unhealthy', 'health-check-error', 'breaker-open', ... */
  readonly reason: string;

  constructor(message: string, feature: string, reason: string) {
    super(message);
    this.feature = feature;
    this.reason = reason;
  }
}

/**
 * The service is shutting down: a graceful shutdown's guard refused a new call once draining
 * began, so the calls already running can finish before the process exits. Not retried by
 * default: every later attempt in this process would be refused too.
 */
export class ShuttingDownError extends ExecutionRejectedError {
  constructor(message = 'The service is shutting down') {
    super(message);
  }
}

/**
 * The abort reason of a hedged attempt that lost the race: another attempt's outcome ended the
 * call, so this one's `ctx.signal` aborts with this. Not a refusal, and nobody awaits a loser's
 * outcome: it lets the attempt's own code and logs tell "lost the race" from a caller's abort
 * or a timeout.
 */
export class HedgeLostError extends ResilienceError {
  /** The attempt whose outcome ended the call. */
  readonly winner: number;

  constructor(winner: number) {
    super(`Attempt ${winner} won the hedge race; this attempt is no longer needed`);
    this.winner = winner;
  }
}

const identities: [Function, string][] = [
  [ResilienceError, 'RESILIENCE'],
  [ExecutionRejectedError, 'EXECUTION_REJECTED'],
  [BrokenCircuitError, 'CIRCUIT_OPEN'],
  [IsolatedCircuitError, 'CIRCUIT_ISOLATED'],
  [TimeoutError, 'TIMEOUT'],
  [BulkheadRejectedError, 'BULKHEAD_FULL'],
  [RateLimitedError, 'RATE_LIMITED'],
  [LoadShedError, 'LOAD_SHED'],
  [ThrottledError, 'THROTTLED'],
  [FeatureDegradedError, 'FEATURE_DEGRADED'],
  [HedgeLostError, 'HEDGE_LOST'],
  [ShuttingDownError, 'SHUTTING_DOWN'],
];
for (const [type, code] of identities) {
  Object.defineProperties(type.prototype, {
    name: { value: type.name, writable: true, configurable: true },
    code: { value: code, writable: false, configurable: true },
  });
}
