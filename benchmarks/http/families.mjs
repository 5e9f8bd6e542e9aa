/** The HTTP families, their settings, and the budgets and claims they are judged by. */

export const httpFamilies = [
  {
    id: 'http-fastify',
    title: 'fastify 5: bare, fastifyPlugin, @fastify/rate-limit, @fastify/under-pressure',
    kind: 'closed',
    budget: {
      variant: 'bulwark',
      minRatio: 0.9,
      text: 'fastifyPlugin keeps ≥ 90% of bare fastify’s req/s',
    },
  },
  {
    id: 'http-express',
    title: 'express 5: bare, expressMiddleware, express-rate-limit',
    kind: 'closed',
  },
  {
    id: 'http-node',
    title: 'node:http: bare, nodeHttpHandler, and with propagate: true',
    kind: 'closed',
  },
  {
    id: 'http-overload',
    title:
      'overload on real sockets: a CPU-bound server at 3× its capacity, with and without a load shedder',
    kind: 'overload',
  },
];

/** How long and how hard each family loads its servers; `quick` is a smoke test, not a result. */
export function httpSettings(quick) {
  return {
    closed: {
      connections: 100,
      pipelining: 10,
      warmupS: quick ? 0.5 : 2,
      durationS: quick ? 1 : 2,
      rounds: quick ? 1 : 5,
    },
    overload: {
      workMs: 2,
      capacityConnections: 4,
      warmupS: quick ? 0.5 : 1,
      capacityS: quick ? 1 : 3,
      unloadedFactor: 0.5,
      unloadedS: quick ? 1 : 3,
      loadFactor: 3,
      settleS: quick ? 0.5 : 1,
      openS: quick ? 2 : 10,
      timeoutMs: 1000,
    },
  };
}
