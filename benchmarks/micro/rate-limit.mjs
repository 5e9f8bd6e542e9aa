/**
 * Rate-limit decisions per second, in memory, for callers that decide themselves (HTTP
 * middleware): each call asks about one of 1,000 keys in turn and the limits are high enough
 * that every decision allows. rate-limiter-flexible's RateLimiterMemory and @fastify/rate-limit's
 * LocalStore (its default store, driven directly) answer the same question; bottleneck has no
 * per-key decision API, so it is left out.
 */
const KEYS = Array.from({ length: 1000 }, (_, i) => `tenant-${i}`);
const HIGH = 1e9;

function rotating() {
  let at = 0;
  return () => {
    at = at === KEYS.length - 1 ? 0 : at + 1;
    return KEYS[at];
  };
}

/** Every library answers with an object of its own; the check is that it allowed the call. */
function allowed(result) {
  if (result === undefined || result === null || typeof result !== 'object') {
    throw new Error(`expected a decision object, got ${String(result)}`);
  }
  return undefined;
}

export default [
  {
    id: 'rate-limit-consume',
    title: 'rate-limit decisions in memory, 1,000 keys in turn, every call allowed',
    expect: allowed,
    cases: [
      {
        library: 'rate-limiter-flexible',
        label: 'RateLimiterMemory({ points: 1e9, duration: 1 }).consume(key)',
        make({ rateLimiterFlexible }) {
          const limiter = new rateLimiterFlexible.RateLimiterMemory({ points: HIGH, duration: 1 });
          const next = rotating();
          return () => limiter.consume(next(), 1);
        },
      },
      {
        library: '@fastify/rate-limit',
        label: 'LocalStore.incr(key) (fixed window)',
        make({ FastifyLocalStore }) {
          const store = new FastifyLocalStore(false, false, 5000);
          const next = rotating();
          return () =>
            new Promise((resolve, reject) =>
              store.incr(
                next(),
                (error, value) => (error ? reject(error) : resolve(value)),
                1000,
                HIGH,
              ),
            );
        },
      },
      {
        library: 'bulwark',
        label: 'rateLimiter({ limit: 1e9, intervalMs: 1000 }).consume({ key })',
        make({ bulwark }) {
          const limiter = bulwark.rateLimiter({ limit: HIGH, intervalMs: 1000 });
          const next = rotating();
          return () => limiter.consume({ key: next() });
        },
        budget: {
          id: 'rate-limit-consume',
          text: 'rateLimiter.consume ≥5× RateLimiterMemory and ≥ fastify LocalStore',
          minSpeedupOver: [
            { library: 'rate-limiter-flexible', factor: 5 },
            { library: '@fastify/rate-limit', factor: 1 },
          ],
        },
      },
    ],
  },
];
