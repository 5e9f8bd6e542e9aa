export {
  type CacheEvents,
  type CacheOptions,
  CachePolicy,
  cache,
} from './cache.js';
export {
  type CacheEntry,
  type CacheEvictReason,
  type CacheStore,
  MemoryCacheStore,
  type MemoryCacheStoreOptions,
} from './store.js';
