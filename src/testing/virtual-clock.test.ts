import { describe, expect, it } from 'vitest';
import { VirtualClock } from './virtual-clock.js';

describe('VirtualClock', () => {
  it('fires timers in due order, ties in the order they were set', async () => {
    const clock = new VirtualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    clock.setTimeout(() => fired.push('c'), 20);
    await clock.advance(15);
    expect(fired).toEqual(['a']);
    expect(clock.now()).toBe(1015);
    await clock.advance(5);
    expect(fired).toEqual(['a', 'b', 'c']);
  });

  it('fires a 0 ms timer on the next advance and never fires an infinite one', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('never'), Number.POSITIVE_INFINITY);
    clock.setTimeout(() => fired.push('now'), 0);
    await clock.advance(0);
    expect(fired).toEqual(['now']);
    await clock.runAll();
    await clock.next();
    expect(fired).toEqual(['now']);
    expect(clock.now()).toBe(0);
    expect(clock.pendingTimers).toBe(1);
  });

  it('holds a 30-day timer for 30 days', async () => {
    const clock = new VirtualClock();
    let fired = false;
    clock.setTimeout(() => {
      fired = true;
    }, 30 * 86_400_000);
    await clock.advance(30 * 86_400_000 - 1);
    expect(fired).toBe(false);
    await clock.advance(1);
    expect(fired).toBe(true);
  });
});
