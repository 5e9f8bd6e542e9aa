import {
  ExecutionRejectedError,
  RateLimitedError,
  ShuttingDownError,
  TimeoutError,
} from '../../../core/errors.js';
import type { RateLimitDecision } from '../../../rate-limiter/store.js';
import { type RateLimitFields, wholeSeconds } from './rate-limit-headers.js';

/** A response the server policy sends itself: a refusal or a health report. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const text = 'text/plain; charset=utf-8';

/** 504 for a request whose caller's budget is spent (or below `minBudgetMs`). */
export const budgetSpent: Answer = Object.freeze({
  status: 504,
  headers: Object.freeze({ 'content-type': text }),
  body: 'Gateway Timeout: the request arrived with no time budget left\n',
});

/** 504 for a request whose deadline passed while it waited for admission. */
const expiredInQueue: Answer = Object.freeze({
  status: 504,
  headers: Object.freeze({ 'content-type': text }),
  body: 'Gateway Timeout: the request waited past its deadline\n',
});

/** 429 with `Retry-After` and the RateLimit fields. */
export function rateLimited(decision: RateLimitDecision, fields: RateLimitFields): Answer {
  return {
    status: 429,
    headers: {
      'content-type': text,
      'retry-after': String(wholeSeconds(decision.retryAfterMs)),
      'ratelimit-policy': fields.policy,
      ratelimit: fields.current(decision.remaining, decision.resetAfterMs),
    },
    body: 'Too Many Requests\n',
  };
}

/**
 * The answer to a refusal to admit: 504 for a deadline that passed in the queue, 429 for a
 * rate limiter inside the shedder's pipeline, 503 for any other, and `Connection: close` too
 * when the service is shutting down; `Retry-After` is the refusal's own hint, else
 * `fallbackMs`. Undefined for an error that is no refusal.
 */
export function refusal(error: unknown, fallbackMs: number): Answer | undefined {
  if (error instanceof TimeoutError) return expiredInQueue;
  if (!(error instanceof ExecutionRejectedError)) return undefined;
  const hint = (error as { retryAfterMs?: unknown }).retryAfterMs;
  const retryAfter = String(wholeSeconds(typeof hint === 'number' ? hint : fallbackMs));
  if (error instanceof RateLimitedError) {
    return {
      status: 429,
      headers: { 'content-type': text, 'retry-after': retryAfter },
      body: 'Too Many Requests\n',
    };
  }
  if (error instanceof ShuttingDownError) {
    return {
      status: 503,
      headers: { 'content-type': text, 'retry-after': retryAfter, connection: 'close' },
      body: 'Service Unavailable: shutting down\n',
    };
  }
  return {
    status: 503,
    headers: { 'content-type': text, 'retry-after': retryAfter },
    body: 'Service Unavailable: overloaded\n',
  };
}
