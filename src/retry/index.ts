export {
  type Backoff,
  backoff,
  type ConstantBackoffOptions,
  type ExponentialBackoffOptions,
  type Jitter,
  type LinearBackoffOptions,
  type Random,
  type SteadyJitter,
} from './backoff.js';
export {
  defaultRetryOn,
  type GiveUpReason,
  type RetryEvents,
  type RetryOptions,
  RetryPolicy,
  type RetryPredicate,
  retry,
} from './retry.js';
