export {
  type FallbackEvents,
  type FallbackHandle,
  type FallbackOptions,
  FallbackPolicy,
  type FallbackValue,
  fallback,
} from './fallback.js';
