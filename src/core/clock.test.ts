import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoff, retry } from '../retry/index.js';
import { VirtualClock } from '../testing/index.js';
import { AbortScope } from './abort-scope.js';
import { sleep, systemClock } from './clock.js';

const DAY = 86_400_000;

describe('systemClock', () => {
  // Node's own timers, faked: they fire a delay over 2^31 - 1 ms after 1 ms, as Node does.
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits the whole of a delay longer than Node timers hold, and clears it', () => {
    vi.useFakeTimers();
    let fired = 0;
    systemClock.setTimeout(() => fired++, 30 * DAY);
    vi.advanceTimersByTime(30 * DAY - 1);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);

    const cleared = systemClock.setTimeout(() => fired++, 60 * DAY);
    vi.advanceTimersByTime(40 * DAY);
    systemClock.clearTimeout(cleared);
    vi.advanceTimersByTime(40 * DAY);
    expect(fired).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets a chained timer be unrefed and refed like a Node timer', () => {
    const timeouts = () =>
      process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timeouts();
    const handle = systemClock.setTimeout(() => {}, 30 * DAY);
    expect(timeouts()).toBe(before + 1);
    systemClock.unref!(handle);
    expect(timeouts()).toBe(before);
    systemClock.ref!(handle);
    expect(timeouts()).toBe(before + 1);
    systemClock.clearTimeout(handle);
    expect(timeouts()).toBe(before);
  });

  it('never fires an infinite delay', () => {
    vi.useFakeTimers();
    let fired = 0;
    const handle = systemClock.setTimeout(() => fired++, Number.POSITIVE_INFINITY);
    vi.advanceTimersByTime(1000 * DAY);
    expect(fired).toBe(0);
    systemClock.clearTimeout(handle);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('makes a retry on it wait the whole of a 30-day backoff', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let attempts = 0;
    const call = retry({ maxAttempts: 2, backoff: backoff.constant(30 * DAY) }).execute(() => {
      attempts++;
      if (attempts === 1) throw new Error('first');
      return 'second';
    });
    await vi.advanceTimersByTimeAsync(DAY);
    expect(attempts).toBe(1);
    await vi.advanceTimersByTimeAsync(29 * DAY);
    expect(await call).toBe('second');
    expect(attempts).toBe(2);
  });

  it('hands out Node timers for ordinary delays', () => {
    const handle = systemClock.setTimeout(() => {}, 10);
    try {
      expect(typeof (handle as NodeJS.Timeout).hasRef).toBe('function');
    } finally {
      systemClock.clearTimeout(handle);
    }
  });
});

describe('sleep', () => {
  it('resolves at once for 0 ms, arming no timer', async () => {
    const clock = new VirtualClock();
    await sleep(clock, 0);
    expect(clock.armedTimers).toBe(0);
  });

  it('rejects at once with the reason of a scope that has aborted', async () => {
    const clock = new VirtualClock();
    const scope = new AbortScope();
    scope.abort('stop');
    await expect(sleep(clock, 0, scope)).rejects.toBe('stop');
    expect(clock.armedTimers).toBe(0);
  });
});
