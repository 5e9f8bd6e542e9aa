import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Priority, priorities } from '../../../core/context.js';
import { ExecutionRejectedError } from '../../../core/errors.js';
import { Pipeline } from '../../../core/pipeline.js';
import { describe, type Policy } from '../../../core/policy.js';
import { LoadShedderPolicy } from '../../../load-shedder/load-shedder.js';
import { RateLimiterPolicy } from '../../../rate-limiter/rate-limiter.js';
import type { RateLimitDecision } from '../../../rate-limiter/store.js';
import { type RequestContext, requestScope } from '../request-scope.js';
import { type Answer, budgetSpent, rateLimited, refusal } from './answers.js';
import { healthAnswer, healthRouteOf, writeAnswer } from './health-routes.js';
import {
  budgetFrom,
  priorityFrom,
  resolveServerOptions,
  type ServerPolicyOptions,
  type ServerSettings,
} from './options.js';
import { RateLimitFields } from './rate-limit-headers.js';
import { ServerRequest } from './server-request.js';

/** A node:http handler that also gets the request's context. */
export type ContextHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  context: RequestContext,
) => unknown;

/**
 * How an adapter plugs into the policy: how it lets an admitted request go on, and how it
 * sends an answer the policy made. `target` is whatever the adapter needs for one request (the
 * user's handler, express's `next`), passed through so an adapter makes no closure per request.
 * @internal
 */
export interface Driver<T> {
  /** Runs the rest of the request (inside the request scope when propagating); may throw. */
  proceed(
    request: IncomingMessage,
    response: ServerResponse,
    context: RequestContext,
    target: T,
  ): unknown;
  /** Sends a refusal or a health report. */
  respond(response: ServerResponse, answer: Answer, target: T): void;
  /** Sets a header of the response an admitted request will send. */
  header(response: ServerResponse, name: string, value: string, target: T): void;
}

/**
 * What `dispatch` answers: a promise while something is left to settle, or undefined when the
 * request was answered or handed on synchronously and nothing failed (no reaction to pay for).
 * @internal
 */
export type Dispatched = Promise<void> | undefined;

/** For `Driver.header` on node's own response. @internal */
export function setHeader(response: ServerResponse, name: string, value: string): void {
  response.setHeader(name, value);
}

const rawDriver: Driver<ContextHandler> = {
  proceed: (request, response, context, handler) => handler(request, response, context),
  respond: (response, answer) => writeAnswer(response, answer),
  header: setHeader,
};

const resolved = Promise.resolve();

/** What a shedder that answered without admitting (a fallback around it) is taken as. */
const substituted = new ExecutionRejectedError(
  'The shedder answered without admitting the request',
);

function toVoid(): void {}

/**
 * The framework-free server side of `bulwark/http`, on node's raw request and response:
 * health endpoints first, then the caller's budget (504 when spent), the rate limiter (429),
 * the shutdown and the shedder (503, or 504 for a deadline that passed in the queue); an
 * admitted request holds its shedder slot until its response closes.
 */
export class ServerPolicy {
  /** The options, checked, with their defaults. @internal */
  readonly settings: ServerSettings;
  /** The shutdown's guard, then the shedder: what admits a request, if anything does. */
  readonly #admission: Policy | undefined;
  /** The admission when it is one of bulwark's load shedders: a free slot is taken without `execute`. */
  readonly #shedder: LoadShedderPolicy | undefined;
  /** The rate limiter when it is one of bulwark's: it may decide without a promise. */
  readonly #limiter: RateLimiterPolicy | undefined;
  readonly #fields: RateLimitFields | undefined;

  constructor(options?: ServerPolicyOptions) {
    const settings = resolveServerOptions(options);
    this.settings = settings;
    const guard = settings.shutdown?.guard;
    const shedder = settings.shedder;
    this.#admission =
      guard !== undefined && shedder !== undefined
        ? new Pipeline([guard, shedder])
        : (guard ?? shedder);
    this.#shedder = this.#admission instanceof LoadShedderPolicy ? this.#admission : undefined;
    const limiter = settings.rateLimiter;
    this.#limiter = limiter instanceof RateLimiterPolicy ? limiter : undefined;
    this.#fields =
      limiter === undefined
        ? undefined
        : new RateLimitFields(limiter.name, limiter.limit, limiter.intervalMs);
  }

  /**
   * Handles one request: answers it (a health report, a refusal) or calls `handler` with its
   * context once admitted. Resolves when the handler's result does, or once answered; rejects
   * with the handler's error (thrown or rejected), which is yours to report: this is what
   * `nodeHttpHandler` returns to node:http.
   */
  handle(
    request: IncomingMessage,
    response: ServerResponse,
    handler: ContextHandler,
  ): Promise<void> {
    return this.dispatch(request, response, rawDriver, handler) ?? resolved;
  }

