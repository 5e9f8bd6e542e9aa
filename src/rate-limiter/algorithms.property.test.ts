import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { type RateLimitAlgorithm, type RateLimitDecision, rateLimiter } from './index.js';

/** Arrivals: gaps in whole ms from the previous one (the first at the limiter's start). */
const arrivals = fc.array(
  fc.record({ gap: fc.integer({ min: 0, max: 400 }), cost: fc.integer({ min: 0, max: 4 }) }),
  { minLength: 1, maxLength: 120 },
);

/** A rule whose window length, intervalMs * burst / limit, is a whole number of ms. */
const rules = fc
  .record({
    limit: fc.integer({ min: 1, max: 20 }),
    per: fc.integer({ min: 1, max: 100 }),
    burst: fc.integer({ min: 4, max: 12 }),
    start: fc.integer({ min: 0, max: 2_000_000_000_000 }),
  })
  .map(({ limit, per, burst, start }) => ({ limit, intervalMs: limit * per, burst, start }));

type Rule = { limit: number; intervalMs: number; burst: number; start: number };

/** Replays the arrivals through a limiter's store, as execute and consume do. */
function replay(
  algorithm: RateLimitAlgorithm,
  rule: Rule,
  calls: { gap: number; cost: number }[],
): RateLimitDecision[] {
  const policy = rateLimiter({ ...rule, algorithm, clock: new VirtualClock() });
  let now = rule.start;
  // The store counts time from the first decision it makes: a peek at the start.
  policy.store.decide(policy.rule, 'k', 0, now, false, 0);
  return calls.map(({ gap, cost }) => {
    now += gap;
    return policy.store.decide(policy.rule, 'k', cost, now, true, 0) as RateLimitDecision;
  });
}

/**
 * GCRA in whole numbers: times scaled by `limit`, so the emission interval is `intervalMs` and
 * nothing is rounded. A token bucket of `burst` refilled at limit / intervalMs decides alike.
 */
function gcraModel(rule: Rule, calls: { gap: number; cost: number }[]) {
  const t = rule.intervalMs;
  const tau = t * rule.burst;
  let tat = 0;
  let now = 0;
  return calls.map(({ gap, cost }) => {
    now += gap * rule.limit;
    const newTat = Math.max(tat, now) + t * cost;
    const wait = newTat - tau - now;
    if (wait > 0) return { allowed: false, retryAfterMs: wait / rule.limit };
    tat = newTat;
    return { allowed: true, retryAfterMs: 0 };
  });
}

