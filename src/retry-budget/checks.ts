import { invalid } from '../core/validate.js';

/** A finite number >= `min`. */
export function checkFinite(policy: string, option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw invalid(policy, option, value, `a finite number >= ${min}`);
  }
  return value;
}

/** Most buckets a window may have: each costs two array slots, and ageing walks them. */
export const MAX_BUCKETS = 1000;

/** A window's length (finite, > 0 ms) and its bucket count (an integer from 1 to 1000). */
export function checkWindow(
  policy: string,
  windowMs: unknown,
  buckets: unknown,
): { windowMs: number; buckets: number } {
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || !(windowMs > 0)) {
    throw invalid(policy, 'windowMs', windowMs, 'a finite number of milliseconds > 0');
  }
  if (
    !Number.isSafeInteger(buckets) ||
    (buckets as number) < 1 ||
    (buckets as number) > MAX_BUCKETS
  ) {
    throw invalid(policy, 'buckets', buckets, `an integer from 1 to ${MAX_BUCKETS}`);
  }
  return { windowMs, buckets: buckets as number };
}