  /** `handle` for any adapter. @internal */
  dispatch<T>(
    request: IncomingMessage,
    response: ServerResponse,
    driver: Driver<T>,
    target: T,
  ): Dispatched {
    const s = this.settings;
    try {
      if (s.health !== undefined && (request.method === 'GET' || request.method === 'HEAD')) {
        const route = healthRouteOf(s.healthPaths, request.url);
        if (route !== undefined) {
          return healthAnswer(s.health, route).then((answer) =>
            respond(response, answer, driver, target),
          );
        }
      }
      if (s.shutdown !== undefined && s.shutdown.state !== 'running') closeAfter(response);
      const budget = budgetFrom(request.headers[s.deadlineHeader]);
      if (budget <= 0 || budget < s.minBudgetMs) {
        respond(response, budgetSpent, driver, target);
        return undefined;
      }
      const deadline = Number.isNaN(budget) ? Number.POSITIVE_INFINITY : s.clock.now() + budget;
      const context = new ServerRequest(response, deadline, this.#priorityOf(request), s.clock);
      const limiter = s.rateLimiter;
      if (limiter === undefined) return this.#admit(request, response, context, driver, target);
      const asked = { key: s.keyOf(request) };
      const decided = this.#limiter?.consumeNow(asked);
      if (decided !== undefined) {
        return this.#limited(decided, request, response, context, driver, target);
      }
      return limiter
        .consume(asked)
        .then((decision) => this.#limited(decision, request, response, context, driver, target));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #limited<T>(
    decision: RateLimitDecision,
    request: IncomingMessage,
    response: ServerResponse,
    context: ServerRequest,
    driver: Driver<T>,
    target: T,
  ): Dispatched {
    const fields = this.#fields!;
    if (!decision.allowed) {
      respond(response, rateLimited(decision, fields), driver, target);
      return undefined;
    }
    if (!response.headersSent) {
      driver.header(response, 'ratelimit-policy', fields.policy, target);
      const current = fields.current(decision.remaining, decision.resetAfterMs);
      driver.header(response, 'ratelimit', current, target);
    }
    return this.#admit(request, response, context, driver, target);
  }

  #admit<T>(
    request: IncomingMessage,
    response: ServerResponse,
    context: ServerRequest,
    driver: Driver<T>,
    target: T,
  ): Dispatched {
    const admission = this.#admission;
    if (admission === undefined) return this.#proceed(request, response, context, driver, target);
    // A client already gone goes through `execute`, whose signal refuses it.
    if (this.#shedder !== undefined && !response.closed) {
      const release = this.#shedder.tryAcquire(context.priority);
      if (release !== undefined)
        return this.#hold(release, request, response, context, driver, target);
    }
    return new Promise<void>((resolve, reject) => {
      // Holds the slot until the response closes, or the handler fails. Run once: a retry or
      // hedge inside the shedder's pipeline gets the same outcome, never a second handler call.
      let attempt: Promise<void> | undefined;
      const task = (): Promise<void> =>
        (attempt ??= new Promise<void>((release, fail) => {
          context.releaseOnClose(release);
          const proceeded = this.#proceed(request, response, context, driver, target);
          if (proceeded === undefined) resolve();
          else {
            proceeded.then(resolve, (error) => {
              fail(error);
              reject(error);
            });
          }
        }));
      const refused = (error: unknown): void => {
        if (attempt !== undefined) return;
        if (context.disconnected) {
          // The client left while queued, which took its request out of the queue: nobody to answer.
          resolve();
          return;
        }
        const answer = refusal(error, this.settings.retryAfterMs);
        if (answer === undefined) {
          reject(error);
          return;
        }
        respond(response, answer, driver, target);
        resolve();
      };
      const options = {
        signal: context.signal,
        deadline: context.deadline,
        priority: context.priority,
      };
      // Fulfilled without running the task: a fallback in the pipeline answered for it.
      admission.execute(task, options).then(() => refused(substituted), refused);
    });
  }

  /**
   * Runs an admitted request on a shedder slot already taken, as the task `#admit` hands the
   * shedder does: the slot is held until the response closes, or given back when the handler
   * fails; with no promise or closure of its own when the handler returns nothing.
   */
  #hold<T>(
    release: () => void,
    request: IncomingMessage,
    response: ServerResponse,
    context: ServerRequest,
    driver: Driver<T>,
    target: T,
  ): Dispatched {
    context.releaseOnClose(release);
    let result: unknown;
    try {
      result = this.#run(request, response, context, driver, target);
    } catch (error) {
      context.release();
      return Promise.reject(error);
    }
    if (result === undefined) return undefined;
    return Promise.resolve(result).then(toVoid, (error: unknown) => {
      context.release();
      throw error;
    });
  }

  #proceed<T>(
    request: IncomingMessage,
    response: ServerResponse,
    context: ServerRequest,
    driver: Driver<T>,
    target: T,
  ): Dispatched {
    try {
      const result = this.#run(request, response, context, driver, target);
      return result === undefined ? undefined : Promise.resolve(result).then(toVoid);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Hands the request on to the adapter (inside the request scope when propagating); may throw. */
  #run<T>(
    request: IncomingMessage,
    response: ServerResponse,
    context: ServerRequest,
    driver: Driver<T>,
    target: T,
  ): unknown {
    return this.settings.propagate
      ? requestScope.run(context, driver.proceed, request, response, context, target)
      : driver.proceed(request, response, context, target);
  }

  #priorityOf(request: IncomingMessage): Priority {
    const { priorityOf, priorityHeader } = this.settings;
    if (priorityOf === undefined)
      return priorityFrom(request.headers[priorityHeader]) ?? 'critical';
    const chosen = priorityOf(request);
    if (chosen === undefined) return 'critical';
    if (!priorities.includes(chosen)) {
      const allowed = priorities.map((p) => `'${p}'`).join(', ');
      throw new TypeError(
        `serverPolicy: option "priorityOf" returned ${describe(chosen)}; it must return one of ${allowed}, or undefined`,
      );
    }
    return chosen;
  }
}

/** Builds the server policy the three adapters share; see {@link ServerPolicyOptions}. */
export function serverPolicy(options?: ServerPolicyOptions): ServerPolicy {
  return new ServerPolicy(options);
}

/** Sends `answer`, unless the client is gone. */
function respond<T>(response: ServerResponse, answer: Answer, driver: Driver<T>, target: T): void {
  if (response.closed || response.writableEnded) return;
  driver.respond(response, answer, target);
}

/** While shutting down: ask the client to close the connection after this response. */
function closeAfter(response: ServerResponse): void {
  if (response.headersSent) return;
  response.shouldKeepAlive = false;
  response.setHeader('connection', 'close');
}
