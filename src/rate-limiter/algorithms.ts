import type { Linked } from '../core/linked-list.js';

/** How a limiter counts. */
export type RateLimitAlgorithm = 'gcra' | 'token-bucket' | 'sliding-window' | 'fixed-window';

/**
 * What one limiter enforces, handed to its store with every decision. Made once per limiter
 * and frozen, so a store may use it as a map key or cache what it derives from it.
 */
export interface RateLimitRule {
  /** The limiter's `name`: a remote store prefixes its keys with it. */
  readonly name: string;
  readonly algorithm: RateLimitAlgorithm;
  /** Units admitted per `intervalMs` in the long run. */
  readonly limit: number;
  readonly intervalMs: number;
  /** Units an idle bucket admits at once. */
  readonly burst: number;
}

/**
 * Decisions are exact to a nanosecond: arithmetic on milliseconds in floating point drifts by
 * far less, and a boundary that is exact on paper (three calls at 1000/3 ms apart) must not
 * tip over because of it.
 */
const EPS = 1e-6;

/**
 * The state of one key, one shape for every algorithm so the code that reads it stays
 * monomorphic. Also a node of the store's LRU line.
 *
 * - gcra: `a` = theoretical arrival time (tat).
 * - token-bucket: `a` = tokens (negative while calls are reserved ahead), `b` = when counted.
 * - fixed-window: `a` = start of the latest window holding units, `b` = its units.
 * - sliding-window: `a` = start of the latest window, `b` = the window before's units,
 *   `c` = its own units, `d` = the latest time a call was admitted or reserved for.
 */
export class Bucket implements Linked<Bucket> {
  prev: Bucket | undefined = undefined;
  next: Bucket | undefined = undefined;
  queued = false;
  a = 0;
  b = 0;
  c = 0;
  d = 0;
  /** When the bucket has refilled completely and is indistinguishable from a fresh one. */
  fullAt = 0;
  /** Counts consumptions, so a reservation can tell whether anything was taken after it. */
  version = 0;

  constructor(readonly key: string | undefined) {}
}

/** The outcome of one decision, written into an object the caller owns and reuses. */
export interface Verdict {
  allowed: boolean;
  /** Allowed: how long until the call may run (0 = now). Denied: until it would fit. */
  retryAfterMs: number;
  remaining: number;
  resetAfterMs: number;
}

/**
 * The derived numbers of a rule. Windows are `burst` units wide and last
 * `intervalMs * burst / limit`, so every algorithm admits `burst` at once when idle and
 * `limit` per `intervalMs` in the long run.
 */
export class Rates {
  /** Emission interval: ms per unit. */
  readonly t: number;
  /** GCRA's delay variation tolerance: how far ahead of now the tat may run. */
  readonly tau: number;
  /** Units per ms. */
  readonly rate: number;
  /** A window's length. */
  readonly window: number;
  readonly burst: number;
  readonly kind: 0 | 1 | 2 | 3;

  constructor(rule: RateLimitRule) {
    this.burst = rule.burst;
    this.t = rule.intervalMs / rule.limit;
    this.tau = this.t * rule.burst;
    this.rate = rule.limit / rule.intervalMs;
    this.window = this.t * rule.burst;
    this.kind =
      rule.algorithm === 'gcra'
        ? 0
        : rule.algorithm === 'token-bucket'
          ? 1
          : rule.algorithm === 'fixed-window'
            ? 2
            : 3;
  }
}

/** Sets `bucket` to the state of a key never seen, at `now`. */
export function reset(bucket: Bucket, rates: Rates, now: number): void {
  bucket.a = rates.kind === 0 ? now : rates.kind === 1 ? rates.burst : windowOf(now, rates.window);
  bucket.b = rates.kind === 1 ? now : 0;
  bucket.c = 0;
  bucket.d = now;
  bucket.fullAt = now;
}

function windowOf(now: number, window: number): number {
  return Math.floor(now / window) * window;
}

function floorUnits(units: number): number {
  return units > 0 ? Math.floor(units + EPS) : 0;
}

/**
 * Decides whether `cost` units fit `bucket` at `now`, or within `maxDelayMs` of it, and when
 * `consume` is set and they do, takes them (a reservation when the call must wait). Writes the
 * outcome into `out`; returns whether the bucket changed. Never allocates.
 */
export function decide(
  bucket: Bucket,
  rates: Rates,
  cost: number,
  now: number,
  consume: boolean,
  maxDelayMs: number,
  out: Verdict,
): boolean {
  switch (rates.kind) {
    case 0:
      return gcra(bucket, rates, cost, now, consume, maxDelayMs, out);
    case 1:
      return tokenBucket(bucket, rates, cost, now, consume, maxDelayMs, out);
    case 2:
      return fixedWindow(bucket, rates, cost, now, consume, maxDelayMs, out);
    default:
      return slidingWindow(bucket, rates, cost, now, consume, maxDelayMs, out);
  }
}

/** redis-cell's GCRA, with `burst` = its max_burst + 1. */
function gcra(
  bucket: Bucket,
  rates: Rates,
  cost: number,
  now: number,
  consume: boolean,
  maxDelayMs: number,
  out: Verdict,
): boolean {
  const { t, tau } = rates;
  const tat = bucket.a > now ? bucket.a : now;
  const newTat = tat + t * cost;
  let delay = newTat - tau - now;
  if (delay <= EPS) delay = 0;
  if (delay > maxDelayMs) {
    out.allowed = false;
    out.retryAfterMs = delay;
    out.remaining = floorUnits((tau - (tat - now)) / t);
    out.resetAfterMs = tat - now;
    return false;
  }
  out.allowed = true;
  out.retryAfterMs = delay;
  out.remaining = floorUnits((tau - (newTat - now)) / t);
  out.resetAfterMs = newTat - now;
  if (!consume) return false;
  bucket.a = newTat;
  bucket.fullAt = newTat;
  return true;
}

