export type { KeyedSnapshot } from './entry.js';
export { KeyedHandle } from './handle.js';
export {
  type KeyablePolicy,
  type KeyedEvents,
  type KeyedEvictReason,
  type KeyedOptions,
  KeyedPolicy,
  keyed,
} from './keyed.js';
