export {
  type KeyablePolicy,
  type KeyedEvents,
  type KeyedEvictReason,
  type KeyedOptions,
  KeyedPolicy,
  keyed,
} from './keyed.js';
