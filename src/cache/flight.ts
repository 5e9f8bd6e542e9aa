import { AbortScope } from '../core/abort-scope.js';
import { type Linked, LinkedList } from '../core/linked-list.js';
import type { CacheEntry } from './store.js';

/** A caller waiting for a shared call's outcome. @internal */
export class Waiter implements Linked<Waiter> {
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  queued = false;
  resolve: (value: unknown) => void = noop;
  reject: (reason: unknown) => void = noop;
  onAbort: (reason: unknown) => void = noop;

  constructor(readonly scope: AbortScope) {}
}

/**
 * One call to the function for one key, shared by every caller that missed on that key while
 * it runs. It has its own abort scope: a caller who leaves does not cancel it for the others,
 * and it is aborted only when the last waiter has gone (unless it is a background refresh,
 * which nobody waits for).
 * @internal
 */
export class Flight {
  readonly scope = new AbortScope();
  readonly waiters = new LinkedList<Waiter>();
  /** Still the flight for its key: its outcome is stored. False once abandoned or invalidated. */
  current = true;

  constructor(
    readonly key: string,
    /** A refresh started by a stale hit: no caller of its own. */
    readonly background: boolean,
    /** The stored success it may fall back on (stale-if-error), if any. */
    readonly stale: CacheEntry | undefined,
  ) {}
}

function noop(): void {}
