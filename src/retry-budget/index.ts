export {
  type AcceptedPredicate,
  type AdaptiveThrottleEvents,
  type AdaptiveThrottleOptions,
  AdaptiveThrottlePolicy,
  type AdaptiveThrottleStats,
  adaptiveThrottle,
  defaultAcceptedOn,
} from './adaptive-throttle.js';
export {
  RetryBudget,
  type RetryBudgetOptions,
  type RetryBudgetStats,
  retryBudget,
} from './retry-budget.js';
