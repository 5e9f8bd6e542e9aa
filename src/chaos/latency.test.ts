import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
import { VirtualClock } from '../testing/virtual-clock.js';
import { timeout } from '../timeout/timeout.js';
import { chaos } from './chaos.js';

/** A task that records the virtual time it started at. */
function recorder(clock: VirtualClock) {
  const starts: number[] = [];
  const task = () => {
    starts.push(clock.now());
    return 'done';
  };
  return { starts, task };
}

describe('chaos.latency', () => {
  it('waits ms on its clock before running the call', async () => {
    const clock = new VirtualClock();
    const { starts, task } = recorder(clock);
    const policy = chaos.latency({ rate: 1, ms: 250, clock });
    const details: unknown[] = [];
    policy.on('latency', (detail) => details.push(detail));
    const call = policy.execute(task, { key: 'k' });
    await clock.advance(249);
    expect(starts).toEqual([]);
    await clock.advance(1);
    await expect(call).resolves.toBe('done');
    expect(starts).toEqual([250]);
    expect(details).toEqual([{ key: 'k', experiment: undefined, ms: 250 }]);
    expect(clock.armedTimers).toBe(0);
  });

  it('waits 30 s by default, as Simmy', async () => {
    const clock = new VirtualClock();
    const { starts, task } = recorder(clock);
    const call = chaos.latency({ rate: 1, clock }).execute(task);
    await clock.runAll();
    await call;
    expect(starts).toEqual([30_000]);
  });

  it('asks an ms function per call; 0 leaves the call alone and reports nothing', async () => {
    const clock = new VirtualClock();
    const { starts, task } = recorder(clock);
    const policy = chaos.latency({ rate: 1, ms: (ctx) => (ctx.key === 'slow' ? 500 : 0), clock });
    let events = 0;
    policy.on('latency', () => events++);
    await expect(policy.execute(task, { key: 'fast' })).resolves.toBe('done');
    const slow = policy.execute(task, { key: 'slow' });
    await clock.advance(500);
    await slow;
    expect(starts).toEqual([0, 500]);
    expect(events).toBe(1);
  });

  it('rejects the call, unrun, when the ms function answers badly', async () => {
    const { starts, task } = recorder(new VirtualClock());
    for (const ms of [-1, Number.NaN, '10', undefined]) {
      const policy = chaos.latency({ rate: 1, ms: () => ms as number });
      await expect(policy.execute(task)).rejects.toThrow(
        /chaos-latency: option "ms" returned .* for this call; expected a number of milliseconds >= 0 or Infinity/,
      );
    }
    expect(starts).toEqual([]);
  });

  it("ends at once on the caller's abort, with its reason, leaving no timer", async () => {
    const clock = new VirtualClock();
    const { starts, task } = recorder(clock);
    const controller = new AbortController();
    const call = chaos
      .latency({ rate: 1, ms: 10_000, clock })
      .execute(task, { signal: controller.signal });
    await clock.advance(100);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(clock.armedTimers).toBe(0);
    expect(starts).toEqual([]);
  });

  it.each(['cooperative', 'aggressive'] as const)(
    'is ended by an enclosing %s timeout at its deadline, leaving no timer',
    async (strategy) => {
      const clock = new VirtualClock();
      const { starts, task } = recorder(clock);
      const policy = pipeline(
        timeout(1_000, { strategy, clock }),
        chaos.latency({ rate: 1, ms: 5_000, clock }),
      );
      const call = policy.execute(task);
      const rejected = expect(call).rejects.toBeInstanceOf(TimeoutError);
      await clock.advance(1_000);
      await rejected;
      expect(starts).toEqual([]);
      expect(clock.pendingTimers).toBe(0);
      // The one timer left is the timeout's shared deadline timer, unref'd between calls.
      expect(clock.armedTimers).toBeLessThanOrEqual(1);
    },
  );

  it("is injected in full past the call's deadline when nothing enforces it", async () => {
    const clock = new VirtualClock();
    const { starts, task } = recorder(clock);
    const call = chaos.latency({ rate: 1, ms: 1_000, clock }).execute(task, { deadline: 100 });
    await clock.advance(1_000);
    await expect(call).resolves.toBe('done');
    expect(starts).toEqual([1_000]);
  });

  it('hangs for an infinite latency until a timeout ends it', async () => {
    const clock = new VirtualClock();
    const { starts, task } = recorder(clock);
    const policy = pipeline(
      timeout(2_000, { clock }),
      chaos.latency({ rate: 1, ms: Number.POSITIVE_INFINITY, clock }),
    );
    const call = policy.execute(task);
    const rejected = expect(call).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(2_000);
    await rejected;
    expect(starts).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});
