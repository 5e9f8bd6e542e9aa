import { describe, expect, it } from 'vitest';
import { backoff, retry } from '../retry/index.js';
import { VirtualClock } from '../testing/index.js';
import { type RetryBudgetOptions, retryBudget } from './retry-budget.js';

/**
 * 1000 calls, one every 9 ms, to a dependency that fails every attempt; each call may make 3
 * attempts, 50 ms apart. All of it, retries included, happens within 9.1 s, inside one 10 s
 * window. Counts the attempts that reached the dependency and the give-up reasons. Without
 * `budgetOptions`, the retry has no budget.
 */
async function outage(budgetOptions?: RetryBudgetOptions) {
  const clock = new VirtualClock();
  const budget = budgetOptions && retryBudget({ ...budgetOptions, clock });
  const policy = retry({ clock, maxAttempts: 3, backoff: backoff.constant(50), budget });
  const reasons: Record<string, number> = {};
  policy.on('giveUp', (e) => {
    reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
  });
  let attempts = 0;
  const fail = (): Promise<never> => {
    attempts++;
    return Promise.reject(new Error('down'));
  };
  const settled: Promise<unknown>[] = [];
  for (let i = 0; i < 1000; i++) {
    settled.push(policy.execute(fail).catch(() => undefined));
    await clock.advance(9);
  }
  await clock.runAll();
  await Promise.all(settled);
  return { attempts, reasons, stats: budget?.stats() };
}

describe('retry with a retry budget under a full outage', () => {
  it('without a budget, multiplies the load by maxAttempts', async () => {
    const { attempts, reasons } = await outage();
    expect(attempts).toBe(3000);
    expect(reasons).toEqual({ maxAttempts: 1000 });
  });

  it('with ratio 0.2 and no floor, adds at most 20% to the calls', async () => {
    const { attempts, reasons } = await outage({ ratio: 0.2, minRetriesPerSecond: 0 });
    expect(attempts).toBeLessThanOrEqual(1.2 * 1000);
    // The budget is used, not idle: retries run up to about the ratio.
    expect(attempts).toBeGreaterThanOrEqual(1.19 * 1000);
    expect(reasons.budget).toBeGreaterThan(900);
    expect(reasons.budget! + (reasons.maxAttempts ?? 0)).toBe(1000);
  });

  it('with the default floor, adds at most ratio * calls + 10 per second of the window', async () => {
    const { attempts } = await outage({});
    // 1000 + 0.2 * 1000 + 10 per second of the 10 s window.
    expect(attempts).toBeLessThanOrEqual(1000 + 200 + 100);
    expect(attempts).toBeGreaterThanOrEqual(1290);
  });

  it('lets every retry through while failures are rare', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ clock, minRetriesPerSecond: 0 });
    const policy = retry({ clock, maxAttempts: 3, backoff: backoff.constant(0), budget });
    let n = 0;
    // Every tenth call fails once, then succeeds on its retry: 10% extra load, under 20%.
    for (let i = 0; i < 500; i++) {
      const fails = i % 10 === 9;
      let failed = false;
      await policy.execute(() => {
        n++;
        if (fails && !failed) {
          failed = true;
          throw new Error('blip');
        }
        return 'ok';
      });
      await clock.advance(10);
    }
    expect(n).toBe(550);
    expect(budget.stats()).toMatchObject({ retries: 50 });
  });
});
