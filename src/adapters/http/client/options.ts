import { type Clock, systemClock } from '../../../core/clock.js';
import type { Policy } from '../../../core/policy.js';
import {
  checkClock,
  checkFunction,
  checkMs,
  checkOptions,
  invalid,
} from '../../../core/validate.js';
import type { HttpClassifier } from './classify.js';
import { idempotentMethods } from './idempotency.js';

/** `P` is the policy's type: a fallback in it adds its substitute to what a call answers. */
export interface ResilientFetchOptions<
  P extends Policy<Response, unknown> = Policy<Response, unknown>,
> {
  /** Runs every request: any bulwark policy or pipeline. Required. */
  policy: P;
  /** The fetch to send requests with. Default: `globalThis.fetch`, read when built. */
  fetch?: typeof globalThis.fetch;
  /** Resolves relative string inputs (`new URL(input, baseUrl)`). Default: none. */
  baseUrl?: string | URL;
  /**
   * Judges a response or an error: 'success', 'retryable', 'failure', or undefined for the
   * default ({@link classifyHttp}). It must answer synchronously. Default: `classifyHttp`.
   */
  classify?: HttpClassifier;
  /**
   * The methods that may be sent more than once (retried or hedged); any other request is sent
   * at most once unless it carries an `Idempotency-Key` header. Replaces the default list.
   * Default: GET, HEAD, OPTIONS, PUT, DELETE, TRACE.
   */
  retryMethods?: readonly string[];
  /**
   * Throw an `HttpError` when the final response classifies as 'retryable' or 'failure',
   * instead of returning it. Default false. Network errors are always thrown.
   */
  throwOnFailure?: boolean;
  /** Sends the remaining time budget, in whole ms; false sends none. Default 'x-request-timeout-ms'. */
  deadlineHeader?: string | false;
  /** Sends the call's priority, unless 'critical'; false sends none. Default 'x-request-priority'. */
  priorityHeader?: string | false;
  /** Kept back from the budget sent downstream, for the answer's way back. Default 5. */
  deadlineMarginMs?: number;
  /** The policies' clock: deadlines and HTTP-dates are measured on it. Default: the system clock. */
  clock?: Clock;
}

/** The options, checked and with their defaults filled in. @internal */
export interface Settings {
  readonly policy: Policy<Response, unknown>;
  readonly fetch: typeof globalThis.fetch;
  readonly baseUrl: URL | undefined;
  readonly classify: HttpClassifier | undefined;
  readonly retryMethods: ReadonlySet<string>;
  readonly throwOnFailure: boolean;
  readonly deadlineHeader: string | false;
  readonly priorityHeader: string | false;
  readonly deadlineMarginMs: number;
  readonly clock: Clock;
}

const NAME = 'resilientFetch';
/** RFC 9110's token: what a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function settingsOf(options: unknown): Settings {
  if (options === undefined) {
    throw new TypeError(`${NAME}: options must be an object with a "policy" (got undefined)`);
  }
  const opts = checkOptions<ResilientFetchOptions>(NAME, options);
  const policy = opts.policy as { execute?: unknown } | undefined;
  if (typeof policy !== 'object' || policy === null || typeof policy.execute !== 'function') {
    throw invalid(NAME, 'policy', policy, 'a policy (an object with an execute() method)');
  }
  const fetch = opts.fetch ?? globalThis.fetch;
  return {
    policy: opts.policy as Policy<Response, unknown>,
    fetch: checkFunction<typeof globalThis.fetch>(NAME, 'fetch', fetch),
    baseUrl: baseUrlOf(opts.baseUrl),
    classify:
      opts.classify === undefined
        ? undefined
        : checkFunction<HttpClassifier>(NAME, 'classify', opts.classify),
    retryMethods: methodsOf(opts.retryMethods),
    throwOnFailure: checkBoolean('throwOnFailure', opts.throwOnFailure ?? false),
    deadlineHeader: headerOf('deadlineHeader', opts.deadlineHeader, 'x-request-timeout-ms'),
    priorityHeader: headerOf('priorityHeader', opts.priorityHeader, 'x-request-priority'),
    deadlineMarginMs: checkMs(NAME, 'deadlineMarginMs', opts.deadlineMarginMs ?? 5),
    clock: checkClock(NAME, opts.clock, systemClock),
  };
}

function baseUrlOf(value: unknown): URL | undefined {
  if (value === undefined) return undefined;
  const url = value instanceof URL || typeof value === 'string' ? URL.parse(String(value)) : null;
  if (url === null) throw invalid(NAME, 'baseUrl', value, 'an absolute URL (a string or a URL)');
  return url;
}

function methodsOf(value: unknown): ReadonlySet<string> {
  if (value === undefined) return new Set(idempotentMethods);
  const ok =
    Array.isArray(value) &&
    value.every((method) => typeof method === 'string' && TOKEN.test(method));
  if (!ok) throw invalid(NAME, 'retryMethods', value, 'an array of HTTP method names');
  return new Set((value as string[]).map((method) => method.toUpperCase()));
}

function headerOf(option: string, value: unknown, fallback: string): string | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    throw invalid(NAME, option, value, 'a header name or false');
  }
  return value.toLowerCase();
}

function checkBoolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(NAME, option, value, 'a boolean');
  return value;
}
