import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { Codel } from './codel.js';
import { type LoadShedderEvents, loadShedder } from './index.js';
import { flush, harness } from './test-helpers.js';

describe('Codel', () => {
  it('turns overloaded only when the shortest wait of a whole interval stayed above target', () => {
    const codel = new Codel(5, 100, 0);
    // First interval (to t=100): one short wait keeps it healthy.
    expect(codel.drop(50, 10)).toBe(false);
    expect(codel.drop(3, 20)).toBe(false);
    expect(codel.drop(50, 90)).toBe(false);
    // t=101 starts the next interval: the last one's minimum was 3 ms, not overloaded.
    expect(codel.drop(20, 101)).toBe(false);
    expect(codel.overloaded).toBe(false);
    expect(codel.drop(30, 150)).toBe(false);
    // t=202: the minimum was 20 ms > 5: overloaded from now on. The interval's first request
    // is served; then everything older than 2 x target = 10 ms is dropped.
    expect(codel.drop(40, 202)).toBe(false);
    expect(codel.overloaded).toBe(true);
    expect(codel.drop(11, 210)).toBe(true);
    expect(codel.drop(10, 211)).toBe(false);
    expect(codel.load).toBe(100);
    // A request that went straight to a free slot makes the interval's minimum zero.
    codel.idle();
    expect(codel.load).toBe(0);
    expect(codel.drop(40, 303)).toBe(false);
    expect(codel.overloaded).toBe(false);
    expect(codel.drop(40, 304)).toBe(false);
  });
});

describe('loadShedder: CoDel', () => {
  it('lets a burst through: waits under the target never count as overload', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, queue: 10, clock });
    const { call, open } = harness(policy);
    for (let round = 0; round < 5; round++) {
      const calls = ['a', 'b', 'c', 'd'].map((id) => call(`${id}${round}`));
      for (const id of ['a', 'b', 'c', 'd']) {
        await clock.advance(1);
        open(`${id}${round}`);
        await flush();
      }
      await expect(Promise.all(calls)).resolves.toHaveLength(4);
      await clock.advance(100);
    }
    expect(policy.overloaded).toBe(false);
    expect(policy.stats().byPriority.critical.shed).toBe(0);
  });

  it('sheds waiters older than twice the target once the queue has stood for an interval', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, queue: 50, clock });
    const dequeued: LoadShedderEvents['dequeued'][] = [];
    policy.on('dequeued', (detail) => dequeued.push(detail));
    const { started, call, open } = harness(policy);
    const ids = Array.from({ length: 21 }, (_, i) => `w${i}`);
    const results = ids.map((id) =>
      call(id).catch((error: { reason: string }) => `shed:${error.reason}`),
    );
    // Each call takes 20 ms: the queue never empties.
    for (let i = 0; i < 4; i++) {
      await clock.advance(20);
      open(`w${i}`);
      await flush();
    }
    expect(policy.overloaded).toBe(false);
    await clock.advance(20);
    // t=100: the queue has not been empty for a whole interval. w5 has waited 100 ms, more
    // than twice the 5 ms target, and so has everyone behind it.
    expect(policy.overloaded).toBe(true);
    open('w4');
    await flush();
    expect(started).toEqual(ids.slice(0, 5));
    expect(policy.queued).toBe(0);
    expect(await Promise.all(results.slice(5))).toEqual(Array(16).fill('shed:codel'));
    expect(dequeued.filter((d) => d.result === 'codel')).toHaveLength(16);
    expect(policy.stats().byPriority.critical.shed).toBe(16);
    expect(policy.overloaded).toBe(false);
    await expect(results[4]).resolves.toBe('w4');
  });

  it('sheds by the shortest wait of an interval even when the queue empties in between', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, queue: 10, clock });
    const { started, call, open } = harness(policy);
    const outcomes: Promise<unknown>[] = [call('x')];
    // Each call takes 20 ms, and a new one arrives 5 ms into each: every one waits 15 ms, and
    // the queue empties for 5 ms every 20 ms, so only the shortest-wait test sees overload.
    for (let k = 0; k <= 12; k++) {
      await clock.advance(5);
      outcomes.push(call(`y${k}`).catch((e: { reason: string }) => `shed:${e.reason}`));
      await clock.advance(15);
      open(started.at(-1)!);
      await flush();
    }
    // Intervals end at t=100 (min wait 0: x went straight in), 120 (starts the next, whose
    // minimum is 15 ms), then at t=240 the verdict turns: y11, first of its interval, is served,
    // and y12, dequeued at t=260 after 15 ms > 2 x 5 ms, is shed.
    expect(started).toEqual(['x', ...Array.from({ length: 12 }, (_, k) => `y${k}`)]);
    expect(policy.overloaded).toBe(true);
    await expect(outcomes.at(-1)).resolves.toBe('shed:codel');
    open('y11');
    await expect(Promise.all(outcomes.slice(0, -1))).resolves.toHaveLength(13);
  });

  it('is off with codel: false, so a standing queue is only bounded by its timeout', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, queue: 50, codel: false, clock });
    const { started, call, open } = harness(policy);
    const ids = Array.from({ length: 16 }, (_, i) => `w${i}`);
    const results = ids.map((id) => call(id));
    for (const id of ids) {
      await clock.advance(20);
      open(id);
      await flush();
    }
    await expect(Promise.all(results)).resolves.toEqual(ids);
    expect(started).toEqual(ids);
    expect(policy.overloaded).toBe(false);
  });
});

