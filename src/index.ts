export * from './adaptive-limit/index.js';
export * from './bulkhead/index.js';
export * from './cache/index.js';
export * from './circuit-breaker/index.js';
export * from './core/index.js';
export * from './degradation/index.js';
export * from './fallback/index.js';
export * from './health/index.js';
export * from './hedge/index.js';
export * from './keyed/index.js';
export * from './load-shedder/index.js';
export * from './logging/index.js';
export * from './rate-limiter/index.js';
export * from './retry/index.js';
export * from './retry-budget/index.js';
export * from './shutdown/index.js';
// Named, so they win over the core's untyped bus that `export *` above also brings.
export {
  type PolicyEventsByKind,
  type PolicyTelemetryEvent,
  type TelemetryEvent,
  telemetry,
} from './telemetry.js';
export * from './timeout/index.js';
