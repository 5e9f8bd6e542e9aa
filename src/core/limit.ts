/**
 * A concurrency limit that moves with what it observes: an adaptive limit (`adaptiveLimit()`).
 * A bulkhead or load shedder takes one in place of a fixed number: it reads `current` when it
 * admits a call, and reports each call it ran through `sample` when the call settles.
 */
export interface ConcurrencyLimit {
  /** The limit now: an integer >= 1. */
  readonly current: number;
  /**
   * How one call went.
   * @param rttMs How long it ran, in milliseconds.
   * @param inflight Calls running when it started, itself included.
   * @param dropped True when it ended in a `TimeoutError` or another refusal from inside (the
   *   dependency was overloaded), false for any other outcome.
   */
  sample(rttMs: number, inflight: number, dropped: boolean): void;
}

/** Whether `value` can serve as a {@link ConcurrencyLimit}. */
export function isConcurrencyLimit(value: unknown): value is ConcurrencyLimit {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ConcurrencyLimit).current === 'number' &&
    typeof (value as ConcurrencyLimit).sample === 'function'
  );
}
