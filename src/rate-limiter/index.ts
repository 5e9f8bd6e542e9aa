export type { RateLimitAlgorithm, RateLimitRule } from './algorithms.js';
export {
  type RateLimiterEvents,
  type RateLimiterOptions,
  RateLimiterPolicy,
  type RateLimitMode,
  type RateLimitRequest,
  rateLimiter,
} from './rate-limiter.js';
export {
  MemoryRateLimitStore,
  type MemoryRateLimitStoreOptions,
  memoryRateLimitStore,
  type RateLimitDecision,
  type RateLimitStore,
} from './store.js';
