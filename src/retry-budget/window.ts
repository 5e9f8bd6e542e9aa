/**
 * Two running counts over the last `ms` milliseconds, kept in `buckets` buckets of
 * `ms / buckets` each: a fixed ring of counters, so adding and reading are O(1), nothing is
 * allocated after construction and no timer runs. The budget counts calls and retries in it,
 * the throttle requests and accepts.
 *
 * Bucket `k` begins at `start(k) = k * ms / buckets` on the clock, computed one way everywhere;
 * a time belongs to the last bucket that begins at or before it. The window holds the newest
 * bucket seen and the `buckets - 1` before it, so a count added at `t` is dropped when bucket
 * `k + buckets` begins: after `t + ms - ms / buckets`, and no later than `t + ms`.
 *
 * Ageing happens on access: `advance(now)` is one comparison until the next bucket begins, and
 * touches at most `buckets` counters however long the window sat idle.
 */
export class SlidingPair {
  readonly #ms: number;
  readonly #buckets: number;
  /** Per bucket: the first count, then the second. */
  readonly #counts: number[];
  /** Number of the newest bucket seen; -Infinity before the first `advance`. */
  #newest = Number.NEGATIVE_INFINITY;
  /** When the bucket after the newest begins: until then, nothing can age out. */
  #nextStart = Number.NEGATIVE_INFINITY;
  /** Index of the newest bucket's first counter. */
  #at = 0;
  #first = 0;
  #second = 0;

  constructor(ms: number, buckets: number) {
    this.#ms = ms;
    this.#buckets = buckets;
    this.#counts = new Array<number>(buckets * 2).fill(0);
  }

  /** The first count over the window, as of the last `advance`. */
  get first(): number {
    return this.#first;
  }

  /** The second count over the window, as of the last `advance`. */
  get second(): number {
    return this.#second;
  }

  /**
   * Drops the buckets that have left the window by `now`. A clock that steps back is treated
   * as standing still: counts go to the newest bucket until time passes it again.
   */
  advance(now: number): void {
    if (now < this.#nextStart) return;
    const n = this.#buckets;
    const bucket = this.#bucketAt(now);
    const gap = bucket - this.#newest;
    if (gap >= n) this.#empty();
    else if (this.#first > 0 || this.#second > 0) {
      for (let i = 1; i <= gap; i++) this.#drop(this.#newest + i);
    }
    this.#newest = bucket;
    this.#nextStart = this.#start(bucket + 1);
    this.#at = this.#slot(bucket);
  }

  /** Adds to the first count, in the newest bucket; call `advance` first. */
  addFirst(): void {
    this.#counts[this.#at]!++;
    this.#first++;
  }

  /** Adds to the second count, in the newest bucket; call `advance` first. */
  addSecond(): void {
    this.#counts[this.#at + 1]!++;
    this.#second++;
  }

  /** When bucket `k` begins. */
  #start(k: number): number {
    return (k * this.#ms) / this.#buckets;
  }

  /** The bucket holding time `t`: the last one that begins at or before `t`. */
  #bucketAt(t: number): number {
    let k = Math.floor((t * this.#buckets) / this.#ms);
    // The estimate rounds differently from `#start` only right at a boundary: one step fixes it.
    if (this.#start(k) > t) k--;
    else if (this.#start(k + 1) <= t) k++;
    return k;
  }

  /** Index of bucket `k`'s first counter; bucket numbers are negative before time 0. */
  #slot(k: number): number {
    const n = this.#buckets;
    return (((k % n) + n) % n) * 2;
  }

  /** Subtracts bucket `k` (which is about to be reused) from the totals and empties it. */
  #drop(k: number): void {
    const at = this.#slot(k);
    const counts = this.#counts;
    this.#first -= counts[at]!;
    this.#second -= counts[at + 1]!;
    counts[at] = 0;
    counts[at + 1] = 0;
  }

  #empty(): void {
    this.#counts.fill(0);
    this.#first = 0;
    this.#second = 0;
  }
}
