export { CircuitBreakerPolicy, circuitBreaker } from './circuit-breaker.js';
export type { CircuitBreakerEvents, StateChangeReason } from './events.js';
export type {
  CircuitBreakerMode,
  CircuitBreakerOptions,
  CircuitState,
  HalfOpenOptions,
  SlowCallOptions,
  WindowOptions,
} from './options.js';
export type { CircuitBreakerSnapshot } from './snapshot.js';
export type { CircuitBreakerStats } from './state.js';
export type {
  CountWindowSnapshot,
  TimeBucketSnapshot,
  TimeWindowSnapshot,
  WindowSnapshot,
} from './windows.js';
