/** The micro-benchmark families and the libraries they measure, shared by run and profile. */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import breaker from '../micro/breaker.mjs';
import bulkhead from '../micro/bulkhead.mjs';
import cache from '../micro/cache.mjs';
import chaos from '../micro/chaos.mjs';
import floor from '../micro/floor.mjs';
import overload from '../micro/overload.mjs';
import pipeline from '../micro/pipeline.mjs';
import prometheus from '../micro/prometheus.mjs';
import rateLimit from '../micro/rate-limit.mjs';
import retry from '../micro/retry.mjs';
import timeout from '../micro/timeout.mjs';
import { benchDir, loadBulwark, loadBulwarkChaos, loadBulwarkPrometheus } from './env.mjs';

export const microFamilies = [
  ...floor,
  ...retry,
  ...breaker,
  ...timeout,
  ...bulkhead,
  ...pipeline,
  ...prometheus,
  ...overload,
  ...rateLimit,
  ...cache,
  ...chaos,
];

/** bulwark's build and the peers, as the cases' `make()` functions receive them. */
export async function loadLibraries() {
  const require = createRequire(join(benchDir, 'package.json'));
  return {
    bulwark: await loadBulwark(),
    bulwarkPrometheus: await loadBulwarkPrometheus(),
    promClient: require('prom-client'),
    bulwarkChaos: await loadBulwarkChaos(),
    cockatiel: await import(require.resolve('cockatiel')),
    CircuitBreaker: require('opossum'),
    pRetry: (await import(require.resolve('p-retry'))).default,
    pLimit: (await import(require.resolve('p-limit'))).default,
    rateLimiterFlexible: require('rate-limiter-flexible'),
    LRUCache: require('lru-cache').LRUCache,
    FastifyLocalStore: require('@fastify/rate-limit/store/LocalStore.js'),
  };
}
