import type { AbortScope } from './abort-scope.js';
import { executionScope } from './execution-scope.js';

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

/** The longest delay Node's timers take; a longer one fires after 1 ms, with a warning. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A timer longer than Node's timers can hold, made of a chain of them: each link waits at most
 * `MAX_TIMER_MS`, and the last one calls back. It answers `ref`/`unref` like a Node timer, and
 * the setting carries over to every link.
 */
class ChainedTimer {
  #timer: ReturnType<typeof setTimeout>;
  #refed = true;
  /** What is left to wait once the current link fires. */
  #left: number;
  readonly #callback: () => void;

  constructor(callback: () => void, ms: number) {
    this.#callback = callback;
    this.#left = ms;
    this.#timer = this.#link();
  }

  ref(): void {
    this.#refed = true;
    this.#timer.ref();
  }

  unref(): void {
    this.#refed = false;
    this.#timer.unref();
  }

  clear(): void {
    clearTimeout(this.#timer);
  }

  #link(): ReturnType<typeof setTimeout> {
    let timer: ReturnType<typeof setTimeout>;
    if (this.#left > MAX_TIMER_MS) {
      this.#left -= MAX_TIMER_MS;
      timer = setTimeout(() => {
        this.#timer = this.#link();
      }, MAX_TIMER_MS);
    } else {
      timer = setTimeout(this.#callback, this.#left);
    }
    if (!this.#refed) timer.unref();
    return timer;
  }
}

/**
 * The real clock: `performance` time (monotonic, so a wall-clock jump cannot stretch a
 * deadline) offset to the epoch, and Node's own timers. Every delay means what it says: one
 * longer than Node's timers hold (about 24.8 days) is chained from several, and an infinite
 * one never fires.
 */
export const systemClock: Clock = {
  now: () => origin + perf.now(),
  setTimeout: (callback, ms) => {
    // Under a tracing adapter, a timer (often shared by many calls) must not carry the
    // context of the call that happened to arm it into what it fires.
    const scope = executionScope();
    return scope === undefined ? arm(callback, ms) : scope.detached(() => arm(callback, ms));
  },
  clearTimeout: (handle) => {
    if (handle instanceof ChainedTimer) handle.clear();
    else clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
  unref: (handle) => (handle as ChainedTimer).unref(),
  ref: (handle) => (handle as ChainedTimer).ref(),
};

function arm(callback: () => void, ms: number): TimerHandle {
  return ms > MAX_TIMER_MS ? new ChainedTimer(callback, ms) : setTimeout(callback, ms);
}

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
