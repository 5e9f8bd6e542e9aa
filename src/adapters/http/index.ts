export { currentRequest, type RequestContext } from './request-scope.js';
export { expressMiddleware } from './server/express.js';
export { fastifyPlugin } from './server/fastify.js';
export { healthRoutes } from './server/health-routes.js';
export { nodeHttpHandler } from './server/node-http.js';
export type { HealthPaths, ServerPolicyOptions } from './server/options.js';
export { type ContextHandler, ServerPolicy, serverPolicy } from './server/server-policy.js';
