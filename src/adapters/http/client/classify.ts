import type { Classifier, OutcomeClass } from '../../../core/classify.js';
import { ExecutionRejectedError, HedgeLostError, TimeoutError } from '../../../core/errors.js';
import { describe } from '../../../core/policy.js';
import { networkErrorKind } from './network-errors.js';

/** The header a bulwark server marks its "your budget ran out" 504 with (server/answers.ts). */
const deadlineExceeded = 'x-deadline-exceeded';

/**
 * Judges what one attempt produced: a Response, or what fetch (or a policy inside) threw.
 * Undefined leaves the decision to each policy's usual rule.
 */
export type HttpClassifier = (target: unknown) => OutcomeClass | undefined;

/**
 * The default judgement of an HTTP attempt:
 * - a response: 501 is a 'failure' (retrying cannot help), and so is a 504 marked
 *   `x-deadline-exceeded` (a bulwark server refusing a request whose budget ran out: a resend
 *   would carry no more); other 5xx, 408 and 429 are 'retryable'; every other status is a 'success', 4xx included (the dependency is healthy,
 *   the request was wrong), so it is returned, never thrown, and never opens a breaker;
 * - a network error (connection refused or reset, socket hang-up, DNS failure, undici's
 *   `UND_ERR_*` timeouts) is 'retryable';
 * - bulwark's own refusals, a lost hedge and aborts are left to the policies' usual rules
 *   (undefined): a refusal keeps its `retryable` flag, and a caller's abort is never retried;
 * - any other error (an invalid URL, a bad certificate) is a 'failure'.
 */
export function classifyHttp(target: unknown): OutcomeClass | undefined {
  const status = statusOf(target);
  if (status !== undefined) {
    if (status === 501) return 'failure';
    if (status === 504 && (target as Response).headers?.get?.(deadlineExceeded) != null) {
      return 'failure';
    }
    if (status >= 500 || status === 408 || status === 429) return 'retryable';
    return 'success';
  }
  if (isRefusalOrAbort(target)) return undefined;
  return networkErrorKind(target) === undefined ? 'failure' : 'retryable';
}

/** The status of a response (any object with a numeric `status` and `headers`, not an error). */
export function statusOf(target: unknown): number | undefined {
  if (typeof target !== 'object' || target === null || target instanceof Error) return undefined;
  const { status, headers } = target as { status?: unknown; headers?: unknown };
  return typeof status === 'number' && headers !== undefined ? status : undefined;
}

/** bulwark's refusals, a hedge's loser, and aborts: for the policies to judge as they do. */
function isRefusalOrAbort(error: unknown): boolean {
  if (error instanceof ExecutionRejectedError || error instanceof HedgeLostError) return true;
  return (error as { name?: unknown } | null)?.name === 'AbortError';
}

const verdicts: readonly unknown[] = ['success', 'retryable', 'failure', undefined];

/**
 * The classifier the policies consult for one kind of request, made once per `resilientFetch`:
 * the user's `classify` (falling back to {@link classifyHttp} where it answers undefined) and,
 * for a request that must not be sent twice (`repeatable` false), every 'retryable' verdict on
 * something the server may have received turned into 'failure'. Retry and hedge then never
 * send it again, while a circuit breaker still counts it. A refusal before sending (a rate
 * limiter, a bulkhead, a connection refused) may still be retried; a timeout may not.
 */
export function policyClassifier(
  user: HttpClassifier | undefined,
  repeatable: boolean,
): Classifier {
  const judge = (target: unknown): OutcomeClass | undefined => {
    if (user === undefined) return classifyHttp(target);
    const verdict = user(target);
    if (!verdicts.includes(verdict)) {
      throw new TypeError(
        `resilientFetch: option "classify" returned ${describe(verdict)}; expected 'success', 'retryable', 'failure' or undefined`,
      );
    }
    return verdict ?? classifyHttp(target);
  };
  if (repeatable) return (outcome) => judge(outcome.ok ? outcome.value : outcome.error);
  return (outcome) => {
    const target = outcome.ok ? outcome.value : outcome.error;
    const verdict = judge(target);
    if (target instanceof TimeoutError) return verdict === 'success' ? verdict : 'failure';
    if (verdict !== 'retryable') return verdict;
    return neverSent(target) ? 'retryable' : 'failure';
  };
}

function neverSent(target: unknown): boolean {
  if (target instanceof ExecutionRejectedError) return !(target instanceof TimeoutError);
  return statusOf(target) === undefined && networkErrorKind(target) === 'unsent';
}
