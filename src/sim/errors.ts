import { ResilienceError } from '../core/errors.js';

/** Why the modelled dependency failed a call. */
export type DependencyFailure = 'failure' | 'hang' | 'queue-full';

/**
 * The modelled dependency failed a call: a drawn failure (its `failureRate`), a call that hung
 * until a hang period ended, or a full queue. Not a refusal by a policy, so retry retries it.
 */
export class DependencyError extends ResilienceError {
  readonly reason: DependencyFailure;

  constructor(reason: DependencyFailure) {
    super(`Modelled dependency: ${reason}`);
    this.reason = reason;
  }
}

/** The simulated client gave up on a call at its deadline (the reason of its aborted signal). */
export class DeadlineExceededError extends ResilienceError {
  /** The client deadline, in milliseconds from the call's start. */
  readonly deadlineMs: number;

  constructor(deadlineMs: number) {
    super(`Client deadline of ${deadlineMs} ms exceeded`);
    this.deadlineMs = deadlineMs;
  }
}

for (const [type, code] of [
  [DependencyError, 'DEPENDENCY_FAILED'],
  [DeadlineExceededError, 'DEADLINE_EXCEEDED'],
] as const) {
  Object.defineProperties(type.prototype, {
    name: { value: type.name, writable: true, configurable: true },
    code: { value: code, writable: false, configurable: true },
  });
}
