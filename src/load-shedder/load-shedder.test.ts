import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ExecutionRejectedError, LoadShedError } from '../core/errors.js';
import { VirtualClock } from '../testing/index.js';
import { type LoadShedderEvents, type LoadShedderPolicy, loadShedder } from './index.js';
import { flush, harness } from './test-helpers.js';

/** What a settled call ended as: its value, or the shed reason, or the error itself. */
function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => value,
    (error: unknown) => (error instanceof LoadShedError ? `shed:${error.reason}` : error),
  );
}

function record(policy: LoadShedderPolicy) {
  const seen: string[] = [];
  const types = ['shed', 'queued', 'dequeued'] as const;
  for (const type of types) {
    policy.on(type, (detail: LoadShedderEvents[typeof type]) => {
      const d = detail as { key: string; reason?: string; result?: string };
      seen.push(
        `${type}:${d.key}${d.reason ? `:${d.reason}` : ''}${d.result ? `:${d.result}` : ''}`,
      );
    });
  }
  return seen;
}

describe('loadShedder: capacity, priorities and the queue', () => {
  it('runs at most `limit`, queues at most `queue`, and refuses the rest with LoadShedError', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 2, queue: 2, clock });
    const { started, call, open } = harness(policy);
    const calls = ['a', 'b', 'c', 'd'].map((id) => call(id));
    await flush();
    expect(started).toEqual(['a', 'b']);
    expect([policy.running, policy.queued]).toEqual([2, 2]);

    const refused = await call('e').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LoadShedError);
    expect(refused).toBeInstanceOf(ExecutionRejectedError);
    expect(refused).toMatchObject({
      code: 'LOAD_SHED',
      reason: 'capacity',
      priority: 'critical',
      retryAfterMs: undefined,
    });
    expect((refused as Error).message).toBe(
      'load-shedder shed a critical call: over its occupancy threshold (2 of 2 running, 2 of 2 queued)',
    );
    for (const id of ['a', 'b', 'c', 'd']) {
      open(id);
      await flush();
    }
    await expect(Promise.all(calls)).resolves.toEqual(['a', 'b', 'c', 'd']);
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect([policy.running, policy.queued]).toEqual([0, 0]);
  });

  it('refuses lower priorities first, at their occupancy thresholds', async () => {
    const policy = loadShedder({ limit: 10, clock: new VirtualClock() });
    const { call } = harness(policy);
    const running = Array.from({ length: 7 }, (_, i) => call(`c${i}`));
    // 7 of 10: everything still gets in.
    running.push(call('s7', 'sheddable'));
    // 8 of 10 = 0.8: sheddable is refused; sheddable-plus gets in.
    await expect(call('s8', 'sheddable')).rejects.toMatchObject({ reason: 'capacity' });
    running.push(call('p8', 'sheddable-plus'));
    // 9 of 10 = 0.9: sheddable-plus is refused too; critical takes the last slot.
    await expect(call('p9', 'sheddable-plus')).rejects.toMatchObject({ reason: 'capacity' });
    running.push(call('c9'));
    await expect(call('cp', 'critical-plus')).rejects.toMatchObject({
      reason: 'capacity',
      priority: 'critical-plus',
    });
    expect(policy.stats()).toEqual({
      running: 10,
      queued: 0,
      limit: 10,
      queueLimit: 0,
      overloaded: false,
      underPressure: false,
      byPriority: {
        'critical-plus': { running: 0, queued: 0, shed: 1 },
        critical: { running: 8, queued: 0, shed: 0 },
        'sheddable-plus': { running: 1, queued: 0, shed: 1 },
        sheddable: { running: 1, queued: 0, shed: 1 },
      },
    });
  });

  it('counts the queue in occupancy, and takes custom thresholds', async () => {
    const policy = loadShedder({
      limit: 2,
      queue: 2,
      thresholds: { critical: 0.5, sheddable: 0 },
      clock: new VirtualClock(),
    });
    const { call } = harness(policy);
    await expect(call('s', 'sheddable')).rejects.toMatchObject({ reason: 'capacity' });
    void call('c1');
    void call('c2');
    // (2 running + 0 queued) / 4 = 0.5: critical is refused, sheddable-plus (0.9) is queued.
    await expect(call('c3')).rejects.toMatchObject({ reason: 'capacity' });
    void call('p', 'sheddable-plus');
    expect([policy.running, policy.queued]).toEqual([2, 1]);
  });

  it('serves the queue most critical first, first in first out within a priority', async () => {
    const policy = loadShedder({ limit: 1, queue: 10, clock: new VirtualClock() });
    const { started, call, open } = harness(policy);
    const calls = [
      call('first'),
      call('s1', 'sheddable'),
      call('c1'),
      call('p1', 'sheddable-plus'),
      call('s2', 'sheddable'),
      call('cp1', 'critical-plus'),
      call('c2'),
    ];
    for (const id of ['first', 'cp1', 'c1', 'c2', 'p1', 's1', 's2']) {
      await flush();
      open(id);
    }
    await Promise.all(calls);
    expect(started).toEqual(['first', 'cp1', 'c1', 'c2', 'p1', 's1', 's2']);
  });

  it('evicts the newest waiter of the lowest priority for a more critical arrival, never the reverse', async () => {
    const policy = loadShedder({
      limit: 1,
      queue: 4,
      thresholds: { 'sheddable-plus': 1, sheddable: 1 },
      clock: new VirtualClock(),
    });
    const seen = record(policy);
    const { started, call, open } = harness(policy);
    const first = call('run');
    const s1 = outcome(call('s1', 'sheddable'));
    const s2 = outcome(call('s2', 'sheddable'));
    const p1 = outcome(call('p1', 'sheddable-plus'));
    const c1 = outcome(call('c1'));
    // Full. An equal priority never evicts: a sheddable is refused.
    expect(await outcome(call('s3', 'sheddable'))).toBe('shed:capacity');
    // A critical evicts the newest of the lowest priority present: s2, not s1.
    const c2 = outcome(call('c2'));
    expect(await s2).toBe('shed:evicted');
    // sheddable-plus evicts the last sheddable.
    const p2 = outcome(call('p2', 'sheddable-plus'));
    expect(await s1).toBe('shed:evicted');
    // Now the lowest present is sheddable-plus; critical-plus evicts its newest, p2.
    const cp = outcome(call('cp', 'critical-plus'));
    expect(await p2).toBe('shed:evicted');
    // Only critical and critical-plus are queued (besides p1): a critical evicts p1.
    const c3 = outcome(call('c3'));
    expect(await p1).toBe('shed:evicted');
    // All critical or better now: a critical finds nobody below it to evict.
    expect(await outcome(call('c4'))).toBe('shed:capacity');
    expect(policy.stats().byPriority).toMatchObject({
      critical: { queued: 3, shed: 1 },
      'critical-plus': { queued: 1 },
    });
    for (const id of ['run', 'cp', 'c1', 'c2', 'c3']) {
      open(id);
      await flush();
    }
    await Promise.all([first, c1, c2, c3, cp]);
    expect(started).toEqual(['run', 'cp', 'c1', 'c2', 'c3']);
    expect(seen).toContain('dequeued:s2:evicted');
    expect(seen.indexOf('dequeued:s2:evicted')).toBe(seen.indexOf('shed:s2:evicted') - 1);
  });
});

