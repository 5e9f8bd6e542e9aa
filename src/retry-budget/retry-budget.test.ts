import { describe, expect, it } from 'vitest';
import { isAttemptBudget } from '../core/budget.js';
import { VirtualClock } from '../testing/index.js';
import { retryBudget } from './retry-budget.js';

/** Grants asked for one after the other until the budget says no; the budget keeps them. */
function drain(budget: { tryAcquire(): boolean }, most = 100_000): number {
  let granted = 0;
  while (granted < most && budget.tryAcquire()) granted++;
  return granted;
}

function calls(budget: { recordCall(): void }, n: number): void {
  for (let i = 0; i < n; i++) budget.recordCall();
}

describe('retryBudget: arithmetic', () => {
  it('grants ratio * calls extra attempts when there is no floor', () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ clock, ratio: 0.2, minRetriesPerSecond: 0 });
    expect(budget.tryAcquire()).toBe(false);
    calls(budget, 4);
    // 0.2 * 4 = 0.8: not enough for one.
    expect(budget.tryAcquire()).toBe(false);
    budget.recordCall();
    expect(drain(budget)).toBe(1);
    calls(budget, 10);
    expect(drain(budget)).toBe(2);
    expect(budget.stats()).toEqual({ calls: 15, retries: 3, available: 0 });
  });

  it('adds minRetriesPerSecond * windowMs / 1000 as a floor', () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ clock, ratio: 0.5, minRetriesPerSecond: 2, windowMs: 3_000 });
    expect(budget.stats()).toEqual({ calls: 0, retries: 0, available: 6 });
    expect(drain(budget)).toBe(6);
    calls(budget, 7);
    // 0.5 * 7 + 6 = 9.5: three more.
    expect(budget.stats()).toEqual({ calls: 7, retries: 6, available: 3 });
    expect(drain(budget)).toBe(3);
  });

  it('refuses everything with ratio 0 and no floor, and counts nothing it refuses', () => {
    const budget = retryBudget({ clock: new VirtualClock(), ratio: 0, minRetriesPerSecond: 0 });
    calls(budget, 1000);
    expect(drain(budget)).toBe(0);
    expect(budget.stats()).toEqual({ calls: 1000, retries: 0, available: 0 });
  });

  it('allows ratios above 1, e.g. for hedging every call', () => {
    const budget = retryBudget({ clock: new VirtualClock(), ratio: 2, minRetriesPerSecond: 0 });
    calls(budget, 3);
    expect(drain(budget)).toBe(6);
  });

  it('is not cheated of a grant by float error (0.29 * 100 is 28.999999999999996)', () => {
    expect(0.29 * 100).toBeLessThan(29);
    const budget = retryBudget({ clock: new VirtualClock(), ratio: 0.29, minRetriesPerSecond: 0 });
    calls(budget, 100);
    expect(budget.stats().available).toBe(29);
    expect(drain(budget)).toBe(29);
  });
});

describe('retryBudget: the window', () => {
  it('forgets calls and retries bucket by bucket as the window slides', async () => {
    const clock = new VirtualClock();
    // 10 s in 10 buckets of 1 s.
    const budget = retryBudget({ clock, ratio: 0.5, minRetriesPerSecond: 0 });
    calls(budget, 10);
    expect(drain(budget)).toBe(5);
    await clock.advance(5_000);
    calls(budget, 4);
    expect(drain(budget)).toBe(2);
    expect(budget.stats()).toEqual({ calls: 14, retries: 7, available: 0 });
    // At 10 s the first second's bucket leaves: its 10 calls and 5 retries with it.
    await clock.advance(4_999);
    expect(budget.stats().calls).toBe(14);
    await clock.advance(1);
    expect(budget.stats()).toEqual({ calls: 4, retries: 2, available: 0 });
    await clock.advance(5_000);
    expect(budget.stats()).toEqual({ calls: 0, retries: 0, available: 0 });
  });

  it('recovers from an outage: the retries it granted age out with their calls', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ clock, ratio: 0.1, minRetriesPerSecond: 1, windowMs: 1_000 });
    // 100 calls in the first 100 ms, every one wanting a retry: 0.1 * 100 + 1 = 11 granted.
    let granted = 0;
    for (let i = 0; i < 100; i++) {
      budget.recordCall();
      if (budget.tryAcquire()) granted++;
      await clock.advance(1);
    }
    expect(granted).toBe(11);
    await clock.advance(1_000);
    expect(budget.stats()).toEqual({ calls: 0, retries: 0, available: 1 });
  });

  it('counts calls on the window of the clock it was given (buckets option)', async () => {
    const clock = new VirtualClock(1_000_000);
    const budget = retryBudget({
      clock,
      ratio: 1,
      minRetriesPerSecond: 0,
      windowMs: 100,
      buckets: 1,
    });
    calls(budget, 3);
    await clock.advance(99);
    expect(budget.stats().calls).toBe(3);
    await clock.advance(1);
    expect(budget.stats().calls).toBe(0);
  });
});

describe('retryBudget: options', () => {
  it('has the documented defaults and satisfies AttemptBudget', () => {
    const budget = retryBudget();
    expect(isAttemptBudget(budget)).toBe(true);
    expect([budget.ratio, budget.minRetriesPerSecond, budget.windowMs, budget.buckets]).toEqual([
      0.2, 10, 10_000, 10,
    ]);
    expect(budget.stats()).toEqual({ calls: 0, retries: 0, available: 100 });
  });

  it.each([
    [{ ratio: -0.1 }, 'retryBudget: option "ratio" must be a finite number >= 0 (got -0.1)'],
    [{ ratio: Number.NaN }, 'option "ratio" must be a finite number >= 0 (got NaN)'],
    [{ ratio: Infinity }, 'option "ratio" must be a finite number >= 0 (got Infinity)'],
    [{ ratio: '0.2' }, 'option "ratio" must be a finite number >= 0 (got "0.2")'],
    [{ minRetriesPerSecond: -1 }, 'option "minRetriesPerSecond" must be a finite number >= 0'],
    [{ windowMs: 0 }, 'option "windowMs" must be a finite number of milliseconds > 0 (got 0)'],
    [{ windowMs: Infinity }, 'option "windowMs" must be a finite number of milliseconds > 0'],
    [{ buckets: 0 }, 'option "buckets" must be an integer from 1 to 1000 (got 0)'],
    [{ buckets: 2.5 }, 'option "buckets" must be an integer from 1 to 1000 (got 2.5)'],
    [{ buckets: 1001 }, 'option "buckets" must be an integer from 1 to 1000 (got 1001)'],
    [{ clock: {} }, 'retryBudget: option "clock" must be a Clock'],
  ])('refuses %j', (options, message) => {
    expect(() => retryBudget(options as never)).toThrow(TypeError);
    expect(() => retryBudget(options as never)).toThrow(message);
  });

  it('refuses options that are not an object, and leaves the options untouched', () => {
    expect(() => retryBudget(5 as never)).toThrow('retryBudget: options must be an object (got 5)');
    const options = Object.freeze({ ratio: 0.1 });
    expect(retryBudget(options).ratio).toBe(0.1);
  });
});