/** Tokens refill at limit / intervalMs up to `burst`; a reservation leaves them in debt. */
function tokenBucket(
  bucket: Bucket,
  rates: Rates,
  cost: number,
  now: number,
  consume: boolean,
  maxDelayMs: number,
  out: Verdict,
): boolean {
  const { rate, burst } = rates;
  let tokens = bucket.a;
  if (now > bucket.b) {
    tokens += (now - bucket.b) * rate;
    if (tokens > burst) tokens = burst;
  }
  const after = tokens - cost;
  let delay = after < 0 ? -after / rate : 0;
  if (delay <= EPS) delay = 0;
  if (delay > maxDelayMs) {
    out.allowed = false;
    out.retryAfterMs = delay;
    out.remaining = floorUnits(tokens);
    out.resetAfterMs = (burst - tokens) / rate;
    return false;
  }
  out.allowed = true;
  out.retryAfterMs = delay;
  out.remaining = floorUnits(after);
  out.resetAfterMs = (burst - after) / rate;
  if (!consume) return false;
  bucket.a = after;
  if (now > bucket.b) bucket.b = now;
  bucket.fullAt = bucket.b + (burst - after) / rate;
  return true;
}

/**
 * Windows aligned on multiples of their length. A call that does not fit the latest window
 * goes whole into the next one (the rest of the latest stays unused), so no window ever runs
 * more than `burst` units and waiters keep their order.
 */
function fixedWindow(
  bucket: Bucket,
  rates: Rates,
  cost: number,
  now: number,
  consume: boolean,
  maxDelayMs: number,
  out: Verdict,
): boolean {
  const { window, burst } = rates;
  let start = bucket.a;
  let units = bucket.b;
  const current = windowOf(now, window);
  if (current > start) {
    start = current;
    units = 0;
  }
  if (units + cost > burst + EPS) {
    start += window;
    units = 0;
  }
  let delay = start - now;
  if (delay <= 0) delay = 0;
  if (delay > maxDelayMs) {
    out.allowed = false;
    out.retryAfterMs = delay;
    const held = bucket.a > current ? burst : bucket.a === current ? bucket.b : 0;
    out.remaining = floorUnits(burst - held);
    out.resetAfterMs = start - now;
    return false;
  }
  units += cost;
  out.allowed = true;
  out.retryAfterMs = delay;
  out.remaining = start > now ? 0 : floorUnits(burst - units);
  out.resetAfterMs = start + window - now;
  if (!consume) return false;
  bucket.a = start;
  bucket.b = units;
  bucket.fullAt = start + window;
  return true;
}

/**
 * Cloudflare's approximation of a sliding log: the units of the window before, weighted by
 * how much of it the sliding window still overlaps (whole units), plus the units of the
 * current one. A call is admitted at the earliest time that estimate leaves room for its cost.
 */
function slidingWindow(
  bucket: Bucket,
  rates: Rates,
  cost: number,
  now: number,
  consume: boolean,
  maxDelayMs: number,
  out: Verdict,
): boolean {
  const { window, burst } = rates;
  let start = bucket.a;
  let before = bucket.b;
  let units = bucket.c;
  // Calls are admitted in order: never before the latest admission or reservation.
  let at = bucket.d > now ? bucket.d : now;
  let remainingNow = -1;
  for (;;) {
    const current = windowOf(at, window);
    if (current > start) {
      before = current === start + window ? units : 0;
      units = 0;
      start = current;
    }
    // Whole units only, as RussellLuo/slidingwindow counts: with the fraction counted too, a
    // window under steady overload admits about one unit less than it holds.
    const estimate = Math.floor(before * (1 - (at - start) / window) + EPS) + units;
    if (remainingNow < 0) remainingNow = at > now ? 0 : floorUnits(burst - estimate);
    const room = burst - units - cost;
    if (room < -EPS) {
      // Not even the current window's own units leave room: the next window, at its start.
      at = start + window;
      continue;
    }
    if (estimate + cost <= burst + EPS) break;
    // Just after the old window's weighted units drop below the room left plus one.
    const fits =
      start + window * (1 - (Math.floor(room + EPS) + 1) / before) + (2 * EPS * window) / before;
    at = fits > at ? fits : at;
    if (at >= start + window) at = start + window;
    else break;
  }
  let delay = at - now;
  if (delay <= EPS) delay = 0;
  if (delay > maxDelayMs) {
    out.allowed = false;
    out.retryAfterMs = delay;
    out.remaining = remainingNow;
    out.resetAfterMs = bucket.fullAt > now ? bucket.fullAt - now : 0;
    return false;
  }
  units += cost;
  const fullAt = start + 2 * window;
  out.allowed = true;
  out.retryAfterMs = delay;
  out.remaining = at > now ? 0 : floorUnits(remainingNow - cost);
  out.resetAfterMs = fullAt - now;
  if (!consume) return false;
  bucket.a = start;
  bucket.b = before;
  bucket.c = units;
  bucket.d = at;
  bucket.fullAt = fullAt;
  return true;
}
