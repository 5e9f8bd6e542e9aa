export * from './bulkhead/index.js';
export * from './circuit-breaker/index.js';
export * from './core/index.js';
export * from './fallback/index.js';
export * from './keyed/index.js';
export * from './retry/index.js';
export * from './timeout/index.js';
