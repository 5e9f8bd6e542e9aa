import type { Priority } from '../core/context.js';
import type { DependencyCounters } from './dependency.js';
import type { Percentiles, SeriesBucket } from './stats.js';

/** How one priority's calls fared. */
export interface PriorityResult {
  readonly offered: number;
  /** Calls that succeeded within their deadline. */
  readonly good: number;
  /** `good / offered`. */
  readonly goodShare: number;
  /** Ends by outcome: 'ok', 'late', 'fallback', or an error's `code`. */
  readonly outcomes: Readonly<Record<string, number>>;
}

export interface SimulationResult {
  readonly seed: number;
  readonly durationMs: number;
  readonly deadlineMs: number | undefined;
  /** The load's description, e.g. 'open loop 800/s'. */
  readonly load: string;
  /** Logical calls offered (each counted once, whatever retries did). */
  readonly offered: number;
  readonly offeredRps: number;
  /** Calls that succeeded within their deadline (all successes when there is no deadline). */
  readonly goodput: {
    readonly count: number;
    readonly rps: number;
    /** `count / offered`. */
    readonly ofOffered: number;
    /** Goodput as a share of what the dependency serves at its initial capacity. */
    readonly ofCapacity: number;
  };
  /** Successes per second, late ones included. */
  readonly throughputRps: number;
  /**
   * How every call ended: 'ok' (success within the deadline), 'late' (success after it),
   * 'fallback' (a substitute answered), or the error's `code` (LOAD_SHED, TIMEOUT,
   * DEADLINE_EXCEEDED, DEPENDENCY_FAILED, ...; 'ERROR' for errors without one).
   */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly byPriority: Readonly<Partial<Record<Priority, PriorityResult>>>;
  readonly latency: {
    /** Successful calls (late ones included), from arrival to answer. */
    readonly succeeded: Percentiles;
    /** Calls that reached the dependency at least once, whatever their outcome. */
    readonly admitted: Percentiles;
  };
  /** Attempts reaching the dependency per logical call. */
  readonly loadMultiplication: number;
  /** Attempts made by the client per logical call, refused ones included. */
  readonly attemptsPerCall: number;
  readonly dependency: DependencyCounters & {
    /** What the dependency serves per second at its initial capacity and mean latency. */
    readonly capacityRps: number;
    /** Time calls spent inside the dependency (queue and service), abandoned work included. */
    readonly sojourn: Percentiles;
  };
  /** Calls still outstanding when the drain time ran out. */
  readonly unfinished: number;
  /** When the last call ended, ms from the start (at least `durationMs`). */
  readonly endMs: number;
  readonly series: readonly SeriesBucket[];
}
