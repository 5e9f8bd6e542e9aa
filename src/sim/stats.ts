/** Latency percentiles in milliseconds (nearest rank); all 0 when `count` is 0. */
export interface Percentiles {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** A growable list of samples, sorted once at the end. */
export class Samples {
  #values = new Float64Array(1024);
  #length = 0;

  add(value: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = value;
  }

  get length(): number {
    return this.#length;
  }

  percentiles(): Percentiles {
    const n = this.#length;
    if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    const sorted = this.#values.slice(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i]!;
    const at = (q: number): number => round(sorted[Math.max(0, Math.ceil(q * n) - 1)]!);
    return {
      count: n,
      mean: round(sum / n),
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      p999: at(0.999),
      max: round(sorted[n - 1]!),
    };
  }
}

/** Rounds to a microsecond, so results print and compare cleanly. */
export function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** One bucket of the time series. Counts are of calls that arrived or ended in the bucket. */
export interface SeriesBucket {
  /** Bucket start, ms from the simulation's start. */
  readonly startMs: number;
  /** Logical calls that arrived. */
  readonly offered: number;
  /** Calls that succeeded within their deadline (goodput). */
  readonly succeeded: number;
  /** Calls that ended any other way (failed, refused, late, substituted). */
  readonly failed: number;
  /** Attempts that reached the dependency. */
  readonly attempts: number;
  /** p99 latency of the bucket's good calls, ms (0 when none). */
  readonly p99Ms: number;
  /** Mean number of calls in service in the dependency (abandoned work included). */
  readonly inService: number;
  /** Mean number of calls waiting in the dependency's queue. */
  readonly queued: number;
}

/** Per-bucket counters; time-weighted levels are integrated as they change. */
export class Series {
  readonly #bucketMs: number;
  readonly #start: number;
  readonly #offered: number[] = [];
  readonly #succeeded: number[] = [];
  readonly #failed: number[] = [];
  readonly #attempts: number[] = [];
  readonly #latencies: Samples[] = [];
  readonly #inServiceArea: number[] = [];
  readonly #queuedArea: number[] = [];
  #levelSince: number;
  #inService = 0;
  #queued = 0;

  constructor(start: number, bucketMs: number) {
    this.#start = start;
    this.#bucketMs = bucketMs;
    this.#levelSince = start;
  }

  #bucket(now: number): number {
    return Math.floor((now - this.#start) / this.#bucketMs);
  }

  offered(now: number): void {
    bump(this.#offered, this.#bucket(now));
  }

  attempt(now: number): void {
    bump(this.#attempts, this.#bucket(now));
  }

  ended(now: number, good: boolean, latencyMs: number): void {
    const bucket = this.#bucket(now);
    if (good) {
      bump(this.#succeeded, bucket);
      let samples = this.#latencies[bucket];
      if (samples === undefined) {
        samples = new Samples();
        this.#latencies[bucket] = samples;
      }
      samples.add(latencyMs);
    } else {
      bump(this.#failed, bucket);
    }
  }

  /** The dependency's levels changed at `now`: integrate the old ones up to it. */
  level(now: number, inService: number, queued: number): void {
    this.#integrate(now);
    this.#inService = inService;
    this.#queued = queued;
  }

  #integrate(now: number): void {
    let since = this.#levelSince;
    if (now <= since) return;
    if (this.#inService !== 0 || this.#queued !== 0) {
      while (since < now) {
        const bucket = this.#bucket(since);
        const end = Math.min(now, this.#start + (bucket + 1) * this.#bucketMs);
        const span = end - since;
        this.#inServiceArea[bucket] = (this.#inServiceArea[bucket] ?? 0) + this.#inService * span;
        this.#queuedArea[bucket] = (this.#queuedArea[bucket] ?? 0) + this.#queued * span;
        since = end;
      }
    }
    this.#levelSince = now;
  }

  buckets(end: number): SeriesBucket[] {
    this.#integrate(end);
    const count = Math.max(1, Math.ceil((end - this.#start) / this.#bucketMs));
    const out: SeriesBucket[] = [];
    for (let i = 0; i < count; i++) {
      const span = Math.min(this.#bucketMs, end - this.#start - i * this.#bucketMs);
      out.push({
        startMs: i * this.#bucketMs,
        offered: this.#offered[i] ?? 0,
        succeeded: this.#succeeded[i] ?? 0,
        failed: this.#failed[i] ?? 0,
        attempts: this.#attempts[i] ?? 0,
        p99Ms: this.#latencies[i]?.percentiles().p99 ?? 0,
        inService: round2((this.#inServiceArea[i] ?? 0) / span),
        queued: round2((this.#queuedArea[i] ?? 0) / span),
      });
    }
    return out;
  }
}

function bump(counts: number[], bucket: number): void {
  // Fill holes so the array stays packed.
  while (counts.length < bucket) counts.push(0);
  counts[bucket] = (counts[bucket] ?? 0) + 1;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
