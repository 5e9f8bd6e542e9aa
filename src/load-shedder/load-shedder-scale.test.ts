import { describe, expect, it } from 'vitest';
import { LinkedList } from '../core/linked-list.js';
import { VirtualClock } from '../testing/index.js';
import { loadShedder } from './index.js';
import { flush } from './test-helpers.js';

/**
 * Counts every linked-list operation and head/tail/size read: the only work in a shedder that
 * could grow with its queue. Work, not wall time: the same count on any machine.
 */
function workMeter() {
  let steps = 0;
  let counting = false;
  const restores: (() => void)[] = [];
  for (const name of ['insertAfter', 'push', 'shift', 'remove', 'head', 'tail', 'size']) {
    const descriptor = Object.getOwnPropertyDescriptor(LinkedList.prototype, name)!;
    const key = descriptor.get === undefined ? 'value' : 'get';
    const original = descriptor[key] as (...args: unknown[]) => unknown;
    Object.defineProperty(LinkedList.prototype, name, {
      ...descriptor,
      [key](this: unknown, ...args: unknown[]) {
        if (counting) steps++;
        return original.apply(this, args);
      },
    });
    restores.push(() => Object.defineProperty(LinkedList.prototype, name, descriptor));
  }
  return {
    measure(action: () => void): number {
      steps = 0;
      counting = true;
      try {
        action();
      } finally {
        counting = false;
      }
      return steps;
    },
    async measureAsync(action: () => Promise<void>): Promise<number> {
      steps = 0;
      counting = true;
      try {
        await action();
      } finally {
        counting = false;
      }
      return steps;
    },
    restore: () => {
      for (const restore of restores) restore();
    },
  };
}

/** The work of each queue operation with `size` sheddable calls waiting. */
async function workAt(size: number): Promise<Record<string, number>> {
  const clock = new VirtualClock();
  const policy = loadShedder({
    limit: 1,
    queue: size,
    queueTimeoutMs: 1_000,
    thresholds: { sheddable: 1 },
    clock,
  });
  const meter = workMeter();
  try {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const hang = () => done;
    let release!: () => void;
    const running = policy.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const controllers: AbortController[] = [];
    const waiting: Promise<unknown>[] = [];
    for (let i = 0; i < size; i++) {
      const controller = new AbortController();
      controllers.push(controller);
      waiting.push(
        policy
          .execute(hang, { priority: 'sheddable', signal: controller.signal })
          .catch(() => 'refused'),
      );
    }
    const work: Record<string, number> = {};
    work.refuse = meter.measure(() => {
      waiting.push(policy.execute(hang, { priority: 'sheddable' }).catch(() => 'refused'));
    });
    work.evict = meter.measure(() => {
      waiting.push(policy.execute(hang));
    });
    work.abort = meter.measure(() => controllers[size >> 1]!.abort(new Error('gone')));
    work.stats = meter.measure(() => policy.stats());
    work.release = await meter.measureAsync(async () => {
      release();
      await flush();
    });
    expect(policy.running).toBe(1);
    expect(policy.queued).toBe(size - 2);
    finish();
    await clock.advance(1_000);
    await Promise.all([running, ...waiting]);
    return work;
  } finally {
    meter.restore();
  }
}

describe('loadShedder at scale', () => {
  it('does the same work per call with 100,000 calls queued as with 10', async () => {
    const small = await workAt(10);
    const large = await workAt(100_000);
    expect(large).toEqual(small);
    expect(small.evict).toBeGreaterThan(0);
  }, 30_000);
});
