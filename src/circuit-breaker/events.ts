import type { Outcome } from '../core/outcome.js';
import type { CircuitBreakerMode, CircuitState } from './options.js';

/** Why the breaker changed state. */
export type StateChangeReason =
  /** closed -> open: the failure rule was met (consecutive failures or failure rate). */
  | 'failures'
  /** closed -> open: the slow-call rate was met. */
  | 'slow-calls'
  /** open -> half-open: the break ended. */
  | 'break-ended'
  /** half-open -> open: a probe failed (or was slow). */
  | 'probe-failed'
  /** half-open -> open: a probe ran past `halfOpen.maxMs`. */
  | 'probe-hung'
  /** half-open -> closed: enough probes succeeded. */
  | 'probes-succeeded'
  /** any -> isolated: `isolate()` was called. */
  | 'isolated'
  /** isolated -> closed: the last isolation was disposed. */
  | 'isolation-ended'
  /** any -> closed: `reset()` was called. */
  | 'reset';

export interface CircuitBreakerEvents {
  stateChange: {
    readonly from: CircuitState;
    readonly to: CircuitState;
    readonly reason: StateChangeReason;
    /**
     * The `key` of the call that caused the change: the call that met the opening rule, the
     * first call after the break, the probe that decided. Undefined for `isolate()`, `reset()`
     * and a disposed isolation.
     */
    readonly key: string | undefined;
  };
  /** `disable()` or `enable()` changed the mode: worth an alert, a breaker is off. */
  modeChange: {
    readonly from: CircuitBreakerMode;
    readonly to: CircuitBreakerMode;
  };
  /** A counted call succeeded: while closed, or as a half-open probe. */
  success: {
    readonly state: 'closed' | 'half-open';
    readonly slow: boolean;
    readonly key: string | undefined;
  };
  /**
   * A counted call failed. `outcome` is what `failureOn` judged; for a probe that ran past
   * `halfOpen.maxMs`, a `TimeoutError`.
   */
  failure: {
    readonly state: 'closed' | 'half-open';
    readonly outcome: Outcome;
    readonly slow: boolean;
    readonly key: string | undefined;
  };
  /** A call was refused without running, or in metrics-only mode would have been. */
  rejected: {
    readonly state: 'open' | 'half-open' | 'isolated';
    /** Time left in the break when open; undefined otherwise. */
    readonly retryAfterMs: number | undefined;
    /** False in metrics-only mode: the call ran anyway, uncounted. */
    readonly enforced: boolean;
    readonly key: string | undefined;
  };
}
