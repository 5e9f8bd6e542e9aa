export {
  type AdaptiveAlgorithm,
  AdaptiveLimit,
  type AdaptiveLimitEvents,
  type AdaptiveLimitOptions,
  type AdaptiveWindowOptions,
  type AimdOptions,
  adaptiveAlgorithms,
  adaptiveLimit,
  type Gradient2Options,
  type VegasOptions,
} from './adaptive-limit.js';
