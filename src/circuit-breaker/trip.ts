import { type Classifier, classOf } from '../core/classify.js';
import type { TimerHandle } from '../core/clock.js';
import type { Context } from '../core/context.js';
import { ExecutionRejectedError, TimeoutError } from '../core/errors.js';
import { failure, success } from '../core/outcome.js';
import { verdict } from '../core/validate.js';
import type { Settings } from './options.js';
import { FAILED, SLOW } from './windows.js';

/** A half-open trial call's claim on a probe slot, and the timer that fails it if it hangs. */
export class ProbeSlot {
  timer: TimerHandle | undefined = undefined;

  constructor(readonly start: number) {}
}

/**
 * What a breaker keeps once it has opened: the failure that opened it, and the probes of the
 * current half-open period. Made on the first open (or probe) and kept: most breakers never
 * open, and the ones that do open again.
 */
export class Trip {
  /**
   * The options of every `BrokenCircuitError` while open or half-open: `{ cause }` with the
   * failure that opened the breaker, one object shared by all refusals; undefined otherwise.
   */
  cause: ErrorOptions | undefined = undefined;
  readonly slots: ProbeSlot[] = [];
  /** Probes of this half-open period counted as succeeded and as failed. */
  successes = 0;
  failures = 0;
}

/** A settled call's flags as `failureOn` judges its outcome: FAILED set or cleared, SLOW kept. */
export function judged(
  policy: string,
  failureOn: NonNullable<Settings['failureOn']>,
  flags: number,
  ok: boolean,
  result: unknown,
  context: Context,
): number {
  const outcome = ok ? success(result) : failure(result);
  return verdict(policy, 'failureOn', failureOn(outcome, context), outcome)
    ? flags | FAILED
    : flags & SLOW;
}

/** A settled call's flags as the call's classifier judges its outcome, where it answers. */
export function classified(
  policy: string,
  classify: Classifier,
  flags: number,
  ok: boolean,
  result: unknown,
): number {
  const answer = classOf(policy, classify, ok ? success(result) : failure(result));
  if (answer === undefined) return flags;
  return answer === 'success' ? flags & SLOW : flags | FAILED;
}

/**
 * Outcomes that count neither way: the call was cancelled from outside (the caller's abort or
 * an enclosing timeout), or an inner policy refused to run it (bulkhead full, inner breaker
 * open, ...) so the dependency never saw it. An inner timeout does count: the dependency was
 * too slow.
 */
export function ignored(error: unknown, context: Context): boolean {
  if (context.scope.aborted) return true;
  return error instanceof ExecutionRejectedError && !(error instanceof TimeoutError);
}

/**
 * Reports a bug in the user's `breakDurationMs` function as a process warning: the breaker
 * must still open, and the call that opened it has an outcome of its own to report.
 */
export function report(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)));
}
