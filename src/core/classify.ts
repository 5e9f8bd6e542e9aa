import type { Outcome } from './outcome.js';
import { describe } from './policy.js';
import { isPromiseAnswer } from './validate.js';

/**
 * What an outcome means to the caller: 'success' (a good result, or a failure that says
 * nothing about the dependency's health, such as an HTTP 404), 'retryable' (a failure worth
 * another attempt: an HTTP 503) or 'failure' (a failure another attempt would repeat).
 */
export type OutcomeClass = 'success' | 'retryable' | 'failure';

/**
 * A caller's rule for its outcomes, passed as `execute(fn, { classify })`, so every policy of
 * a pipeline judges the call's results and errors alike without each one's predicate being
 * written. Answering undefined leaves the outcome to each policy's usual rule. It must decide
 * synchronously.
 */
export type Classifier = (outcome: Outcome) => OutcomeClass | undefined;

/**
 * The classifier's answer for `outcome`, checked: a promise (an async classifier) or any
 * other value is a bug, reported as a TypeError that names the policy asking.
 */
export function classOf(
  policy: string,
  classify: Classifier,
  outcome: Outcome,
): OutcomeClass | undefined {
  const answer: unknown = classify(outcome);
  if (
    answer === undefined ||
    answer === 'success' ||
    answer === 'retryable' ||
    answer === 'failure'
  ) {
    return answer;
  }
  const cause = outcome.ok ? undefined : { cause: outcome.error };
  if (isPromiseAnswer(answer)) {
    throw new TypeError(
      `${policy}: the call's "classify" returned a promise; it must decide synchronously`,
      cause,
    );
  }
  throw new TypeError(
    `${policy}: the call's "classify" returned ${describe(answer)}; expected 'success', 'retryable', 'failure' or undefined`,
    cause,
  );
}
