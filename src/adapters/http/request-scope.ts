import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../../core/clock.js';
import type { Priority } from '../../core/context.js';

/** What a server hands the code that handles one request. */
export interface RequestContext {
  /** Aborted when the client disconnects before the response is sent. */
  readonly signal: AbortSignal;
  /** When the caller stops waiting, on the server's clock (Infinity when it sent no budget). */
  readonly deadline: number;
  /** The request's priority: from its priority header, `priorityOf`, or 'critical'. */
  readonly priority: Priority;
}

/** A request context with the clock its deadline is measured on. @internal */
export interface ScopedRequest extends RequestContext {
  readonly clock: Clock;
}

/**
 * Carries the request being handled through every async step that follows it, when a server
 * adapter runs with `propagate: true`; `resilientFetch` reads it to inherit the deadline,
 * priority and signal. @internal
 */
export const requestScope = new AsyncLocalStorage<ScopedRequest>();

/** The request this code runs for, when a server adapter propagates it; else undefined. */
export function currentRequest(): RequestContext | undefined {
  return requestScope.getStore();
}
