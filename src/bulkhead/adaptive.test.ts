import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { adaptiveLimit } from '../adaptive-limit/index.js';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  LoadShedError,
  TimeoutError,
} from '../core/errors.js';
import type { ConcurrencyLimit } from '../core/limit.js';
import { pipeline } from '../core/pipeline.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { bulkhead } from './index.js';

/** A limit the test moves by hand, recording what it is told. */
class HandLimit implements ConcurrencyLimit {
  readonly samples: [rttMs: number, inflight: number, dropped: boolean][] = [];
  /** Runs on each sample, e.g. to move the limit as a real one would. */
  onSample: (() => void) | undefined;

  constructor(public current: number) {}

  sample(rttMs: number, inflight: number, dropped: boolean): void {
    this.samples.push([rttMs, inflight, dropped]);
    this.onSample?.();
  }
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Gate {
  readonly promise: Promise<string>;
  open(value: string): void;
  fail(error: unknown): void;
}

function gate(): Gate {
  let open!: (value: string) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<string>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

function harness(policy: ReturnType<typeof bulkhead>) {
  const started: number[] = [];
  const gates: Gate[] = [];
  const call = (id: number, signal?: AbortSignal): Promise<string> => {
    const g = gate();
    gates[id] = g;
    return policy.execute(
      () => {
        started.push(id);
        return g.promise;
      },
      { signal },
    );
  };
  return { started, gates, call };
}

describe('bulkhead with an adaptive limit', () => {
  it('admits up to the limit it reads now, and reports it as its `limit`', async () => {
    const limit = new HandLimit(2);
    const policy = bulkhead({ limit, queue: 10, clock: new VirtualClock() });
    expect([policy.limit, policy.adaptiveLimit]).toEqual([2, limit]);
    const { started, gates, call } = harness(policy);
    const calls = [0, 1, 2, 3, 4].map((id) => call(id));
    await flush();
    expect(started).toEqual([0, 1]);
    expect([policy.running, policy.queued]).toEqual([2, 3]);
    limit.current = 7;
    expect(policy.limit).toBe(7);
    for (const g of gates) g?.open('ok');
    await Promise.all(calls);
    expect(bulkhead({ limit: 3 }).adaptiveLimit).toBeUndefined();
  });

  it('starts as many waiters as now fit when a slot frees after the limit rose', async () => {
    const limit = new HandLimit(1);
    const policy = bulkhead({ limit, queue: 10, clock: new VirtualClock() });
    const { started, gates, call } = harness(policy);
    const calls = [0, 1, 2, 3, 4].map((id) => call(id));
    await flush();
    expect(started).toEqual([0]);
    limit.onSample = () => {
      limit.current = 3;
    };
    gates[0]!.open('a');
    await flush();
    // The freed slot and two more: three running, in queue order.
    expect(started).toEqual([0, 1, 2, 3]);
    expect([policy.running, policy.queued]).toEqual([3, 1]);
    for (const g of gates) g?.open('ok');
    await Promise.all(calls);
    expect([policy.running, policy.queued]).toEqual([0, 0]);
  });

  it('lets running calls finish and starts none while above a limit that fell', async () => {
    const limit = new HandLimit(4);
    const policy = bulkhead({ limit, queue: 10, clock: new VirtualClock() });
    const { started, gates, call } = harness(policy);
    const calls = [0, 1, 2, 3, 4, 5].map((id) => call(id));
    await flush();
    expect(started).toEqual([0, 1, 2, 3]);
    limit.onSample = () => {
      limit.current = 2;
    };
    gates[0]!.open('a');
    await flush();
    expect([started.length, policy.running, policy.queued]).toEqual([4, 3, 2]);
    gates[1]!.open('b');
    await flush();
    expect([started.length, policy.running, policy.queued]).toEqual([4, 2, 2]);
    // A newcomer waits too: two running is not under the limit of 2.
    const late = call(6);
    await flush();
    expect([started.length, policy.queued]).toEqual([4, 3]);
    gates[2]!.open('c');
    await flush();
    // Back under the limit: the oldest waiter takes the slot.
    expect(started).toEqual([0, 1, 2, 3, 4]);
    for (const g of gates) g?.open('ok');
    await Promise.all([...calls, late]);
  });

  it('serves waiters before a newcomer when another user of the limit raised it', async () => {
    const limit = new HandLimit(1);
    const policy = bulkhead({ limit, queue: 10, clock: new VirtualClock() });
    const { started, gates, call } = harness(policy);
    const calls = [0, 1, 2].map((id) => call(id));
    await flush();
    limit.current = 3;
    const newcomer = call(3);
    await flush();
    expect(started).toEqual([0, 1, 2]);
    expect(policy.queued).toBe(1);
    for (const g of gates) g?.open('ok');
    await Promise.all([...calls, newcomer]);
    expect(started).toEqual([0, 1, 2, 3]);
  });

  it('feeds each call its latency, the calls running at its start and whether it was dropped', async () => {
    const clock = new VirtualClock();
    const limit = new HandLimit(10);
    const policy = bulkhead({ limit, clock });
    const { gates, call } = harness(policy);
    const outcomes = [0, 1, 2, 3, 4, 5].map((id) => call(id).catch((error: unknown) => error));
    await clock.advance(5);
    gates[0]!.open('fine');
    await clock.advance(5);
    gates[1]!.fail(new TimeoutError(100));
    await clock.advance(5);
    gates[2]!.fail(new Error('plain failure'));
    gates[3]!.fail(new LoadShedError('shed downstream', 'capacity', 'critical'));
    gates[4]!.fail(new BrokenCircuitError('open downstream'));
    await clock.advance(5);
    gates[5]!.fail(new BulkheadRejectedError('inner pool full', 1, 0));
    await Promise.all(outcomes);
    expect(limit.samples).toEqual([
      [5, 1, false],
      [10, 2, true],
      [15, 3, false],
      [15, 4, true],
      [15, 5, true],
      [20, 6, true],
    ]);
  });

  it('counts a timeout from a timeout policy inside it as a drop', async () => {
    const clock = new VirtualClock();
    const limit = new HandLimit(1);
    const policy = bulkhead({ limit, clock });
    const timed = pipeline(policy, timeout(50, { clock, strategy: 'aggressive' })).execute(
      () => new Promise<never>(() => {}),
    );
    const settled = expect(timed).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(50);
    await settled;
    expect(limit.samples).toEqual([[50, 1, true]]);
  });

  it('reports nothing for a call its caller aborted, nor for one refused before it ran', async () => {
    const clock = new VirtualClock();
    const limit = new HandLimit(1);
    const policy = bulkhead({ limit, queue: 1, clock });
    const { gates, call } = harness(policy);
    const controller = new AbortController();
    const running = call(0, controller.signal);
    const queued = call(1);
    const refused = call(2).catch((error: unknown) => error);
    expect(await refused).toBeInstanceOf(BulkheadRejectedError);
    await clock.advance(3);
    controller.abort('caller left');
    gates[0]!.fail('caller left');
    await expect(running).rejects.toBe('caller left');
    await flush();
    gates[1]!.open('ok');
    await queued;
    expect(limit.samples).toEqual([[0, 1, false]]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(policy.running).toBe(0);
  });

  it('counts a call cut off by a timeout around it as a drop, from when it started', async () => {
    const clock = new VirtualClock();
    const limit = new HandLimit(1);
    const policy = bulkhead({ limit, queue: 1, clock });
    const { gates, call } = harness(policy);
    const first = call(0);
    // Waits 20 ms for the slot, runs 30 ms, and is cut off at 50 ms.
    const timed = pipeline(timeout(50, { clock }), policy).execute(
      ({ signal }) =>
        new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    const settled = expect(timed).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(20);
    gates[0]!.open('ok');
    await first;
    await clock.advance(30);
    await settled;
    expect(limit.samples).toEqual([
      [20, 1, false],
      [30, 1, true],
    ]);
  });

  it('gives the slot back even when the limit throws from sample()', async () => {
    const limit = new HandLimit(1);
    limit.onSample = () => {
      throw new Error('broken limit');
    };
    const policy = bulkhead({ limit, clock: new VirtualClock() });
    await expect(policy.execute(() => 'x')).rejects.toThrow('broken limit');
    expect(policy.running).toBe(0);
    limit.onSample = undefined;
    await expect(policy.execute(() => 'y')).resolves.toBe('y');
  });

  it('keeps queue timeouts and aborts working, leaving no timer or listener', async () => {
    const clock = new VirtualClock();
    const limit = new HandLimit(1);
    const policy = bulkhead({ limit, queue: 2, queueTimeoutMs: 100, clock });
    const { started, gates, call } = harness(policy);
    const first = call(0);
    const controller = new AbortController();
    const aborted = call(1, controller.signal);
    const timedOut = call(2).catch((error: unknown) => error);
    expect(clock.pendingTimers).toBe(1);
    controller.abort('bye');
    await expect(aborted).rejects.toBe('bye');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await clock.advance(100);
    expect(await timedOut).toBeInstanceOf(BulkheadRejectedError);
    expect(clock.pendingTimers).toBe(0);
    gates[0]!.open('ok');
    await first;
    expect(started).toEqual([0]);
    expect([policy.running, policy.queued]).toEqual([0, 0]);
  });

  it('finds its way with a real adaptive limit', async () => {
    const clock = new VirtualClock();
    const limit = adaptiveLimit({ algorithm: 'aimd', initial: 2, min: 1, max: 4 });
    const changes: [number, number][] = [];
    limit.on('limitChange', ({ from, to }) => changes.push([from, to]));
    const policy = bulkhead({ limit, queue: 10, clock });
    const { started, gates, call } = harness(policy);
    const calls = [0, 1, 2, 3, 4].map((id) => call(id).catch((error: unknown) => error));
    await flush();
    expect(started).toEqual([0, 1]);
    // Call 0 ran with 1 in flight: 1 * 2 >= 2, so the limit grows to 3 and two waiters start.
    gates[0]!.open('a');
    await flush();
    expect(started).toEqual([0, 1, 2, 3]);
    // Call 1 is dropped: floor(3 * 0.9) = 2. Two still run, so call 4 waits.
    gates[1]!.fail(new TimeoutError(10));
    await flush();
    expect([policy.limit, policy.running, policy.queued]).toEqual([2, 2, 1]);
    for (const g of gates) g?.open('ok');
    expect(await Promise.all(calls)).toEqual(['a', expect.any(TimeoutError), 'ok', 'ok', 'ok']);
    expect(changes.slice(0, 2)).toEqual([
      [2, 3],
      [3, 2],
    ]);
  });

  it('refuses a limit object that is not a ConcurrencyLimit', () => {
    expect(() => bulkhead({ limit: { current: 3 } as never })).toThrow(
      'bulkhead: option "limit" must be an integer >= 1 or a ConcurrencyLimit (with current and sample()) (got {"current":3})',
    );
    expect(() => bulkhead({ limit: null as never })).toThrow(
      'option "limit" must be an integer >= 1 (got null)',
    );
  });
});
