/**
 * A shared allowance for extra attempts: retries and hedges draw on it, first attempts earn
 * it. `retryBudget()` makes one; `retry({ budget })` and `hedge({ budget })` take it.
 */
export interface AttemptBudget {
  /** Records one call's first attempt, which earns the budget its share. */
  recordCall(): void;
  /** Asks for one extra attempt: true (and counted) when the budget allows it, else false. */
  tryAcquire(): boolean;
}

/** Whether `value` can serve as an {@link AttemptBudget}. */
export function isAttemptBudget(value: unknown): value is AttemptBudget {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AttemptBudget).recordCall === 'function' &&
    typeof (value as AttemptBudget).tryAcquire === 'function'
  );
}
