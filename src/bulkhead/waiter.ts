import type { AbortScope } from '../core/abort-scope.js';
import type { Linked } from '../core/linked-list.js';

/**
 * A call waiting for a bulkhead slot: a node of the bulkhead's queue, holding the settle
 * functions of the promise the call awaits.
 */
export class Waiter implements Linked<Waiter> {
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  queued = false;
  resolve: () => void = noop;
  reject: (reason: unknown) => void = noop;
  onAbort: (reason: unknown) => void = noop;

  constructor(
    readonly scope: AbortScope,
    /** The waiting call's key, for events. */
    readonly key: string | undefined,
    /** When it joined the queue, on the bulkhead's clock. */
    readonly since: number,
    /** When its queue wait runs out; Infinity when it never does. */
    readonly due: number,
  ) {}
}

function noop(): void {}