describe('algorithms against reference models', () => {
  it.each(['gcra', 'token-bucket'] as const)(
    '%s admits exactly what whole-number GCRA admits, and says when',
    (algorithm) => {
      fc.assert(
        fc.property(rules, arrivals, (rule, calls) => {
          const got = replay(algorithm, rule, calls);
          const want = gcraModel(rule, calls);
          expect(got.map((d) => d.allowed)).toEqual(want.map((d) => d.allowed));
          got.forEach((d, i) => {
            expect(d.retryAfterMs).toBeCloseTo(want[i]!.retryAfterMs, 6);
          });
        }),
        { numRuns: 300 },
      );
    },
  );

  it('fixed-window: no aligned window admits more than burst, and a refusal had no room', () => {
    fc.assert(
      fc.property(rules, arrivals, (rule, calls) => {
        const window = (rule.intervalMs * rule.burst) / rule.limit;
        const got = replay('fixed-window', rule, calls);
        const used = new Map<number, number>();
        let now = 0;
        calls.forEach(({ gap, cost }, i) => {
          now += gap;
          const w = Math.floor(now / window);
          const before = used.get(w) ?? 0;
          expect(got[i]!.allowed).toBe(before + cost <= rule.burst);
          if (got[i]!.allowed) used.set(w, before + cost);
          expect(used.get(w) ?? 0).toBeLessThanOrEqual(rule.burst);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('sliding-window: admits exactly when the weighted estimate leaves room', () => {
    fc.assert(
      fc.property(rules, arrivals, (rule, calls) => {
        const window = (rule.intervalMs * rule.burst) / rule.limit;
        const got = replay('sliding-window', rule, calls);
        const used = new Map<number, number>();
        let now = 0;
        calls.forEach(({ gap, cost }, i) => {
          now += gap;
          const w = Math.floor(now / window);
          const into = now - w * window;
          const previous = used.get(w - 1) ?? 0;
          const current = used.get(w) ?? 0;
          // floor(prev * (1 - into / window)) + current + cost <= burst, in whole numbers.
          const share = previous * (window - into);
          const weighted = (share - (share % window)) / window;
          const fits = weighted + current + cost <= rule.burst;
          expect(got[i]!.allowed).toBe(fits);
          if (fits) used.set(w, current + cost);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('reservations (wait mode) against the same rules', () => {
  /** Replays arrivals that all wait as long as needed; returns when each one runs. */
  function schedule(
    algorithm: RateLimitAlgorithm,
    rule: Rule,
    calls: { gap: number; cost: number }[],
  ) {
    const policy = rateLimiter({ ...rule, algorithm, clock: new VirtualClock() });
    let now = rule.start;
    policy.store.decide(policy.rule, 'k', 0, now, false, 0);
    return calls.map(({ gap, cost }) => {
      now += gap;
      const d = policy.store.decide(
        policy.rule,
        'k',
        cost,
        now,
        true,
        Infinity,
      ) as RateLimitDecision;
      expect(d.allowed).toBe(true);
      return now - rule.start + d.retryAfterMs;
    });
  }

  it.each(['fixed-window', 'sliding-window'] as const)(
    '%s runs reserved calls in arrival order, each where the rule admits it',
    (algorithm) => {
      fc.assert(
        fc.property(rules, arrivals, (rule, calls) => {
          const window = (rule.intervalMs * rule.burst) / rule.limit;
          const at = schedule(algorithm, rule, calls);
          const used = new Map<number, number>();
          calls.forEach(({ cost }, i) => {
            const t = at[i]!;
            if (i > 0) expect(t).toBeGreaterThanOrEqual(at[i - 1]!);
            const w = Math.floor(t / window + 1e-9);
            const current = used.get(w) ?? 0;
            if (algorithm === 'fixed-window') {
              expect(current + cost).toBeLessThanOrEqual(rule.burst);
            } else {
              const weighted = Math.floor(
                (used.get(w - 1) ?? 0) * (1 - (t - w * window) / window) + 1e-6,
              );
              expect(weighted + current + cost).toBeLessThanOrEqual(rule.burst);
            }
            used.set(w, current + cost);
          });
        }),
        { numRuns: 300 },
      );
    },
  );
});

describe('accuracy at three times the limit', () => {
  const limit = 100;
  const intervalMs = 1000;

  /** Admitted units over 60 s of virtual time, one call every 10/3 ms (300 a second). */
  async function admittedOver60s(algorithm: RateLimitAlgorithm, burst: number): Promise<number> {
    const clock = new VirtualClock(1_700_000_000_000);
    const policy = rateLimiter({ limit, intervalMs, burst, algorithm, clock });
    let admitted = 0;
    const run = (): void => {
      admitted++;
    };
    const refused = (): void => {};
    for (let i = 0; i < 18_000; i++) {
      await policy.execute(run).catch(refused);
      await clock.advance(10 / 3);
    }
    return admitted;
  }

  it.each([
    ['gcra', 100],
    ['token-bucket', 100],
    ['gcra', 20],
    ['token-bucket', 20],
    ['fixed-window', 20],
    ['sliding-window', 20],
  ] as const)(
    '%s with burst %i stays within 1% of limit * time / intervalMs + burst',
    async (algorithm, burst) => {
      const admitted = await admittedOver60s(algorithm, burst);
      const expected = (limit * 60_000) / intervalMs + burst;
      expect(Math.abs(admitted - expected) / expected).toBeLessThanOrEqual(0.01);
    },
  );

  it.each(['fixed-window', 'sliding-window'] as const)(
    '%s with burst = limit stays between limit * time / intervalMs (-1%) and that + burst',
    async (algorithm) => {
      // A window admits its burst when it opens, so where the run ends in a window decides
      // how much of the last burst is counted: here, none of it.
      const admitted = await admittedOver60s(algorithm, 100);
      const steady = (limit * 60_000) / intervalMs;
      expect(admitted).toBeGreaterThanOrEqual(steady * 0.99);
      expect(admitted).toBeLessThanOrEqual(steady + 100);
    },
  );
});
