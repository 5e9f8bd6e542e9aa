import type { AdaptiveLimitEvents } from './adaptive-limit/index.js';
import type { BulkheadEvents } from './bulkhead/index.js';
import type { CacheEvents } from './cache/index.js';
import type { ChaosEvents } from './chaos/index.js';
import type { CircuitBreakerEvents } from './circuit-breaker/index.js';
import { telemetry as bus, type TelemetryBus } from './core/events.js';
import type { ExecutionEvents } from './core/execution.js';
import type { FeatureEvents } from './degradation/index.js';
import type { FallbackEvents } from './fallback/index.js';
import type { HealthEvents } from './health/index.js';
import type { HedgeEvents } from './hedge/index.js';
import type { KeyedEvents } from './keyed/index.js';
import type { LoadShedderEvents } from './load-shedder/index.js';
import type { RateLimiterEvents } from './rate-limiter/index.js';
import type { RetryEvents } from './retry/index.js';
import type { AdaptiveThrottleEvents } from './retry-budget/index.js';
import type { ShutdownEvents } from './shutdown/index.js';
import type { TimeoutEvents } from './timeout/index.js';

/**
 * Each kind of policy's events, by the `kind` the telemetry bus tags them with. Every policy
 * called through its own `execute` also has the `execution` and `attempt` events. A policy
 * class of your own (a `BasePolicy` subclass) can join the union by declaration merging:
 * `declare module 'bulwark' { interface PolicyEventsByKind { 'my-kind': MyEvents & ExecutionEvents } }`.
 */
export interface PolicyEventsByKind {
  'adaptive-limit': AdaptiveLimitEvents;
  'adaptive-throttle': AdaptiveThrottleEvents & ExecutionEvents;
  bulkhead: BulkheadEvents & ExecutionEvents;
  cache: CacheEvents & ExecutionEvents;
  chaos: ChaosEvents & ExecutionEvents;
  'circuit-breaker': CircuitBreakerEvents & ExecutionEvents;
  fallback: FallbackEvents & ExecutionEvents;
  feature: FeatureEvents & ExecutionEvents;
  health: HealthEvents;
  hedge: HedgeEvents & ExecutionEvents;
  keyed: KeyedEvents & ExecutionEvents;
  'load-shedder': LoadShedderEvents & ExecutionEvents;
  pipeline: ExecutionEvents;
  'rate-limiter': RateLimiterEvents & ExecutionEvents;
  retry: RetryEvents & ExecutionEvents;
  /** The shutdown manager's events, and its guard's executions. */
  shutdown: ShutdownEvents & ExecutionEvents;
  timeout: TimeoutEvents & ExecutionEvents;
}

/**
 * One event from any policy, as the telemetry bus delivers it: a union discriminated by `kind`
 * and then `type`, so a subscriber narrows `detail` without casts.
 */
export type TelemetryEvent = {
  [K in keyof PolicyEventsByKind]: {
    [T in keyof PolicyEventsByKind[K] & string]: {
      /** The emitting policy's `name` option. */
      readonly policy: string;
      /** What sort of policy emitted it. */
      readonly kind: K;
      /** The event type, as passed to the policy's `on()`. */
      readonly type: T;
      /** The same object the policy's own listeners receive. */
      readonly detail: PolicyEventsByKind[K][T];
    };
  }[keyof PolicyEventsByKind[K] & string];
}[keyof PolicyEventsByKind];

/**
 * The events a bus subscriber gets unless it asks for execution events: every policy's own.
 */
export type PolicyTelemetryEvent = Exclude<
  TelemetryEvent,
  { readonly type: keyof ExecutionEvents }
>;

/**
 * The one stream that receives every policy's events, tagged with the policy's name and kind.
 * Metrics, tracing and logging adapters subscribe here (with `{ executions: true }` for the
 * per-call `execution` and `attempt` events) and read `gauges()` for state. With no subscriber
 * (and no listener on a policy) an event costs nothing: it is never built.
 */
export const telemetry = bus as TelemetryBus<PolicyTelemetryEvent, TelemetryEvent>;
