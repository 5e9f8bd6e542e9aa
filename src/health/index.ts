export {
  type BreakerStateSource,
  breakerCheck,
  type DelayHistogram,
  type EventLoopDelayCheckOptions,
  eventLoopDelayCheck,
  type HeapCheckOptions,
  heapCheck,
  type StoppableCheck,
} from './checks.js';
export { healthHandler } from './http.js';
export { HealthRegistry, healthRegistry } from './registry.js';
export type {
  BackgroundHandle,
  CheckResult,
  HealthCheck,
  HealthCheckReport,
  HealthEvents,
  HealthRegistryOptions,
  HealthReport,
  HealthStatus,
  ProbeKind,
  RegisterOptions,
} from './types.js';
