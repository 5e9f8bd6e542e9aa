import { describe, expect, it } from 'vitest';
import type { ConcurrencyLimit } from '../core/limit.js';
import { VirtualClock } from '../testing/index.js';
import { type LoadShedderPolicy, loadShedder } from './index.js';
import { flush, harness } from './test-helpers.js';

/** What the shedder reports, to check that a refused `tryAcquire` changed nothing. */
function state(policy: LoadShedderPolicy) {
  return JSON.stringify(policy.stats());
}

describe('loadShedder.tryAcquire', () => {
  it('takes a free slot as execute does, and its release hands the slot to a waiter', async () => {
    const policy = loadShedder({ limit: 2, queue: 1, clock: new VirtualClock() });
    const first = policy.tryAcquire('critical');
    expect(first).toBeTypeOf('function');
    expect(policy.stats().byPriority.critical.running).toBe(1);
    const second = policy.tryAcquire('sheddable-plus');
    expect(second).toBeTypeOf('function');
    expect([policy.running, policy.stats().byPriority['sheddable-plus'].running]).toEqual([2, 1]);

    const { started, call, open } = harness(policy);
    const queued = call('q');
    await flush();
    expect([started, policy.queued]).toEqual([[], 1]);
    first!();
    await flush();
    expect(started).toEqual(['q']);
    expect([policy.running, policy.queued]).toEqual([2, 0]);
    open('q');
    await expect(queued).resolves.toBe('q');
    second!();
    expect(policy.running).toBe(0);
    expect(policy.stats().byPriority['sheddable-plus'].running).toBe(0);
  });

  it('answers undefined and changes nothing when the call would queue or be shed', async () => {
    const policy = loadShedder({ limit: 2, queue: 2, clock: new VirtualClock() });
    const { call } = harness(policy);
    const shed: unknown[] = [];
    policy.on('shed', (event) => shed.push(event));
    void call('a');
    // Occupancy 1/4 already; 'sheddable' is refused at 0.8, so three running would refuse it.
    const before = state(policy);
    expect(policy.tryAcquire('critical')).toBeTypeOf('function');
    void call('b').catch(() => undefined);
    await flush();
    const full = state(policy);
    expect(policy.tryAcquire('critical')).toBeUndefined();
    expect(state(policy)).toBe(full);
    expect(policy.queued).toBe(1);
    expect(shed).toEqual([]);
    expect(before).not.toBe(full);
  });

  it('leaves waiters their turn: undefined while any call is queued, even with a slot free', async () => {
    const clock = new VirtualClock();
    const limit: ConcurrencyLimit = { current: 1, sample: () => undefined };
    const adaptive = loadShedder({ limit, clock });
    expect(adaptive.tryAcquire('critical')).toBeUndefined();
    expect(adaptive.running).toBe(0);

    const policy = loadShedder({ limit: 1, queue: 1, clock });
    const { call, open } = harness(policy);
    const a = call('a');
    const b = call('b');
    await flush();
    open('a');
    await a;
    // 'b' was handed the slot as 'a' finished; before that, nothing could jump the queue.
    expect(policy.queued).toBe(0);
    open('b');
    await b;
    expect(policy.tryAcquire('critical')).toBeTypeOf('function');
  });

  it('answers undefined while the occupancy threshold of its priority is reached', () => {
    const policy = loadShedder({ limit: 4, clock: new VirtualClock() });
    for (let i = 0; i < 3; i++) expect(policy.tryAcquire('critical')).toBeTypeOf('function');
    // 3 of 4 running: sheddable is refused from 0.8, sheddable-plus from 0.9.
    expect(policy.tryAcquire('sheddable')).toBeTypeOf('function');
    expect(policy.tryAcquire('sheddable')).toBeUndefined();
    expect(policy.running).toBe(4);
  });

  it('leaves a call to execute while someone listens to execution events', () => {
    const policy = loadShedder({ limit: 4, clock: new VirtualClock() });
    const stop = policy.on('execution', () => undefined);
    expect(policy.tryAcquire('critical')).toBeUndefined();
    stop();
    expect(policy.tryAcquire('critical')).toBeTypeOf('function');
  });
});
