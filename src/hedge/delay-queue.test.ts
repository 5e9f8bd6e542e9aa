import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { DelayQueue, type Due } from './delay-queue.js';

function entry(due: number, fired: number[]): Due {
  return {
    prev: undefined,
    next: undefined,
    queued: false,
    index: -1,
    due,
    expire() {
      fired.push(due);
    },
  };
}

describe('DelayQueue', () => {
  it('fires entries in due order, in or out of insertion order, from one timer', async () => {
    const clock = new VirtualClock();
    const queue = new DelayQueue(clock);
    const fired: number[] = [];
    for (const due of [50, 60, 20, 70, 30, 65]) queue.add(entry(due, fired));
    expect(queue.size).toBe(6);
    expect(clock.armedTimers).toBe(1);
    await clock.runAll();
    expect(fired).toEqual([20, 30, 50, 60, 65, 70]);
    expect(queue.size).toBe(0);
  });

  it('removed entries never fire; its one timer never keeps the process alive', async () => {
    const clock = new VirtualClock();
    const queue = new DelayQueue(clock);
    const fired: number[] = [];
    const a = entry(100, fired);
    const b = entry(40, fired);
    queue.add(a);
    queue.add(b);
    expect([clock.pendingTimers, clock.armedTimers]).toEqual([0, 1]);
    queue.remove(a);
    queue.remove(b);
    queue.remove(b);
    expect(queue.size).toBe(0);
    queue.add(entry(120, fired));
    expect(clock.armedTimers).toBe(1);
    await clock.runAll();
    expect(fired).toEqual([120]);
    expect(clock.armedTimers).toBe(0);
  });

  it('clears its timer when it empties on a clock that cannot unref', async () => {
    const clock = new VirtualClock();
    const plain = {
      now: () => clock.now(),
      setTimeout: (callback: () => void, ms: number) => clock.setTimeout(callback, ms),
      clearTimeout: (handle: unknown) => clock.clearTimeout(handle),
    };
    const queue = new DelayQueue(plain);
    const fired: number[] = [];
    const a = entry(100, fired);
    queue.add(a);
    expect(clock.pendingTimers).toBe(1);
    queue.remove(a);
    expect(clock.armedTimers).toBe(0);
    queue.add(entry(50, fired));
    await clock.runAll();
    expect(fired).toEqual([50]);
  });

  it('matches a sorted reference under random adds, removes and time steps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('add' as const), ms: fc.integer({ min: 1, max: 100 }) }),
            fc.record({ op: fc.constant('remove' as const), at: fc.nat() }),
            fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 60 }) }),
          ),
          { maxLength: 60 },
        ),
        async (ops) => {
          const clock = new VirtualClock();
          const queue = new DelayQueue(clock);
          const fired: number[] = [];
          let live: Due[] = [];
          for (const op of ops) {
            if (op.op === 'add') {
              const e = entry(clock.now() + op.ms, fired);
              queue.add(e);
              live.push(e);
            } else if (op.op === 'remove' && live.length > 0) {
              const e = live[op.at % live.length]!;
              queue.remove(e);
              live = live.filter((x) => x !== e);
            } else if (op.op === 'advance') {
              const until = clock.now() + op.ms;
              const due = live.filter((e) => e.due <= until).map((e) => e.due);
              fired.length = 0;
              await clock.advance(op.ms);
              expect(fired).toEqual(due.sort((x, y) => x - y));
              live = live.filter((e) => e.due > until);
            }
            expect(queue.size).toBe(live.length);
            expect(clock.armedTimers).toBeLessThanOrEqual(1);
            if (live.length > 0) expect(clock.armedTimers).toBe(1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