describe('loadShedder: queue timeout and abort', () => {
  it('sheds a waiter whose wait runs out, with one shared timer for every priority', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, queue: 5, queueTimeoutMs: 100, codel: false, clock });
    const { call, open } = harness(policy);
    const first = call('run');
    const s = outcome(call('s', 'sheddable'));
    await clock.advance(30);
    const c = outcome(call('c'));
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(70);
    expect(await s).toBe('shed:queue-timeout');
    expect(policy.queued).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(29);
    expect(policy.queued).toBe(1);
    await clock.advance(1);
    expect(await c).toBe('shed:queue-timeout');
    expect(clock.pendingTimers).toBe(0);
    open('run');
    await expect(first).resolves.toBe('run');
  });

  it('clears the queue timer when the last waiter gets its slot', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, queue: 2, queueTimeoutMs: 100, clock });
    const { call, open } = harness(policy);
    const first = call('a');
    const second = call('b', 'sheddable-plus');
    expect(clock.pendingTimers).toBe(1);
    open('a');
    await first;
    expect(clock.pendingTimers).toBe(0);
    open('b');
    await expect(second).resolves.toBe('b');
  });

  it('drops a queued call at once when its caller aborts, leaving no listener or timer', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, queue: 3, queueTimeoutMs: 1_000, clock });
    const seen = record(policy);
    const { started, call, open } = harness(policy);
    const controller = new AbortController();
    const first = call('a');
    const aborted = call('b', 'sheddable', controller.signal);
    await flush();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect(clock.pendingTimers).toBe(1);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
    expect(policy.stats().byPriority.sheddable).toEqual({ running: 0, queued: 0, shed: 0 });
    expect(seen).toContain('dequeued:b:aborted');
    open('a');
    await first;
    expect(started).toEqual(['a']);
  });

  it('never starts a call whose signal is already aborted', async () => {
    const policy = loadShedder({ limit: 1 });
    const controller = new AbortController();
    controller.abort(new Error('already'));
    await expect(policy.execute(() => 'x', { signal: controller.signal })).rejects.toThrow(
      'already',
    );
    expect(policy.running).toBe(0);
  });
});

describe('loadShedder: free slots', () => {
  it('reads no clock on the free-slot path of a fixed limit, even with CoDel on', async () => {
    const clock = new VirtualClock();
    let reads = 0;
    const counting = {
      now: () => {
        reads++;
        return clock.now();
      },
      setTimeout: clock.setTimeout.bind(clock),
      clearTimeout: clock.clearTimeout.bind(clock),
    };
    const policy = loadShedder({ limit: 4, queue: 4, clock: counting });
    reads = 0;
    for (let i = 0; i < 10; i++) await policy.execute(() => i, { priority: 'sheddable' });
    expect(reads).toBe(0);
  });

  it('releases the slot when the task throws synchronously or rejects', async () => {
    const policy = loadShedder({ limit: 1, queue: 1 });
    await expect(
      policy.execute(() => {
        throw new RangeError('sync');
      }),
    ).rejects.toThrow(RangeError);
    await expect(policy.execute(() => Promise.reject(new Error('async')))).rejects.toThrow('async');
    expect(policy.running).toBe(0);
    await expect(policy.execute(() => 'ok', { priority: 'sheddable' })).resolves.toBe('ok');
  });
});
