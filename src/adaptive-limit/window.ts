/**
 * Windowed sampling, after Netflix concurrency-limits' WindowedLimit: samples are gathered
 * into a window, and the algorithm sees one sample per window: an aggregate RTT (the mean, or
 * a percentile), the most calls in flight any of them saw, and whether any was dropped. A
 * round of slow or refused calls coming back together then moves the limit once, not once per
 * call.
 *
 * A window closes on the sample that finds both its time up and at least `minSamples` taken;
 * no timer runs. Its time is twice the lowest RTT in it (about one round trip), kept within
 * [minMs, maxMs]. O(1) per sample and nothing allocated after construction: the percentile
 * keeps a fixed reservoir of RTTs (uniform over the window once it holds more than the
 * reservoir), and is found by an in-place selection when the window closes.
 */

/** How many RTTs a window keeps for its percentile. */
export const RESERVOIR = 256;

/** One window's summary, as handed to the algorithm. */
export interface WindowSummary {
  rtt: number;
  inflight: number;
  dropped: boolean;
}

export class SampleWindow {
  #start: number;
  #count = 0;
  #sum = 0;
  #minRtt = Number.POSITIVE_INFINITY;
  #maxInflight = 0;
  #dropped = false;
  readonly #rtts: Float64Array | undefined;
  /** xorshift32 state for the reservoir's replacement choice: deterministic, no allocation. */
  #seed = 0x9e3779b9;
  /** Reused for every closed window, so closing allocates nothing either. */
  readonly #summary: WindowSummary = { rtt: 0, inflight: 0, dropped: false };

  constructor(
    now: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly minSamples: number,
    /** A percentile in (0, 1], or undefined for the mean. */
    private readonly percentile: number | undefined,
  ) {
    this.#start = now;
    this.#rtts = percentile === undefined ? undefined : new Float64Array(RESERVOIR);
  }

  /** Samples in the open window. */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds one sample (rtt finite and > 0, inflight >= 0) taken at `now`; returns the window's
   * summary if this sample closed it, else undefined. The summary object is reused.
   */
  add(now: number, rtt: number, inflight: number, dropped: boolean): WindowSummary | undefined {
    const i = this.#count++;
    this.#sum += rtt;
    if (rtt < this.#minRtt) this.#minRtt = rtt;
    if (inflight > this.#maxInflight) this.#maxInflight = inflight;
    if (dropped) this.#dropped = true;
    const rtts = this.#rtts;
    if (rtts !== undefined) {
      if (i < RESERVOIR) rtts[i] = rtt;
      else {
        const j = Math.floor(this.#random() * (i + 1));
        if (j < RESERVOIR) rtts[j] = rtt;
      }
    }
    if (this.#count < this.minSamples) return undefined;
    const span = Math.min(this.maxMs, Math.max(this.minMs, 2 * this.#minRtt));
    // A clock that stepped back (now < start) keeps the window open until it catches up.
    if (!(now - this.#start >= span)) return undefined;
    const summary = this.#summary;
    summary.rtt =
      this.percentile === undefined || rtts === undefined
        ? this.#sum / this.#count
        : select(rtts, Math.min(this.#count, RESERVOIR), this.percentile);
    summary.inflight = this.#maxInflight;
    summary.dropped = this.#dropped;
    this.#start = now;
    this.#count = 0;
    this.#sum = 0;
    this.#minRtt = Number.POSITIVE_INFINITY;
    this.#maxInflight = 0;
    this.#dropped = false;
    return summary;
  }

  #random(): number {
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x >>> 0;
    return this.#seed / 4294967296;
  }
}

/**
 * The nearest-rank percentile `p` of the first `n` values of `a` (the value at rank
 * ceil(p × n)), by Hoare's selection in place: O(n) on average. Reorders `a`.
 */
export function select(a: Float64Array, n: number, p: number): number {
  const k = Math.min(n, Math.max(1, Math.ceil(p * n))) - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    // Median of three as the pivot, so sorted or equal runs stay linear.
    const mid = (lo + hi) >>> 1;
    const x = a[lo] as number;
    const y = a[mid] as number;
    const z = a[hi] as number;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k] as number;
  }
  return a[k] as number;
}
