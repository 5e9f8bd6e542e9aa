import { work } from '../lib/tasks.mjs';

/**
 * A cache hit: the key was stored before measuring and stays fresh (ttl of a day), so `fn` is
 * never called. The target is that a hit costs no more than the bare `await fn()` it
 * saves. lru-cache is not installed in benchmarks/, so no peer row.
 */
const options = { key: 'user:42' };

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
        library: 'bulwark',
        label: 'cache({ ttlMs: 86_400_000 }), execute(fn, { key }) on a fresh key',
        async make({ bulwark }) {
          const policy = bulwark.cache({ ttlMs: 86_400_000 });
          await policy.execute(work, options);
          return () => policy.execute(work, options);
        },
        budget: {
          id: 'cache-hit',
          text: 'cache hit ≤1× bare',
          maxRatio: 1,
        },
      },
    ],
  },
];
