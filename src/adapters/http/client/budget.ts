import { TimeoutError } from '../../../core/errors.js';

/**
 * The whole milliseconds a request can offer downstream: what is left until `deadline`, less
 * `marginMs` for the answer's way back. When less than 1 ms is left, the `TimeoutError` to fail
 * with instead of sending it: the answer would come too late to be of use.
 */
export function remainingBudget(
  deadline: number,
  now: number,
  marginMs: number,
): number | TimeoutError {
  const left = deadline - now;
  const budget = Math.floor(left - marginMs);
  return budget >= 1 ? budget : new TimeoutError(Math.max(0, left));
}
