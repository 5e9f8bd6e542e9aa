export {
  type Backoff,
  backoff,
  type ExponentialBackoffOptions,
  type Jitter,
  type LinearBackoffOptions,
  type Random,
} from './backoff.js';
export {
  type GiveUpReason,
  type RetryEvents,
  type RetryOptions,
  RetryPolicy,
  type RetryPredicate,
  retry,
} from './retry.js';
