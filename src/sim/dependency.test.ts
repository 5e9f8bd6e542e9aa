import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { type DependencyOptions, DependencyRuntime, dependency, SERVED } from './dependency.js';
import { latency } from './distributions.js';
import { DependencyError } from './errors.js';
import { createRandom } from './random.js';

function world(options: DependencyOptions) {
  const clock = new VirtualClock();
  const sojourns: number[] = [];
  const runtime = new DependencyRuntime(
    dependency(options),
    clock,
    createRandom(1),
    () => {},
    (ms) => sojourns.push(ms),
  );
  const ended: [number, string][] = [];
  const call = (id: number, signal?: AbortSignal) =>
    runtime.call(signal).then(
      (value) => {
        expect(value).toBe(SERVED);
        ended.push([clock.now(), `${id} ok`]);
      },
      (error: unknown) => ended.push([clock.now(), `${id} ${(error as Error).message}`]),
    );
  return { clock, runtime, call, ended, sojourns };
}

describe('modelled dependency', () => {
  it('serves `capacity` calls at once and queues the rest in FIFO order', async () => {
    const { clock, runtime, call, ended, sojourns } = world({
      capacity: 2,
      latency: latency.constant(10),
    });
    for (const id of [1, 2, 3, 4, 5]) call(id);
    expect([runtime.inService, runtime.queued]).toEqual([2, 3]);
    await clock.advance(30);
    expect(ended).toEqual([
      [10, '1 ok'],
      [10, '2 ok'],
      [20, '3 ok'],
      [20, '4 ok'],
      [30, '5 ok'],
    ]);
    expect(sojourns).toEqual([10, 10, 20, 20, 30]);
    expect(runtime.counters).toMatchObject({
      reached: 5,
      served: 5,
      peakInService: 2,
      peakQueued: 3,
    });
  });

  it("with abandon 'free', an aborted call leaves the queue or frees its slot at once", async () => {
    const { clock, runtime, call, ended } = world({
      capacity: 1,
      latency: latency.constant(10),
      abandon: 'free',
    });
    const running = new AbortController();
    const waiting = new AbortController();
    call(1, running.signal);
    call(2, waiting.signal);
    call(3);
    waiting.abort(new Error('gave up'));
    await clock.advance(2);
    running.abort(new Error('left'));
    expect(getEventListeners(waiting.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(running.signal, 'abort')).toHaveLength(0);
    await clock.advance(20);
    expect(ended).toEqual([
      [0, '2 gave up'],
      [2, '1 left'],
      [12, '3 ok'],
    ]);
    expect(runtime.counters).toMatchObject({ freed: 2, served: 1, wasted: 0 });
    expect(clock.armedTimers).toBe(0);
  });

  it("with abandon 'keep-working', the caller is answered at once but the work goes on", async () => {
    const { clock, runtime, call, ended } = world({ capacity: 1, latency: latency.constant(10) });
    const waiting = new AbortController();
    call(1);
    call(2, waiting.signal);
    call(3);
    waiting.abort(new Error('gave up'));
    expect(getEventListeners(waiting.signal, 'abort')).toHaveLength(0);
    await clock.advance(30);
    // Call 2 still took its turn: call 3 ends at 30, not 20.
    expect(ended).toEqual([
      [0, '2 gave up'],
      [10, '1 ok'],
      [30, '3 ok'],
    ]);
    expect(runtime.counters).toMatchObject({ served: 3, wasted: 1, freed: 0 });
  });

  it('fails calls beyond a full queue, and draws failures at the failure rate', async () => {
    const full = world({ capacity: 1, latency: latency.constant(10), queueLimit: 1 });
    for (const id of [1, 2, 3]) full.call(id);
    await full.clock.advance(20);
    expect(full.ended).toEqual([
      [0, '3 Modelled dependency: queue-full'],
      [10, '1 ok'],
      [20, '2 ok'],
    ]);
    const flaky = world({
      capacity: 1_000,
      latency: latency.constant(10),
      failureRate: 0.3,
      failureLatency: latency.constant(1),
    });
    const calls = Array.from({ length: 1_000 }, () =>
      flaky.runtime.call(undefined).catch((error: unknown) => error),
    );
    await flaky.clock.advance(10);
    const outcomes = await Promise.all(calls);
    const failed = outcomes.filter((o) => o instanceof DependencyError).length;
    expect(failed).toBeGreaterThan(250);
    expect(failed).toBeLessThan(350);
    expect(flaky.runtime.counters.failed).toBe(failed);
  });

  it('applies scripted changes and restores them at untilMs', async () => {
    const { clock, runtime, call, ended } = world({
      capacity: 4,
      latency: latency.constant(10),
      changes: [
        { atMs: 100, untilMs: 200, capacity: 1, latency: latency.constant(50) },
        { atMs: 300, untilMs: 400, hang: true },
      ],
    });
    await clock.advance(100);
    for (const id of [1, 2]) call(id);
    await clock.advance(100);
    expect(ended).toEqual([
      [150, '1 ok'],
      [200, '2 ok'],
    ]);
    expect(runtime.state.capacity).toBe(4);
    await clock.advance(110);
    call(3);
    await clock.advance(200);
    expect(ended[2]).toEqual([400, '3 Modelled dependency: hang']);
    expect(runtime.state.hang).toBe(false);
  });

  it("frees a hung call's slot when its caller leaves, with abandon 'free'", async () => {
    const { clock, runtime, call, ended } = world({
      capacity: 1,
      latency: latency.constant(10),
      abandon: 'free',
      changes: [{ atMs: 0, untilMs: 1_000, hang: true }],
    });
    await clock.advance(0);
    const caller = new AbortController();
    call(1, caller.signal);
    call(2);
    await clock.advance(50);
    caller.abort(new Error('left'));
    expect([runtime.inService, runtime.queued]).toEqual([1, 0]);
    await clock.advance(1_000);
    // Call 2 took the freed slot, hung in its turn, and failed when the hang ended.
    expect(ended).toEqual([
      [50, '1 left'],
      [1_000, '2 Modelled dependency: hang'],
    ]);
    expect(runtime.counters).toMatchObject({ freed: 1, failed: 1, served: 0 });
  });

  it('refuses bad options with a TypeError naming the option', () => {
    expect(() => dependency({ capacity: 0, latency: latency.constant(1) })).toThrow(
      'dependency: option "capacity" must be an integer >= 1 or Infinity (got 0)',
    );
    expect(() => dependency({ capacity: 1, latency: 5 as never })).toThrow(
      'dependency: option "latency" must be a distribution from latency (got 5)',
    );
    expect(() =>
      dependency({ capacity: 1, latency: latency.constant(1), abandon: 'drop' as never }),
    ).toThrow(`dependency: option "abandon" must be one of 'free', 'keep-working' (got "drop")`);
    expect(() =>
      dependency({
        capacity: 1,
        latency: latency.constant(1),
        changes: [{ atMs: 10, untilMs: 5, failureRate: 1 }],
      }),
    ).toThrow(
      'dependency: option "changes[0].untilMs" must be a number of milliseconds > atMs (10) (got 5)',
    );
    expect(() =>
      dependency({
        capacity: 1,
        latency: latency.constant(1),
        changes: [{ atMs: 0, failureRate: 2 }],
      }),
    ).toThrow('dependency: option "changes[0].failureRate" must be a number from 0 to 1 (got 2)');
  });
});
