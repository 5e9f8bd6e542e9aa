import type {
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import { type RequestContext, requestScope, type ScopedRequest } from '../request-scope.js';
import type { ServerPolicyOptions } from './options.js';
import { type Driver, ServerPolicy } from './server-policy.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's context, set by bulwark's `fastifyPlugin` once it is admitted. */
    bulwark: RequestContext;
  }
}

interface Hooked {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly done: HookHandlerDoneFunction;
}

const fastifyDriver: Driver<Hooked> = {
  proceed: (_request, _response, context, hooked) => {
    hooked.request.bulwark = context;
    hooked.done();
  },
  respond: (_response, answer, hooked) => {
    hooked.reply.code(answer.status).headers(answer.headers).send(answer.body);
  },
  // Through the reply, not the raw response: headers set on the raw response would make node
  // merge fastify's own into them one `setHeader` at a time.
  header: (_response, name, value, hooked) => {
    hooked.reply.header(name, value);
  },
};

/**
 * A fastify 5 plugin applying the server policy to every route of the app it is registered on
 * (it is not encapsulated, as with fastify-plugin): an `onRequest` hook admits or answers each
 * request, and the context is at `request.bulwark`. With `shutdown`, the app's server is
 * registered with it. With `propagate`, a `preValidation` hook enters the request scope again
 * after the body is read, so handlers run inside it.
 */
export function fastifyPlugin(options?: ServerPolicyOptions): FastifyPluginCallback {
  const policy = new ServerPolicy(options);
  const { shutdown, propagate } = policy.settings;
  const plugin: FastifyPluginCallback = (app, _options, done) => {
    // Null until admitted: every handler runs after the hook has set it, so it is typed as set.
    if (!app.hasRequestDecorator('bulwark')) {
      app.decorateRequest('bulwark', null as unknown as RequestContext);
    }
    app.addHook('onRequest', (request, reply, next) => {
      const hooked = { request, reply, done: next };
      policy.dispatch(request.raw, reply.raw, fastifyDriver, hooked)?.then(undefined, next);
    });
    if (propagate) app.addHook('preValidation', reenterScope);
    if (shutdown !== undefined) shutdown.server(app.server);
    done();
  };
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'bulwark',
  });
}

function reenterScope(
  request: FastifyRequest,
  _reply: FastifyReply,
  next: HookHandlerDoneFunction,
): void {
  const context = request.bulwark as ScopedRequest | null;
  if (context === null) next();
  else requestScope.run(context, next);
}
