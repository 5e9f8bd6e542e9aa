/** Outcome flags recorded per call: bit 0 = failed, bit 1 = slow. */
export const FAILED = 1;
export const SLOW = 2;

/** A count window's contents, oldest call first: each entry is the call's outcome flags. */
export interface CountWindowSnapshot {
  readonly type: 'count';
  /** One entry per call, oldest first: 0 success, 1 failure, 2 slow success, 3 slow failure. */
  readonly outcomes: readonly number[];
}

/** One non-empty bucket of a time window. */
export interface TimeBucketSnapshot {
  /** When the bucket begins, on the clock's scale. */
  readonly start: number;
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
}

/** A time window's contents: its shape and its non-empty buckets, oldest first. */
export interface TimeWindowSnapshot {
  readonly type: 'time';
  readonly ms: number;
  readonly buckets: number;
  readonly slots: readonly TimeBucketSnapshot[];
}

export type WindowSnapshot = CountWindowSnapshot | TimeWindowSnapshot;

/**
 * A fixed-size record of recent outcomes with running totals, so recording a call and reading
 * the totals are O(1) and allocate nothing. The breaker state makes its window on the first
 * call it counts, so an idle breaker costs no window at all.
 *
 * Storage is a plain array of small integers rather than a typed array: in Node every typed
 * array carries about 250 bytes of buffer bookkeeping, more than a whole breaker may cost.
 */
export interface SlidingWindow {
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
  /** Adds one call's outcome flags, as of `now`. */
  record(flags: number, now: number): void;
  /** Drops what has aged out by `now` (time windows only). */
  refresh(now: number): void;
  clear(): void;
  toJSON(now: number): WindowSnapshot;
  /** Adds a snapshot's contents; contents this window cannot hold are dropped. */
  restore(snapshot: WindowSnapshot, now: number): void;
}

/** Calls per array element: 2 flag bits each, 30 bits in all, so each stays a small integer. */
const SLOTS_PER_WORD = 15;

/** The last `size` calls as a ring of 2-bit outcome flags, with running totals. */
export class CountWindow implements SlidingWindow {
  readonly #size: number;
  readonly #words: number[];
  /** The slot the next call overwrites: once the window is full, the oldest call's. */
  #next = 0;
  #calls = 0;
  #failures = 0;
  #slow = 0;

  constructor(size: number) {
    this.#size = size;
    this.#words = new Array<number>(Math.ceil(size / SLOTS_PER_WORD)).fill(0);
  }

  get calls(): number {
    return this.#calls;
  }

  get failures(): number {
    return this.#failures;
  }

  get slow(): number {
    return this.#slow;
  }

  record(flags: number, _now?: number): void {
    const at = this.#next;
    const word = (at / SLOTS_PER_WORD) | 0;
    const shift = (at - word * SLOTS_PER_WORD) << 1;
    const bits = this.#words[word]!;
    if (this.#calls === this.#size) {
      const old = (bits >> shift) & 3;
      this.#failures -= old & FAILED;
      this.#slow -= old >> 1;
    } else {
      this.#calls++;
    }
    this.#words[word] = (bits & ~(3 << shift)) | (flags << shift);
    this.#failures += flags & FAILED;
    this.#slow += flags >> 1;
    this.#next = at + 1 === this.#size ? 0 : at + 1;
  }

  refresh(): void {}

  clear(): void {
    this.#words.fill(0);
    this.#next = 0;
    this.#calls = 0;
    this.#failures = 0;
    this.#slow = 0;
  }

