import type { AbortScope } from './abort-scope.js';

/** An opaque handle for a timer armed through a {@link Clock}. */
export type TimerHandle = unknown;

/**
 * The only source of time in bulwark. Every policy takes one through its `clock` option, so
 * tests can swap in `VirtualClock` from `bulwark/testing` and never sleep for real.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale that is also close to the Unix epoch. */
  now(): number;
  /** Calls `callback` once, `ms` milliseconds from now. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Disarms a timer; a handle that already fired or was cleared is ignored. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Optional, like Node's `timeout.unref()`: the timer stays armed but no longer keeps the
   * process alive. Policies use it to leave a shared timer armed between bursts of calls
   * instead of clearing and re-arming it for each call. Without it they clear the timer.
   */
  unref?(handle: TimerHandle): void;
  /** Optional, like Node's `timeout.ref()`: undoes `unref`. Present whenever `unref` is. */
  ref?(handle: TimerHandle): void;
}

const origin = performance.timeOrigin;
// `globalThis.performance` is an accessor in Node: reading it costs a getter call on every
// clock read (a quarter of the read). Fake time belongs in an injected clock, not in it.
const perf = performance;

/**
 * The real clock: `performance` time (monotonic, so a wall-clock jump cannot stretch a
 * deadline) offset to the epoch, and Node's own timers.
 */
export const systemClock: Clock = {
  now: () => origin + perf.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  unref: (handle) => (handle as ReturnType<typeof setTimeout>).unref(),
  ref: (handle) => (handle as ReturnType<typeof setTimeout>).ref(),
};

/**
 * Resolves after `ms` on `clock`, or rejects with the scope's abort reason as soon as `scope`
 * aborts. Either way the timer and the abort listener are gone once it settles.
 */
export function sleep(clock: Clock, ms: number, scope?: AbortScope): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (scope?.aborted) {
      reject(scope.reason);
      return;
    }
    // Zero means at once, not at the next timer tick (or never, on a clock nobody advances).
    if (!(ms > 0)) {
      resolve();
      return;
    }
    const onAbort = (reason: unknown): void => {
      clock.clearTimeout(timer);
      reject(reason);
    };
    const timer = clock.setTimeout(() => {
      scope?.unwatch(onAbort);
      resolve();
    }, ms);
    scope?.watch(onAbort);
  });
}
