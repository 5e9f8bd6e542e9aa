/**
 * The update rules of the three algorithms, after Netflix concurrency-limits (AIMDLimit,
 * Gradient2Limit, VegasLimit). Each keeps its own estimate, a number within [min, max] that
 * may be fractional; `AdaptiveLimit` turns it into the integer limit. Inputs arrive sanitised:
 * `rtt` is finite and > 0, `inflight` a number >= 0.
 */
export interface Rule {
  /** The estimate after one sample. */
  update(rtt: number, inflight: number, dropped: boolean): number;
}

/** Additive increase, multiplicative decrease. */
export class Aimd implements Rule {
  #limit: number;

  constructor(
    initial: number,
    private readonly min: number,
    private readonly max: number,
    private readonly backoffRatio: number,
    private readonly timeoutMs: number,
  ) {
    this.#limit = initial;
  }

  update(rtt: number, inflight: number, dropped: boolean): number {
    let limit = this.#limit;
    if (dropped || rtt > this.timeoutMs) limit = Math.trunc(limit * this.backoffRatio);
    // Grow only while the calls use at least half of it: an idle limit has proven nothing.
    else if (inflight * 2 >= limit) limit += 1;
    this.#limit = Math.min(this.max, Math.max(this.min, limit));
    return this.#limit;
  }
}

/**
 * Compares the latest RTT with a slow exponential average of RTTs: latency rising faster than
 * the average can follow means a queue is building.
 */
export class Gradient2 implements Rule {
  #estimate: number;
  /**
   * The long RTT: the mean of the first `warmup` samples, then an EMA. As in Netflix's, the
   * warmup mean comes from a running sum that the decay below leaves alone.
   */
  #longRtt = 0;
  #sum = 0;
  #count = 0;
  readonly #factor: number;

  constructor(
    initial: number,
    private readonly min: number,
    private readonly max: number,
    private readonly smoothing: number,
    private readonly rttTolerance: number,
    private readonly queueSize: number,
    longWindow: number,
    private readonly warmup = 10,
  ) {
    this.#estimate = initial;
    this.#factor = 2 / (longWindow + 1);
  }

  update(rtt: number, inflight: number, _dropped: boolean): number {
    const estimate = this.#estimate;
    if (this.#count < this.warmup) {
      this.#count++;
      this.#sum += rtt;
      this.#longRtt = this.#sum / this.#count;
    } else {
      this.#longRtt = this.#longRtt * (1 - this.#factor) + rtt * this.#factor;
    }
    const longRtt = this.#longRtt;
    // After a long spell of overload the average sits far above today's latency: pull it down
    // faster than the EMA would, so the limit can grow again.
    if (longRtt / rtt > 2) this.#longRtt = longRtt * 0.95;
    if (inflight < estimate / 2) return estimate;
    const gradient = Math.max(0.5, Math.min(1, (this.rttTolerance * longRtt) / rtt));
    const proposed = estimate * gradient + this.queueSize;
    const smoothed = estimate * (1 - this.smoothing) + proposed * this.smoothing;
    this.#estimate = Math.max(this.min, Math.min(this.max, smoothed));
    return this.#estimate;
  }
}

/** max(1, floor(log10(n))) for n >= 1: the step size of Vegas. */
export function log10Step(n: number): number {
  return n < 10 ? 1 : Math.max(1, Math.floor(Math.log10(Math.floor(n))));
}

/**
 * TCP Vegas applied to concurrency: estimates the queue from how far the RTT is above the
 * no-load RTT, and keeps it between alpha and beta.
 */
export class Vegas implements Rule {
  #estimate: number;
  /** The lowest RTT seen since the last probe; 0 until the first sample. */
  #rttNoLoad = 0;
  #probeCount = 0;
  #probeJitter: number;

  constructor(
    initial: number,
    private readonly min: number,
    private readonly max: number,
    private readonly smoothing: number,
    private readonly probeMultiplier: number,
    private readonly random: () => number,
  ) {
    this.#estimate = initial;
    this.#probeJitter = this.#jitter();
  }

  /** The no-load RTT now, in milliseconds (0 before the first sample). */
  get rttNoLoad(): number {
    return this.#rttNoLoad;
  }

  update(rtt: number, inflight: number, dropped: boolean): number {
    const estimate = this.#estimate;
    this.#probeCount++;
    // Forget the no-load RTT now and then: the dependency's floor may have risen for good
    // (a new region, a heavier query), and a stale minimum would read as a permanent queue.
    if (this.#probeJitter * this.probeMultiplier * estimate <= this.#probeCount) {
      this.#probeJitter = this.#jitter();
      this.#probeCount = 0;
      this.#rttNoLoad = rtt;
      return estimate;
    }
    if (this.#rttNoLoad === 0 || rtt < this.#rttNoLoad) {
      this.#rttNoLoad = rtt;
      return estimate;
    }
    const queue = Math.ceil(estimate * (1 - this.#rttNoLoad / rtt));
    const step = log10Step(estimate);
    let proposed: number;
    if (dropped) proposed = estimate - step;
    else if (inflight * 2 < estimate) return estimate;
    else if (queue <= step) proposed = estimate + 6 * step;
    else if (queue < 3 * step) proposed = estimate + step;
    else if (queue > 6 * step) proposed = estimate - step;
    else return estimate;
    proposed = Math.max(this.min, Math.min(this.max, proposed));
    this.#estimate = (1 - this.smoothing) * estimate + this.smoothing * proposed;
    return this.#estimate;
  }

  /** A factor in [0.5, 1), from the injected random source, which may be a poor one. */
  #jitter(): number {
    const r = this.random();
    return 0.5 + 0.5 * (r >= 0 && r < 1 ? r : 0.5);
  }
}
