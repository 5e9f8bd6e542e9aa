import { work } from '../lib/tasks.mjs';

/**
 * A cache hit: the key was stored before measuring and stays fresh (ttl of a day), so `fn` is
 * never called. The targets: a hit costs no more than the bare `await fn()` it saves, and no
 * more than 1.5 times lru-cache's `get` (with a TTL, so it checks expiry too) plus a resolved
 * promise; opossum's breaker cache answers the same question beside them.
 */
const options = { key: 'user:42' };
const DAY = 86_400_000;
const lruLabel = 'Promise.resolve(new LRUCache({ max: 10_000, ttl: day }).get(key))';

// Read the way bulwark's system clock reads it.
const perf = performance;

export default [
  {
    id: 'cache-hit',
    title: 'cache hit (fresh entry), beside the bare call it saves',
    cases: [
      {
        library: 'reference',
        label: 'a clock read, a Map lookup and Promise.resolve: the least a TTL-checked hit does',
        make() {
          const entries = new Map([
            [options.key, { value: 42, freshUntil: Number.POSITIVE_INFINITY }],
          ]);
          return () => {
            const entry = entries.get(options.key);
            return perf.now() < entry.freshUntil ? Promise.resolve(entry.value) : work();
          };
        },
      },
      {
        library: 'lru-cache',
        label: lruLabel,
        make({ LRUCache }) {
          const lru = new LRUCache({ max: 10_000, ttl: DAY });
          lru.set(options.key, 42);
          return () => Promise.resolve(lru.get(options.key));
        },
      },
      {
        library: 'opossum',
        label: 'new CircuitBreaker(fn, { cache: true, cacheTTL: day }).fire()',
        async make({ CircuitBreaker }) {
          const breaker = new CircuitBreaker(work, { cache: true, cacheTTL: DAY });
          await breaker.fire();
          return {
            run: () => breaker.fire(),
            teardown: () => breaker.shutdown(),
          };
        },
      },
      {
        library: 'bulwark',
        label: 'cache({ ttlMs: 86_400_000 }), execute(fn, { key }) on a fresh key',
        async make({ bulwark }) {
          const policy = bulwark.cache({ ttlMs: 86_400_000 });
          await policy.execute(work, options);
          return () => policy.execute(work, options);
        },
        budget: {
          id: 'cache-hit',
          text: 'cache hit ≤1× bare and ≤1.5× lru-cache get + resolved promise',
          maxRatio: 1,
          relativeTo: { label: lruLabel, short: 'lru-cache', factor: 1.5 },
        },
      },
    ],
  },
];
