import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isServer } from '../../../shutdown/servers.js';
import type { GracefulShutdown } from '../../../shutdown/shutdown.js';
import type { RequestContext } from '../request-scope.js';
import { writeAnswer } from './health-routes.js';
import type { ServerPolicyOptions } from './options.js';
import { type Driver, ServerPolicy, setHeader } from './server-policy.js';

declare global {
  // Express's own extension point for typing `res.locals`.
  namespace Express {
    interface Locals {
      /** The request's context, set by bulwark's `expressMiddleware` once it is admitted. */
      bulwark: RequestContext;
    }
  }
}

const expressDriver: Driver<NextFunction> = {
  proceed: (_request, response, context, next) => {
    (response as Response).locals.bulwark = context;
    next();
  },
  respond: (response, answer) => writeAnswer(response, answer),
  header: setHeader,
};

/**
 * Express 5 middleware applying the server policy to every request after it in the chain; the
 * request's context is at `res.locals.bulwark`. With `shutdown`, the server a request arrives
 * on is registered with it (once). Errors before admission go to `next(error)`; the handlers'
 * own errors stay with express.
 */
export function expressMiddleware(options?: ServerPolicyOptions): RequestHandler {
  const policy = new ServerPolicy(options);
  const shutdown = policy.settings.shutdown;
  const registered = new WeakSet<object>();
  return (request: Request, response: Response, next: NextFunction): void => {
    if (shutdown !== undefined) register(shutdown, request, registered);
    policy.dispatch(request, response, expressDriver, next)?.then(undefined, next);
  };
}

/** Puts the server the request came through under the shutdown, the first time it is seen. */
function register(shutdown: GracefulShutdown, request: Request, registered: WeakSet<object>): void {
  const server = (request.socket as { server?: unknown }).server;
  if (!isServer(server) || registered.has(server)) return;
  registered.add(server);
  shutdown.server(server);
}
