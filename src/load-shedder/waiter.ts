import type { AbortScope } from '../core/abort-scope.js';
import type { Linked } from '../core/linked-list.js';

/**
 * A call waiting for a load shedder's slot: a node of its priority's queue, holding the settle
 * functions of the promise the call awaits.
 */
export class Waiter implements Linked<Waiter> {
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  queued = false;
  /** Hands the waiter its slot, with the calls running once it has it. */
  resolve: (inflight: number) => void = noop;
  reject: (reason: unknown) => void = noop;
  onAbort: (reason: unknown) => void = noop;

  constructor(
    readonly scope: AbortScope,
    /** The waiting call's key, for events. */
    readonly key: string | undefined,
    /** Its priority's rank: 0 for 'critical-plus' ... 3 for 'sheddable'. */
    readonly rank: number,
    /** When it joined the queue, on the shedder's clock. */
    readonly since: number,
    /** When its queue wait runs out; Infinity when it never does. */
    readonly due: number,
  ) {}
}

function noop(): void {}
