import { checkInteger, checkOneOf, invalid } from '../core/validate.js';
import { type CircuitState, checkObject } from './options.js';
import type { TimeBucketSnapshot, WindowSnapshot } from './windows.js';

/**
 * A breaker's state as plain JSON, from `toJSON()`; pass it back as `initialState` to carry the
 * state across a restart. Times are on the breaker clock's scale (epoch milliseconds for the
 * system clock).
 */
export interface CircuitBreakerSnapshot {
  /** The snapshot format; always 1. */
  readonly version: 1;
  readonly state: CircuitState;
  /** When an open breaker starts admitting probes; null in every other state. */
  readonly openUntil: number | null;
  /** Times opened in a row without closing (0 when closed). */
  readonly consecutiveOpens: number;
  /** The current run of failures while closed. */
  readonly consecutiveFailures: number;
  /** The sliding window's contents; null for a consecutive-failures breaker. */
  readonly window: WindowSnapshot | null;
  /**
   * Whether `disable()` was in force. Written by `toJSON()`; may be left out (snapshots made
   * before it existed), which means false.
   */
  readonly disabled?: boolean;
}

const states: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

function isCount(value: unknown, max = Number.POSITIVE_INFINITY): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;
}

function checkSlots(policy: string, value: unknown): TimeBucketSnapshot[] {
  const option = 'initialState.window.slots';
  const expected = 'an array of { start, calls, failures, slow } with 0 <= failures, slow <= calls';
  if (!Array.isArray(value)) throw invalid(policy, option, value, expected);
  for (const slot of value as unknown[]) {
    const s = slot as Record<string, unknown> | null;
    const ok =
      typeof s === 'object' &&
      s !== null &&
      typeof s.start === 'number' &&
      Number.isFinite(s.start) &&
      isCount(s.calls) &&
      isCount(s.failures, s.calls as number) &&
      isCount(s.slow, s.calls as number);
    if (!ok) throw invalid(policy, option, value, expected);
  }
  return value as TimeBucketSnapshot[];
}

function checkWindowSnapshot(policy: string, value: unknown): WindowSnapshot | null {
  if (value === undefined || value === null) return null;
  const window = checkObject(policy, 'initialState.window', value);
  const type = checkOneOf(policy, 'initialState.window.type', window.type, ['count', 'time']);
  if (type === 'count') {
    const outcomes = window.outcomes;
    if (!Array.isArray(outcomes) || !outcomes.every((flags) => isCount(flags, 3))) {
      throw invalid(
        policy,
        'initialState.window.outcomes',
        outcomes,
        'an array of integers 0 to 3',
      );
    }
    return { type, outcomes };
  }
  const ms = window.ms;
  if (typeof ms !== 'number' || !(ms > 0) || !Number.isFinite(ms)) {
    throw invalid(policy, 'initialState.window.ms', ms, 'a finite number > 0');
  }
  const buckets = checkInteger(policy, 'initialState.window.buckets', window.buckets, 1);
  return { type, ms, buckets, slots: checkSlots(policy, window.slots) };
}

function checkDisabled(policy: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw invalid(policy, 'initialState.disabled', value, 'a boolean');
  }
  return value;
}

/**
 * Validates an `initialState`. The counters may be left out (they default to 0, the window to
 * empty, `disabled` to false), so a hand-written `{ version: 1, state: 'open', openUntil }` is accepted.
 */
export function checkSnapshot(policy: string, value: unknown): CircuitBreakerSnapshot {
  const snapshot = checkObject(policy, 'initialState', value);
  if (snapshot.version !== 1) {
    throw invalid(policy, 'initialState.version', snapshot.version, '1');
  }
  const state = checkOneOf(policy, 'initialState.state', snapshot.state, states);
  let openUntil: number | null = null;
  if (state === 'open') {
    const until = snapshot.openUntil;
    if (typeof until !== 'number' || !Number.isFinite(until)) {
      throw invalid(policy, 'initialState.openUntil', until, 'a finite number for an open state');
    }
    openUntil = until;
  }
  const count = (option: 'consecutiveOpens' | 'consecutiveFailures'): number =>
    checkInteger(policy, `initialState.${option}`, snapshot[option] ?? 0, 0);
  return {
    version: 1,
    state,
    openUntil,
    consecutiveOpens: count('consecutiveOpens'),
    consecutiveFailures: count('consecutiveFailures'),
    window: checkWindowSnapshot(policy, snapshot.window),
    disabled: checkDisabled(policy, snapshot.disabled),
  };
}