describe('loadShedder: adaptive LIFO', () => {
  it('judges a standing queue per priority: sheddable waiters standing do not doom a critical one', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({
      limit: 1,
      queue: 2,
      lifo: true,
      thresholds: { sheddable: 1 },
      clock,
    });
    const { started, call, open } = harness(policy);
    const shed = (e: { reason: string }) => `shed:${e.reason}`;
    const first = call('run');
    const waiter = call('s', 'sheddable').catch(shed);
    await clock.advance(105);
    const critical = call('c');
    await clock.advance(15);
    // The sheddable queue has stood for 120 ms: the shedder is overloaded...
    expect(policy.overloaded).toBe(true);
    open('run');
    await first;
    await flush();
    // ...but the critical queue has held its waiter 15 ms only, not a whole interval: past
    // twice the target, yet it runs; the sheddable one, 120 ms old, is shed.
    expect(started).toEqual(['run', 'c']);
    open('c');
    await expect(critical).resolves.toBe('c');
    await expect(waiter).resolves.toBe('shed:codel');
  });

  it('serves first in first out while the queue keeps emptying, newest first once it stands', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, queue: 10, lifo: true, codel: false, clock });
    const { started, call, open } = harness(policy);
    const calls = [call('run'), call('a'), call('b'), call('c')];
    await clock.advance(10);
    open('run');
    await flush();
    // The queue has been non-empty for 10 ms only: FIFO, a.
    await clock.advance(140);
    calls.push(call('d'));
    open('a');
    await flush();
    // Non-empty for 150 ms >= one interval (100 ms): newest first, d, then c, then b.
    for (const id of ['d', 'c', 'b']) {
      await clock.advance(1);
      open(id);
      await flush();
    }
    await Promise.all(calls);
    expect(started).toEqual(['run', 'a', 'd', 'c', 'b']);

    // The queue emptied: back to FIFO.
    const again = [call('run2'), call('e'), call('f')];
    await clock.advance(1);
    for (const id of ['run2', 'e', 'f']) {
      open(id);
      await flush();
    }
    await Promise.all(again);
    expect(started.slice(5)).toEqual(['run2', 'e', 'f']);
  });

  it('under LIFO, CoDel sheds the oldest waiters, which newest-first would never reach', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, queue: 50, lifo: true, clock });
    const { started, call, open } = harness(policy);
    const shed = (e: { reason: string }) => `shed:${e.reason}`;
    const results = new Map<string, Promise<unknown>>();
    const arrive = (id: string) => results.set(id, call(id).catch(shed));
    arrive('slow');
    arrive('old');
    // One arrival every 20 ms; the first call holds the slot for 120 ms, then each takes 20.
    for (let i = 1; i <= 15; i++) {
      await clock.advance(20);
      arrive(`n${i}`);
      if (i >= 6) {
        open(started.at(-1)!);
        await flush();
      }
    }
    // At t=120 the queue has stood for a whole interval: the newest, n6, is served, and
    // everyone who waited over twice the target is shed, the oldest first.
    expect(started.slice(0, 4)).toEqual(['slow', 'n6', 'n7', 'n8']);
    await expect(results.get('old')).resolves.toBe('shed:codel');
    for (const id of ['n1', 'n2', 'n3', 'n4', 'n5']) {
      await expect(results.get(id)).resolves.toBe('shed:codel');
    }
    expect(started).not.toContain('old');
    open(started.at(-1)!);
    await flush();
    for (const id of started) open(id);
    await clock.runAll();
    for (const id of results.keys()) if (!started.includes(id)) open(id);
    await Promise.all(results.values());
    expect([policy.running, policy.queued]).toEqual([0, 0]);
  });
});