  toJSON(): CountWindowSnapshot {
    const outcomes: number[] = [];
    const first = this.#calls === this.#size ? this.#next : 0;
    for (let i = 0; i < this.#calls; i++) {
      const at = (first + i) % this.#size;
      const word = (at / SLOTS_PER_WORD) | 0;
      outcomes.push((this.#words[word]! >> ((at - word * SLOTS_PER_WORD) << 1)) & 3);
    }
    return { type: 'count', outcomes };
  }

  /** Replays the snapshot's calls in order, so a smaller window keeps the most recent. */
  restore(snapshot: WindowSnapshot): void {
    if (snapshot.type !== 'count') return;
    for (const flags of snapshot.outcomes) this.record(flags);
  }
}

/**
 * The calls of the last `ms` milliseconds, in `buckets` buckets of `ms / buckets` each.
 *
 * Bucket `k` begins at `start(k) = k * ms / buckets` on the clock, computed one way everywhere
 * so that every boundary agrees with itself; a time belongs to the last bucket that begins at
 * or before it. A bucket leaves the window `ms` after it began: when bucket `k + buckets`
 * begins, or at `start(k) + ms`, whichever the floating-point arithmetic puts first (they are
 * the same instant in exact arithmetic). So a call recorded at `t`, in a bucket that began at
 * or before `t`, is never counted at `t + ms` or later, and is counted until at least
 * `t + ms - ms / buckets`.
 *
 * Between those instants `refresh` does one comparison; at one, it touches at most `buckets`
 * buckets however much time has passed.
 */
export class TimeWindow implements SlidingWindow {
  readonly #ms: number;
  readonly #buckets: number;
  /** Per bucket: calls, failures, slow (three counters each). */
  readonly #counts: number[];
  /** Number of the newest bucket seen. */
  #newest = Number.NEGATIVE_INFINITY;
  /** When the window next changes (a bucket begins or the oldest one ends); until then nothing to do. */
  #expires = Number.NEGATIVE_INFINITY;
  #calls = 0;
  #failures = 0;
  #slow = 0;

  constructor(ms: number, buckets: number) {
    this.#ms = ms;
    this.#buckets = buckets;
    this.#counts = new Array<number>(buckets * 3).fill(0);
  }

  get calls(): number {
    return this.#calls;
  }

  get failures(): number {
    return this.#failures;
  }

  get slow(): number {
    return this.#slow;
  }

  record(flags: number, now: number): void {
    this.refresh(now);
    const counts = this.#counts;
    const at = this.#slot(this.#newest);
    counts[at]!++;
    this.#calls++;
    if (flags & FAILED) {
      counts[at + 1]!++;
      this.#failures++;
    }
    if (flags & SLOW) {
      counts[at + 2]!++;
      this.#slow++;
    }
  }

  refresh(now: number): void {
    if (now < this.#expires) return;
    const n = this.#buckets;
    const bucket = this.#bucketAt(now);
    const gap = bucket - this.#newest;
    if (gap > 0) {
      if (gap >= n) this.#empty();
      else if (this.#calls > 0) for (let i = 1; i <= gap; i++) this.#drop(this.#newest + i);
      this.#newest = bucket;
    }
    const oldest = this.#newest - n + 1;
    const end = this.#start(oldest) + this.#ms;
    const next = this.#start(this.#newest + 1);
    if (end <= now) {
      this.#drop(oldest);
      this.#expires = next;
    } else {
      this.#expires = end < next ? end : next;
    }
  }

  clear(): void {
    this.#empty();
    this.#newest = Number.NEGATIVE_INFINITY;
    this.#expires = Number.NEGATIVE_INFINITY;
  }

  toJSON(now: number): TimeWindowSnapshot {
    this.refresh(now);
    const slots: TimeBucketSnapshot[] = [];
    const counts = this.#counts;
    const n = this.#buckets;
    for (let i = 0; i < n && this.#calls > 0; i++) {
      const bucket = this.#newest - n + 1 + i;
      const at = this.#slot(bucket);
      if (counts[at] === 0) continue;
      slots.push({
        start: this.#start(bucket),
        calls: counts[at]!,
        failures: counts[at + 1]!,
        slow: counts[at + 2]!,
      });
    }
    return { type: 'time', ms: this.#ms, buckets: n, slots };
  }

  /** Restores the buckets still inside the window, if the snapshot's shape matches this one. */
  restore(snapshot: WindowSnapshot, now: number): void {
    if (
      snapshot.type !== 'time' ||
      snapshot.ms !== this.#ms ||
      snapshot.buckets !== this.#buckets
    ) {
      return;
    }
    this.refresh(now);
    const n = this.#buckets;
    for (const slot of snapshot.slots) {
      // `start` is a bucket's start; rounding undoes the float error (also of older snapshots,
      // which wrote it as bucket * (ms / buckets)).
      const bucket = Math.round((slot.start * n) / this.#ms);
      if (bucket > this.#newest || bucket <= this.#newest - n) continue;
      if (this.#start(bucket) + this.#ms <= now) continue;
      const counts = this.#counts;
      const at = this.#slot(bucket);
      counts[at]! += slot.calls;
      counts[at + 1]! += slot.failures;
      counts[at + 2]! += slot.slow;
      this.#calls += slot.calls;
      this.#failures += slot.failures;
      this.#slow += slot.slow;
    }
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

  /** Subtracts one bucket from the totals and empties it. */
  #drop(bucket: number): void {
    const counts = this.#counts;
    const at = this.#slot(bucket);
    this.#calls -= counts[at]!;
    this.#failures -= counts[at + 1]!;
    this.#slow -= counts[at + 2]!;
    counts[at] = 0;
    counts[at + 1] = 0;
    counts[at + 2] = 0;
  }

  #empty(): void {
    this.#counts.fill(0);
    this.#calls = 0;
    this.#failures = 0;
    this.#slow = 0;
  }

  /** Index of a bucket's first counter; bucket numbers may be negative on a negative clock. */
  #slot(bucket: number): number {
    const n = this.#buckets;
    return (((bucket % n) + n) % n) * 3;
  }
}
