import { describe, expect, it } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import { LinkedList } from '../core/linked-list.js';
import { VirtualClock } from '../testing/index.js';
import { keyed } from './index.js';

function hang(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

/**
 * Counts the steps a keyed policy can take over its entries: every Map insertion, deletion and
 * iteration step, and every linked-list operation and head read. Work, not wall time: the
 * count is the same on any machine. Only counted between `start()` and `stop()`.
 */
function workMeter(): { start(): void; stop(): void; readonly steps: number; restore(): void } {
  let steps = 0;
  let counting = false;
  const restores: (() => void)[] = [];
  const wrap = (target: object, name: PropertyKey): void => {
    const descriptor = Object.getOwnPropertyDescriptor(target, name)!;
    const key = descriptor.get === undefined ? 'value' : 'get';
    const original = descriptor[key] as (...args: unknown[]) => unknown;
    Object.defineProperty(target, name, {
      ...descriptor,
      [key](this: unknown, ...args: unknown[]) {
        if (counting) steps++;
        return original.apply(this, args);
      },
    });
    restores.push(() => Object.defineProperty(target, name, descriptor));
  };
  for (const name of ['set', 'delete']) wrap(Map.prototype, name);
  wrap(Object.getPrototypeOf(new Map().values()), 'next');
  for (const name of ['insertAfter', 'push', 'shift', 'remove', 'head']) {
    wrap(LinkedList.prototype, name);
  }
  return {
    start: () => {
      counting = true;
    },
    stop: () => {
      counting = false;
    },
    get steps() {
      return steps;
    },
    restore: () => {
      for (const restore of restores) restore();
    },
  };
}

describe('keyed at scale: work per call stays O(1) amortised', () => {
  it('admits 20,000 busy keys past maxKeys 1,000 in linear work, and shrinks back as they end', async () => {
    const count = 20_000;
    const perKey = keyed(() => bulkhead({ limit: 1 }), { maxKeys: 1_000 });
    const stuck = hang();
    const calls: Promise<void>[] = [];
    const meter = workMeter();
    try {
      meter.start();
      for (let i = 0; i < count; i++) {
        calls.push(perKey.execute(() => stuck.promise, { key: `tenant-${i}` }));
      }
      meter.stop();
      // Every key is busy, so none may go: the bound is exceeded by the busy keys.
      expect(perKey.size).toBe(count);
      expect(meter.steps).toBeLessThan(10 * count);

      stuck.release();
      meter.start();
      await Promise.all(calls);
      meter.stop();
      expect(perKey.size).toBe(1_000);
      expect(meter.steps).toBeLessThan(20 * count);
    } finally {
      meter.restore();
    }
  });

  it('stays linear when busy and idle keys are mixed', async () => {
    const count = 20_000;
    const perKey = keyed(() => bulkhead({ limit: 1 }), { maxKeys: 1_000 });
    const stuck = hang();
    const calls: Promise<unknown>[] = [];
    const meter = workMeter();
    try {
      meter.start();
      for (let i = 0; i < count; i++) {
        const task: () => unknown = i % 2 === 0 ? () => stuck.promise : () => i;
        calls.push(perKey.execute(task, { key: `tenant-${i}` }));
      }
      meter.stop();
      expect(meter.steps).toBeLessThan(10 * count);
      stuck.release();
      await Promise.all(calls);
      expect(perKey.size).toBe(1_000);
    } finally {
      meter.restore();
    }
  });

  it('sweeps idle keys in O(1) amortised per call, however many keys are busy', async () => {
    const clock = new VirtualClock();
    const perKey = keyed(() => bulkhead({ limit: 1 }), { maxKeys: 100_000, idleMs: 1_000, clock });
    const stuck = hang();
    const busy: Promise<void>[] = [];
    const meter = workMeter();
    try {
      meter.start();
      for (let i = 0; i < 20_000; i++) {
        busy.push(perKey.execute(() => stuck.promise, { key: `busy-${i}` }));
      }
      meter.stop();
      for (let i = 0; i < 1_000; i++) {
        await clock.advance(600);
        meter.start();
        const call = perKey.execute(() => i, { key: `idle-${i}` });
        meter.stop();
        await call;
      }
      // The first sweep parks the busy keys, once each; each idle key is then visited once or
      // twice. Work in proportion to keys and calls (21,000), where a scan per sweep would
      // visit the 20,000 busy keys on every call.
      expect(meter.steps).toBeLessThan(10 * 21_000);
      expect(perKey.size).toBe(20_000 + 2);
    } finally {
      meter.restore();
      stuck.release();
      await Promise.all(busy);
    }
  });
});
