import type { Priority } from '../core/context.js';
import type { LoadShedReason } from '../core/errors.js';
import type { PressureReading } from './pressure.js';

/** How a call left a load shedder's queue. */
export type LoadShedderDequeueResult =
  | 'started'
  | 'aborted'
  | 'queue-timeout'
  | 'codel'
  | 'evicted';

export interface LoadShedderEvents {
  /** A call was refused, on arrival or from the queue. */
  shed: {
    /** The refused call's key. */
    readonly key: string | undefined;
    readonly priority: Priority;
    readonly reason: LoadShedReason;
    /** Calls running at the refusal. */
    readonly running: number;
    /** Calls waiting at the refusal (the refused call not counted). */
    readonly queued: number;
    /** The hint the error carries; undefined when there is none. */
    readonly retryAfterMs: number | undefined;
  };
  /** A call found no free slot and joined the queue. */
  queued: {
    /** The waiting call's key. */
    readonly key: string | undefined;
    readonly priority: Priority;
    readonly running: number;
    /** Calls waiting, this one included. */
    readonly queued: number;
  };
  /** A call left the queue: it got a slot, was shed from it, or its caller aborted. */
  dequeued: {
    /** The call's key. */
    readonly key: string | undefined;
    readonly priority: Priority;
    readonly waitedMs: number;
    readonly result: LoadShedderDequeueResult;
  };
  /** The pressure verdict changed: a sample crossed a threshold, or fell back below all. */
  pressure: {
    readonly underPressure: boolean;
    /** The sample that changed it (empty when `close()` ended sampling). */
    readonly reading: PressureReading;
  };
}

/** One priority's counts in {@link LoadShedderStats}. */
export interface LoadShedderPriorityStats {
  /** Calls of this priority running now. */
  readonly running: number;
  /** Calls of this priority waiting now. */
  readonly queued: number;
  /** Calls of this priority refused so far, on arrival or from the queue (aborts not counted). */
  readonly shed: number;
}

/** What `stats()` answers. */
export interface LoadShedderStats {
  readonly running: number;
  readonly queued: number;
  /** The concurrency limit now (an adaptive limit's current value). */
  readonly limit: number;
  readonly queueLimit: number;
  /**
   * Whether CoDel counts the queue as overloaded: its shortest wait over the last interval
   * stayed above target, or it has not been empty for a whole interval. False without CoDel.
   */
  readonly overloaded: boolean;
  /** Whether the last pressure sample reached a threshold; false without `pressure`. */
  readonly underPressure: boolean;
  readonly byPriority: Readonly<Record<Priority, LoadShedderPriorityStats>>;
}
