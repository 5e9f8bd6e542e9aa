import type { CircuitState, Rule, WindowOptions } from './options.js';
import type { CircuitBreakerSnapshot } from './snapshot.js';
import { CountWindow, FAILED, type SlidingWindow, TimeWindow } from './windows.js';

/** Which part of the opening rule was met. */
export type OpenReason = 'failures' | 'slow-calls';

/** What the breaker has counted since it last closed. */
export interface CircuitBreakerStats {
  /** Calls in the sliding window (0 for a consecutive-failures breaker). */
  readonly calls: number;
  /** Failed calls in the sliding window (0 for a consecutive-failures breaker). */
  readonly failures: number;
  /** Slow calls in the sliding window, failed or not (0 without `slowCall`). */
  readonly slow: number;
  /** The current run of failures while closed, in either mode. */
  readonly consecutiveFailures: number;
  /** Probe calls running now (half-open only). */
  readonly activeProbes: number;
}

/**
 * The state of one breaker, as the policy reads and changes it. The policy holds the rules
 * about time, probes and events; this holds what would be shared between processes: the state,
 * the end of the break, the open streak and the counted outcomes.
 *
 * Every operation is synchronous so the closed path never waits. A shared store (Redis,
 * PostgreSQL) would implement this over a local replica, publishing transitions and counts in
 * the background and applying other processes' transitions as they arrive.
 * @internal
 */
export interface BreakerState {
  readonly state: CircuitState;
  /** When an open breaker starts admitting probes, on the clock's scale. */
  readonly openUntil: number;
  /** Times opened in a row without closing. */
  readonly consecutiveOpens: number;
  /** Changes on every transition, so a call can tell whether it began in the current state. */
  readonly generation: number;
  /** Counts one call made while closed; returns the part of the rule it met, if any. */
  record(flags: number, now: number): OpenReason | undefined;
  stats(now: number): Omit<CircuitBreakerStats, 'activeProbes'>;
  /** Opens until `until` (one more consecutive open) and clears the counts. */
  open(until: number): void;
  halfOpen(): void;
  /** Closes, ending the open streak and clearing the counts. */
  close(): void;
  isolate(): void;
  toJSON(now: number): CircuitBreakerSnapshot;
}

function makeWindow(options: WindowOptions): SlidingWindow {
  if (options.type === 'count') return new CountWindow(options.size);
  return new TimeWindow(options.ms, options.buckets ?? 1);
}

/** The default state: this process's memory. */
export class MemoryBreakerState implements BreakerState {
  readonly #rule: Rule;
  /** Made on the first counted call, so an idle breaker has none. */
  #window: SlidingWindow | undefined;
  #state: CircuitState = 'closed';
  #openUntil = 0;
  #consecutiveOpens = 0;
  #consecutiveFailures = 0;
  #generation = 0;

  constructor(rule: Rule, snapshot?: CircuitBreakerSnapshot, now = 0) {
    this.#rule = rule;
    if (snapshot !== undefined) {
      this.#state = snapshot.state;
      this.#openUntil = snapshot.openUntil ?? 0;
      this.#consecutiveOpens = snapshot.consecutiveOpens;
      this.#consecutiveFailures = snapshot.consecutiveFailures;
      if (snapshot.window !== null && rule.window !== undefined) {
        this.#windowFor(rule.window).restore(snapshot.window, now);
      }
    }
  }

  get state(): CircuitState {
    return this.#state;
  }

  get openUntil(): number {
    return this.#openUntil;
  }

  get consecutiveOpens(): number {
    return this.#consecutiveOpens;
  }

  get generation(): number {
    return this.#generation;
  }

  record(flags: number, now: number): OpenReason | undefined {
    const rule = this.#rule;
    if (flags & FAILED) this.#consecutiveFailures++;
    else this.#consecutiveFailures = 0;
    if (rule.window === undefined) {
      return this.#consecutiveFailures >= rule.consecutiveFailures ? 'failures' : undefined;
    }
    const window = this.#window ?? this.#windowFor(rule.window);
    window.record(flags, now);
    const calls = window.calls;
    if (calls < rule.minimumCalls) return undefined;
    if (window.failures / calls >= rule.failureRate) return 'failures';
    if (window.slow / calls >= rule.slowRate) return 'slow-calls';
    return undefined;
  }

  stats(now: number): Omit<CircuitBreakerStats, 'activeProbes'> {
    const window = this.#window;
    window?.refresh(now);
    return {
      calls: window?.calls ?? 0,
      failures: window?.failures ?? 0,
      slow: window?.slow ?? 0,
      consecutiveFailures: this.#consecutiveFailures,
    };
  }

  open(until: number): void {
    this.#move('open');
    this.#openUntil = until;
    this.#consecutiveOpens++;
    this.#clearCounts();
  }

  halfOpen(): void {
    this.#move('half-open');
  }

  close(): void {
    this.#move('closed');
    this.#consecutiveOpens = 0;
    this.#clearCounts();
  }

  isolate(): void {
    this.#move('isolated');
    this.#clearCounts();
  }

  toJSON(now: number): CircuitBreakerSnapshot {
    return {
      version: 1,
      state: this.#state,
      openUntil: this.#state === 'open' ? this.#openUntil : null,
      consecutiveOpens: this.#consecutiveOpens,
      consecutiveFailures: this.#consecutiveFailures,
      window:
        this.#rule.window === undefined ? null : this.#windowFor(this.#rule.window).toJSON(now),
    };
  }

  #windowFor(options: WindowOptions): SlidingWindow {
    this.#window ??= makeWindow(options);
    return this.#window;
  }

  #move(to: CircuitState): void {
    this.#state = to;
    this.#generation++;
  }

  #clearCounts(): void {
    this.#consecutiveFailures = 0;
    this.#window?.clear();
  }
}
