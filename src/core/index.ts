export type { AttemptBudget } from './budget.js';
export type { Classifier, OutcomeClass } from './classify.js';
export { type Clock, systemClock, type TimerHandle } from './clock.js';
export {
  type ExecuteOptions,
  type ExecutionContext,
  type Priority,
  priorities,
  type Task,
} from './context.js';
export {
  BrokenCircuitError,
  BulkheadRejectedError,
  ExecutionRejectedError,
  FeatureDegradedError,
  HedgeLostError,
  IsolatedCircuitError,
  LoadShedError,
  type LoadShedReason,
  RateLimitedError,
  ResilienceError,
  ShuttingDownError,
  ThrottledError,
  TimeoutError,
} from './errors.js';
export {
  type AnyTelemetryEvent,
  type Disposer,
  type EventMap,
  type ExecutionsWanted,
  type Listener,
  type SubscribeOptions,
  type TelemetryBus,
  telemetry,
} from './events.js';
export type { AttemptOutcome, ExecutionEvents, ExecutionOutcome } from './execution.js';
export type { GaugeLabels, GaugeReading } from './gauges.js';
export type { ConcurrencyLimit } from './limit.js';
export { failure, type Outcome, retryAfterHint, success } from './outcome.js';
export {
  Pipeline,
  type PipelineIn,
  type PipelineOptions,
  type PipelineOut,
  pipeline,
} from './pipeline.js';
export {
  BasePolicy,
  type InOf,
  type OutOf,
  type Policy,
  type PolicyOptions,
} from './policy.js';
export type { ReadinessControl } from './readiness.js';
