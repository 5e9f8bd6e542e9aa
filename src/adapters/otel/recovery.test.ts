import { describe, expect, it } from 'vitest';
import { RecoveryTracker } from './recovery.js';

describe('RecoveryTracker', () => {
  it("times each of a keyed policy's breakers by its own key", () => {
    const tracker = new RecoveryTracker();
    expect(tracker.change('hosts', 'a', 'closed', 'open', 1_000)).toBeUndefined();
    expect(tracker.change('hosts', 'b', 'closed', 'open', 4_000)).toBeUndefined();
    expect(tracker.change('hosts', 'b', 'open', 'half-open', 9_000)).toBeUndefined();
    expect(tracker.change('hosts', 'b', 'half-open', 'closed', 9_500)).toBe(5.5);
    expect(tracker.change('hosts', 'a', 'half-open', 'closed', 11_000)).toBe(10);
  });

  it("ends a single breaker's episode whatever key the closing probe had", () => {
    const tracker = new RecoveryTracker();
    tracker.change('db', 'tenant-1', 'closed', 'open', 0);
    tracker.change('db', 'tenant-2', 'open', 'half-open', 5_000);
    tracker.change('db', 'tenant-2', 'half-open', 'open', 5_100); // the probe failed: same episode
    expect(tracker.change('db', 'tenant-3', 'half-open', 'closed', 12_000)).toBe(12);
    expect(tracker.change('db', 'tenant-3', 'half-open', 'closed', 13_000)).toBeUndefined();
  });

  it('counts isolation as open, and forgets the oldest episodes beyond 10,000', () => {
    const tracker = new RecoveryTracker();
    tracker.change('manual', undefined, 'closed', 'isolated', 0);
    for (let i = 0; i < 10_000; i++) tracker.change('hosts', `host-${i}`, 'closed', 'open', 1);
    expect(tracker.change('manual', undefined, 'isolated', 'closed', 2_000)).toBeUndefined();
    expect(tracker.change('hosts', 'host-9999', 'half-open', 'closed', 3_001)).toBe(3);
  });
});
