export {
  type BreakerStatus,
  type DegradedReason,
  type FeatureEvents,
  type FeatureFallback,
  type FeatureMode,
  type FeatureOptions,
  FeaturePolicy,
  type FeatureReason,
  type FeatureStatus,
  feature,
} from './feature.js';
export {
  FeatureManager,
  type FeatureManagerOptions,
  featureManager,
  type ManagedFeatureOptions,
} from './manager.js';
