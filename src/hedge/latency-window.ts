/**
 * The last `size` latencies in a ring buffer, and a percentile of them recomputed every
 * `every` samples once the window is full. A recompute copies the window and sorts the copy
 * (a typed array's numeric sort), so its cost, O(size log size), is spread over `every`
 * samples: with the default of a tenth of the window, about 10 log2(size) comparisons per
 * sample. Between recomputes a sample costs one store.
 */
export class LatencyWindow {
  readonly #ring: Float64Array;
  readonly #scratch: Float64Array;
  /** The nearest-rank position of the percentile in the sorted window (0-based). */
  readonly #rank: number;
  readonly #every: number;
  #count = 0;
  #at = 0;
  #sinceRecompute = 0;
  #value: number | undefined;

  /** `percentile` in (0, 100]; `size` >= 1. */
  constructor(percentile: number, size: number) {
    this.#ring = new Float64Array(size);
    this.#scratch = new Float64Array(size);
    this.#rank = Math.max(0, Math.ceil((percentile / 100) * size) - 1);
    this.#every = Math.max(1, Math.ceil(size / 10));
  }

  /** Samples seen so far, capped at the window's size. */
  get count(): number {
    return this.#count;
  }

  /** The percentile of the window as of the last recompute; undefined until it is full. */
  get value(): number | undefined {
    return this.#value;
  }

  add(ms: number): void {
    const ring = this.#ring;
    ring[this.#at] = ms;
    this.#at = this.#at + 1 === ring.length ? 0 : this.#at + 1;
    if (this.#count < ring.length) {
      this.#count++;
      if (this.#count < ring.length) return;
      this.#recompute();
      return;
    }
    if (++this.#sinceRecompute >= this.#every) this.#recompute();
  }

  #recompute(): void {
    this.#sinceRecompute = 0;
    const scratch = this.#scratch;
    scratch.set(this.#ring);
    scratch.sort();
    this.#value = scratch[this.#rank];
  }
}
