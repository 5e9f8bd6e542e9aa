import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retryBudget } from './retry-budget.js';

type Op = { readonly op: 'call' } | { readonly op: 'retry' } | { readonly op: 'wait'; ms: number };

const ops = fc.array(
  fc.oneof(
    fc.constant<Op>({ op: 'call' }),
    fc.constant<Op>({ op: 'retry' }),
    fc.integer({ min: 0, max: 400 }).map((ms): Op => ({ op: 'wait', ms })),
  ),
  { maxLength: 400 },
);

/** Sizes chosen so the formula is exact in integers: ratio = percent / 100. */
const shapes = fc.record({
  percent: fc.integer({ min: 0, max: 150 }),
  perSecond: fc.integer({ min: 0, max: 5 }),
  windowMs: fc.integer({ min: 10, max: 3_000 }),
  buckets: fc.integer({ min: 1, max: 20 }),
});

interface Event {
  readonly at: number;
  readonly kind: 'call' | 'retry';
}

describe('retryBudget: properties', () => {
  it('grants exactly when the bucketed window allows it, and never more than the formula', () => {
    fc.assert(
      fc.property(shapes, ops, ({ percent, perSecond, windowMs, buckets }, sequence) => {
        let now = 0;
        // A clock moved by hand, in step with the model (VirtualClock moves asynchronously).
        const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
        const budget = retryBudget({
          clock,
          ratio: percent / 100,
          minRetriesPerSecond: perSecond,
          windowMs,
          buckets,
        });
        const events: Event[] = [];
        const bucketOf = (t: number): number =>
          (t * buckets - ((t * buckets) % windowMs)) / windowMs;
        // All in units of 1 / 100_000 of an attempt: allowance = percent/100 * calls + perSecond * windowMs / 1000.
        const allows = (calls: number, retries: number): boolean =>
          100_000 * retries <= 1_000 * percent * calls + 100 * perSecond * windowMs;
        for (const step of sequence) {
          if (step.op === 'wait') {
            now += step.ms;
            continue;
          }
          if (step.op === 'call') {
            budget.recordCall();
            events.push({ at: now, kind: 'call' });
            continue;
          }
          // The model: the newest bucket and the buckets - 1 before it.
          const oldest = bucketOf(now) - buckets + 1;
          const live = events.filter((e) => bucketOf(e.at) >= oldest);
          const calls = live.filter((e) => e.kind === 'call').length;
          const retries = live.length - calls;
          const expected = allows(calls, retries + 1);
          expect(budget.tryAcquire()).toBe(expected);
          if (!expected) continue;
          events.push({ at: now, kind: 'retry' });
          // Whatever the buckets: the grants of the last windowMs - windowMs / buckets fit the
          // formula applied to the calls of the last windowMs.
          const recentGrants = events.filter(
            (e) => e.kind === 'retry' && e.at * buckets >= (now - windowMs) * buckets + windowMs,
          ).length;
          const windowCalls = events.filter(
            (e) => e.kind === 'call' && e.at > now - windowMs,
          ).length;
          expect(allows(windowCalls, recentGrants)).toBe(true);
        }
        const stats = budget.stats();
        const oldest = bucketOf(now) - buckets + 1;
        const live = events.filter((e) => bucketOf(e.at) >= oldest);
        expect(stats.calls).toBe(live.filter((e) => e.kind === 'call').length);
        expect(stats.retries).toBe(live.filter((e) => e.kind === 'retry').length);
      }),
      { numRuns: 300 },
    );
  });
});
