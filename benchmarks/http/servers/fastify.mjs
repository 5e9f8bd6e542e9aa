/**
 * fastify 5 servers: bare, with `fastifyPlugin`, and with the plugins people use for the same
 * jobs: @fastify/rate-limit for rate limiting, @fastify/under-pressure for shedding.
 */
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import Fastify from 'fastify';
import { loadBulwark, payload, spareAdmission, spareRateLimit } from './common.mjs';

const peerRateLimit = [
  rateLimit,
  { max: spareRateLimit.limit, timeWindow: spareRateLimit.windowMs },
];
// under-pressure sheds on process pressure, not on a count of requests in flight; a threshold
// the benchmark never reaches keeps it admitting while its sampling and checks still run.
const peerShedding = [underPressure, { maxEventLoopDelay: 1000 }];

async function serve(...plugins) {
  const app = Fastify();
  for (const [plugin, options] of plugins) await app.register(plugin, options);
  app.get('/', async () => payload);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: app.server.address().port, close: () => app.close() };
}

export default [
  { id: 'bare', library: 'fastify', label: 'fastify() with one route', make: () => serve() },
  {
    id: 'bulwark',
    library: 'bulwark',
    label: 'register(fastifyPlugin({ shedder, rateLimiter, keyOf }))',
    make: async () => {
      const bulwark = await loadBulwark();
      return serve([bulwark.fastifyPlugin(spareAdmission(bulwark))]);
    },
  },
  {
    id: 'rate-limit',
    library: '@fastify/rate-limit',
    label: 'register(rateLimit, { max: 1e9, timeWindow: 1000 })',
    make: () => serve(peerRateLimit),
  },
  {
    id: 'under-pressure',
    library: '@fastify/under-pressure',
    label: 'register(underPressure, { maxEventLoopDelay: 1000 })',
    make: () => serve(peerShedding),
  },
  {
    id: 'rate-limit+under-pressure',
    library: 'both peers',
    label: '@fastify/rate-limit and @fastify/under-pressure together',
    make: () => serve(peerRateLimit, peerShedding),
  },
];
