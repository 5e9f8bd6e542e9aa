import type { Clock, TimerHandle } from '../core/clock.js';

interface VirtualTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
  /** False after `unref`: armed, but it would not keep a real process alive. */
  refed: boolean;
}

/** Lets every promise reaction that is already queued, and the ones they queue, run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that only moves when told to. Timers fire in due order (ties in the order they were
 * set) as `advance()` passes them, and promise reactions settle between firings, so a test of
 * retries, timeouts or breaker cool-downs runs instantly and the same way every time.
 */
export class VirtualClock implements Clock {
  #now: number;
  #nextId = 1;
  /** Sorted by due time, then by id. */
  readonly #timers: VirtualTimer[] = [];

  constructor(startMs = 0) {
    if (typeof startMs !== 'number' || !Number.isFinite(startMs)) {
      throw new TypeError(`VirtualClock: startMs must be a finite number (got ${String(startMs)})`);
    }
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    // Like the system clock: no delay (or NaN) fires at once, an infinite one never.
    const delay = ms > 0 ? ms : 0;
    const timer: VirtualTimer = {
      id: this.#nextId++,
      due: this.#now + delay,
      callback,
      refed: true,
    };
    const timers = this.#timers;
    let low = 0;
    let high = timers.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (timers[mid]!.due <= timer.due) low = mid + 1;
      else high = mid;
    }
    timers.splice(low, 0, timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    const at = this.#timers.findIndex((timer) => timer.id === handle);
    if (at !== -1) this.#timers.splice(at, 1);
  }

  unref(handle: TimerHandle): void {
    const timer = this.#timers.find((t) => t.id === handle);
    if (timer !== undefined) timer.refed = false;
  }

  ref(handle: TimerHandle): void {
    const timer = this.#timers.find((t) => t.id === handle);
    if (timer !== undefined) timer.refed = true;
  }

  /**
   * How many armed timers would keep a real process alive (unref'd ones are not counted): a
   * test's way to prove nothing was left behind.
   */
  get pendingTimers(): number {
    let count = 0;
    for (const timer of this.#timers) if (timer.refed) count++;
    return count;
  }

  /** How many timers are armed, unref'd ones included. */
  get armedTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, in order, and
   * letting promise reactions settle after each one and at the end.
   */
  async advance(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
      throw new TypeError(
        `VirtualClock.advance: ms must be a finite number >= 0 (got ${String(ms)})`,
      );
    }
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const timer = this.#timers[0];
      if (timer === undefined || timer.due > target) break;
      this.#timers.shift();
      this.#now = timer.due;
      timer.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /**
   * Advances to the next armed timer and fires it (and any due at the same time). Timers set
   * for an infinite delay never come due, so they are never next.
   */
  async next(): Promise<void> {
    const due = this.#timers[0]?.due ?? this.#now;
    await this.advance(due === Number.POSITIVE_INFINITY ? 0 : due - this.#now);
  }

  /**
   * Fires timers (unref'd ones too), advancing time, until none is left but those that never
   * come due; refuses to spin past `maxTimers`.
   */
  async runAll(maxTimers = 10_000): Promise<void> {
    // Code under test often arms its first timer a few promise reactions from now.
    await settle();
    for (let fired = 0; (this.#timers[0]?.due ?? Infinity) < Infinity; fired++) {
      if (fired >= maxTimers) {
        throw new Error(
          `VirtualClock.runAll: still ${this.#timers.length} timers after ${maxTimers}; a timer re-arms itself forever?`,
        );
      }
      await this.next();
    }
  }
}
