/**
 * CoDel as folly's executors apply it to a request queue (folly/executors/Codel.cpp): every
 * dequeued request reports how long it waited. Each interval, the queue counts as overloaded
 * if the shortest wait seen over the interval before stayed above `targetMs` (a standing
 * queue, not a burst); while it is, any request that waited more than twice the target is
 * dropped instead of served. Unlike RFC 8289 it does not speed up its drops: it sloughs off
 * everything too old, which is what a server wants from a queue of requests.
 */
export class Codel {
  readonly targetMs: number;
  readonly intervalMs: number;
  /** Requests that waited longer than this are dropped while overloaded: 2 x target. */
  readonly sloughMs: number;
  #overloaded = false;
  /** When the current interval ends; the first sample after it starts the next one. */
  #intervalEnd: number;
  /** The shortest wait reported in the current interval. */
  #minDelay = 0;

  constructor(targetMs: number, intervalMs: number, now: number) {
    this.targetMs = targetMs;
    this.intervalMs = intervalMs;
    this.sloughMs = 2 * targetMs;
    this.#intervalEnd = now + intervalMs;
  }

  /** Whether the last completed interval found a standing queue. */
  get overloaded(): boolean {
    return this.#overloaded;
  }

  /**
   * How busy the queue is, 0 to 100: the shortest recent wait as a share of twice the target
   * (folly's `getLoad`).
   */
  get load(): number {
    return Math.min(100, (100 * this.#minDelay) / this.sloughMs);
  }

  /** Records one dequeued request's wait; true when it should be dropped instead of served. */
  drop(delayMs: number, now: number): boolean {
    if (now > this.#intervalEnd) {
      this.#intervalEnd = now + this.intervalMs;
      this.#overloaded = this.#minDelay > this.targetMs;
      // The first request of an interval starts its minimum and is never dropped: more than
      // one request must come in during an interval before CoDel drops any.
      this.#minDelay = delayMs;
      return false;
    }
    if (delayMs < this.#minDelay) this.#minDelay = delayMs;
    return this.#overloaded && delayMs > this.sloughMs;
  }

  /**
   * A request went straight to a free slot: a wait of zero, recorded without reading the clock.
   * It can only lower the interval's minimum, so it never makes the queue look overloaded.
   */
  idle(): void {
    this.#minDelay = 0;
  }
}
