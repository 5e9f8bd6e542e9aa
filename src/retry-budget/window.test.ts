import { describe, expect, it } from 'vitest';
import { SlidingPair } from './window.js';

function add(window: SlidingPair, now: number, first = 1, second = 0): void {
  window.advance(now);
  for (let i = 0; i < first; i++) window.addFirst();
  for (let i = 0; i < second; i++) window.addSecond();
}

describe('SlidingPair', () => {
  it('keeps a count for one window length, dropping it bucket by bucket', () => {
    // 1000 ms in 4 buckets of 250 ms.
    const window = new SlidingPair(1000, 4);
    add(window, 0, 1, 1);
    add(window, 260, 2);
    add(window, 999, 4, 2);
    expect([window.first, window.second]).toEqual([7, 3]);
    // Bucket 0 ([0, 250)) leaves when bucket 4 begins, at 1000.
    window.advance(999.9);
    expect([window.first, window.second]).toEqual([7, 3]);
    window.advance(1000);
    expect([window.first, window.second]).toEqual([6, 2]);
    // Bucket 1 ([250, 500)) leaves at 1250; bucket 3 ([750, 1000)) at 1750.
    window.advance(1250);
    expect([window.first, window.second]).toEqual([4, 2]);
    window.advance(1749);
    expect([window.first, window.second]).toEqual([4, 2]);
    window.advance(1750);
    expect([window.first, window.second]).toEqual([0, 0]);
  });

  it('empties at once after an idle gap longer than the window', () => {
    const window = new SlidingPair(1000, 4);
    add(window, 10, 5, 5);
    add(window, 5000, 1);
    expect([window.first, window.second]).toEqual([1, 0]);
  });

  it('reuses the ring after many turns and keeps the totals equal to the live buckets', () => {
    const window = new SlidingPair(100, 10);
    for (let t = 0; t < 10_000; t += 7) add(window, t, 1, t % 2);
    // The last 10 buckets of 10 ms: times 9900 to 9996 hold calls at 9905, 9912, ..., 9996.
    const live = [];
    for (let t = 0; t < 10_000; t += 7) if (t >= 9900) live.push(t);
    expect(window.first).toBe(live.length);
    expect(window.second).toBe(live.filter((t) => t % 2 === 1).length);
  });

  it('treats a clock that steps back as standing still', () => {
    const window = new SlidingPair(1000, 4);
    add(window, 600);
    add(window, 100);
    expect(window.first).toBe(2);
    // Both counts sit in the bucket of 600 ([500, 750)), which leaves at 1500.
    window.advance(1499);
    expect(window.first).toBe(2);
    window.advance(1500);
    expect(window.first).toBe(0);
  });

  it('works on negative and fractional times and with one bucket', () => {
    const window = new SlidingPair(0.3, 3);
    add(window, -0.25);
    add(window, -0.05);
    window.advance(-0.001);
    expect(window.first).toBe(2);
    // -0.25 is in bucket [-0.3, -0.2), which leaves when bucket [0, 0.1) begins.
    window.advance(0);
    expect(window.first).toBe(1);
    window.advance(0.2);
    expect(window.first).toBe(0);
    const single = new SlidingPair(50, 1);
    add(single, 49);
    expect(single.first).toBe(1);
    single.advance(50);
    expect(single.first).toBe(0);
  });
});
