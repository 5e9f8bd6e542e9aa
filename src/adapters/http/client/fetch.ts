import type { Classifier, OutcomeClass } from '../../../core/classify.js';
import type { ExecuteOptions, ExecutionContext, Priority } from '../../../core/context.js';
import type { Outcome } from '../../../core/outcome.js';
import type { OutOf, Policy } from '../../../core/policy.js';
import { bufferSmallBody, CallResponses, releaseBody } from './bodies.js';
import { remainingBudget } from './budget.js';
import { policyClassifier, statusOf } from './classify.js';
import { HttpError } from './errors.js';
import { EitherSignal, inheritedRequest } from './inherited.js';
import { networkErrorKind } from './network-errors.js';
import { type ResilientFetchOptions, type Settings, settingsOf } from './options.js';
import { type FetchInput, PreparedRequest } from './request.js';
import { attachRetryAfter } from './retry-after.js';

/** fetch's signature, answering what the policy answers (a fallback may add its substitute). */
export type ResilientFetch<Out = never> = (
  input: FetchInput,
  init?: RequestInit,
) => Promise<Response | Out>;

/**
 * A fetch that sends each request through `policy`: retried, hedged, broken, limited as the
 * policy says, with the remaining time budget and the priority passed downstream, and every
 * response it does not return released. See docs/http.md.
 */
export function resilientFetch<P extends Policy<Response, unknown>>(
  options: ResilientFetchOptions<P>,
): ResilientFetch<OutOf<P>> {
  const settings = settingsOf(options);
  const repeatable = policyClassifier(settings.classify, true);
  const once = policyClassifier(settings.classify, false);
  return (input, init) => {
    let request: PreparedRequest;
    try {
      request = new PreparedRequest(input, init, settings.baseUrl, settings.retryMethods);
    } catch (error) {
      return Promise.reject(error);
    }
    const classify = request.repeatable ? repeatable : once;
    return new HttpCall(settings, request, classify).run() as Promise<Response | OutOf<P>>;
  };
}

/** One call: its request, the responses it has received, and how it settles. */
class HttpCall {
  readonly responses = new CallResponses();
  /** The attempt that sent a request which must not run twice (see `send`). */
  #sent: Promise<Response> | undefined;

  constructor(
    readonly settings: Settings,
    readonly request: PreparedRequest,
    readonly classify: Classifier,
  ) {}

  run(): Promise<unknown> {
    const settings = this.settings;
    const inherited = inheritedRequest(settings.clock);
    if (inherited !== undefined && inherited.deadline !== Number.POSITIVE_INFINITY) {
      // Spent before the call began: refused before the policy sees it, so no breaker counts a
      // failure of a dependency that was never asked, and no retry tries again.
      const now = settings.clock.now();
      const budget = remainingBudget(inherited.deadline, now, settings.deadlineMarginMs);
      if (typeof budget !== 'number') return Promise.reject(budget);
    }
    const own = this.request.signal;
    const linked =
      inherited !== undefined && own !== undefined
        ? new EitherSignal(own, inherited.signal)
        : undefined;
    const options: ExecuteOptions<HttpCall> = {
      signal: linked?.signal ?? own ?? inherited?.signal,
      deadline: inherited?.deadline,
      priority: inherited?.priority,
      data: this,
      classify: this.classify,
    };
    let result: Promise<unknown>;
    try {
      result = settings.policy.execute(attempt, options);
    } catch (error) {
      // A policy of the user's own that throws instead of rejecting.
      linked?.dispose();
      return Promise.reject(error);
    }
    return result.then(
      (value) => {
        linked?.dispose();
        return this.#settled(value);
      },
      (error: unknown) => {
        linked?.dispose();
        this.responses.settle(undefined);
        throw error;
      },
    );
  }

  /**
   * One attempt. A request that must not run twice goes out once per call: a later attempt (a
   * hedge started by its delay, a retry some predicate of the user's own asked for) shares the
   * outcome of the one sent, unless that one failed before anything left.
   */
  send(context: ExecutionContext): Promise<Response> {
    const shared = this.#sent;
    if (shared !== undefined) return shared;
    const attempt = this.#send(context);
    if (!this.request.repeatable) {
      this.#sent = attempt;
      attempt.catch((error: unknown) => {
        if (this.#sent === attempt && networkErrorKind(error) === 'unsent') this.#sent = undefined;
      });
    }
    return attempt;
  }

  /** The request sent with this attempt's budget, signal and priority. */
  async #send(context: ExecutionContext): Promise<Response> {
    this.responses.discardHeld();
    const settings = this.settings;
    const headers = new Headers(this.request.headers);
    propagate(headers, context.deadline, context.priority, settings);
    const response = await this.request.send(settings.fetch, headers, context.signal);
    let verdict: OutcomeClass | undefined;
    try {
      attachRetryAfter(response, settings.clock.now());
      verdict = this.classify({ ok: true, value: response });
    } catch (error) {
      // A classify that throws: the attempt fails with its error, and the body goes.
      releaseBody(response);
      throw error;
    }
    if (verdict !== 'success') await bufferSmallBody(response);
    this.responses.add(response);
    return response;
  }

  #settled(value: unknown): unknown {
    this.responses.settle(value);
    if (this.settings.throwOnFailure && statusOf(value) !== undefined) {
      const outcome: Outcome = { ok: true, value };
      const verdict = this.classify(outcome);
      if (verdict === 'retryable' || verdict === 'failure') {
        throw new HttpError(value as Response, this.request.method);
      }
    }
    return value;
  }
}

/** The task every call runs: its own call travels in the context's `data`. */
function attempt(context: ExecutionContext<HttpCall>): Promise<Response> {
  return context.data.send(context);
}

/**
 * Sets the budget and priority headers the caller did not set. A budget already spent ends the
 * attempt with a `TimeoutError` before anything is sent: the answer would come too late.
 */
function propagate(
  headers: Headers,
  deadline: number,
  priority: Priority,
  settings: Settings,
): void {
  if (deadline !== Number.POSITIVE_INFINITY) {
    const budget = remainingBudget(deadline, settings.clock.now(), settings.deadlineMarginMs);
    if (typeof budget !== 'number') throw budget;
    const name = settings.deadlineHeader;
    if (name !== false && !headers.has(name)) headers.set(name, String(budget));
  }
  const name = settings.priorityHeader;
  if (name !== false && priority !== 'critical' && !headers.has(name)) headers.set(name, priority);
}
