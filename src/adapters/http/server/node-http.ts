import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe } from '../../../core/policy.js';
import type { ServerPolicyOptions } from './options.js';
import { type ContextHandler, ServerPolicy } from './server-policy.js';

/**
 * A node:http request listener that runs `handler(request, response, context)` under the
 * server policy. The listener returns a promise that rejects with the handler's error, as an
 * async handler's would: node reports it as an unhandled rejection, or answers 500 on a server
 * made with `captureRejections: true`. With `shutdown`, call `shutdown.server(server)` yourself.
 */
export function nodeHttpHandler(
  handler: ContextHandler,
  options?: ServerPolicyOptions,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  if (typeof handler !== 'function') {
    throw new TypeError(
      `nodeHttpHandler: the handler must be a function (got ${describe(handler)})`,
    );
  }
  const policy = new ServerPolicy(options);
  return (request, response) => policy.handle(request, response, handler);
}
