import { describe, expect, it } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import { circuitBreaker } from '../circuit-breaker/index.js';
import { LoadShedError } from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
import type { Policy } from '../core/policy.js';
import { fallback } from '../fallback/index.js';
import { backoff, retry } from '../retry/index.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import {
  closedLoop,
  dependency,
  latency,
  openLoop,
  rate,
  type SimulateOptions,
  simulate,
} from './index.js';

/** Capacity 10 at a constant 10 ms: 1000 calls per second. */
const tenSlots = dependency({ capacity: 10, latency: latency.constant(10) });

describe('simulate', () => {
  it('gives identical results for the same seed, and different ones for another', async () => {
    const options = (seed: number): SimulateOptions => ({
      seed,
      durationMs: 3_000,
      load: openLoop({ rps: 500, priorities: { critical: 1, sheddable: 1 }, keys: { a: 1, b: 2 } }),
      dependency: dependency({
        capacity: 8,
        latency: latency.logNormal({ medianMs: 8, p99Ms: 40 }),
        failureRate: 0.1,
      }),
      policy: ({ clock, random }) =>
        pipeline(
          retry({ maxAttempts: 3, clock, random, backoff: backoff.exponential({ initialMs: 5 }) }),
          timeout(60, { clock }),
        ),
      deadlineMs: 200,
    });
    const first = await simulate(options(42));
    const again = await simulate(options(42));
    const other = await simulate(options(43));
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    expect(first.offered).toBeGreaterThan(1_400);
    expect(first.outcomes.ok).toBeGreaterThan(1_000);
    expect(first.loadMultiplication).toBeGreaterThan(1.05);
  });

  it('is deterministic for a closed loop with random think times too', async () => {
    const options = (): SimulateOptions => ({
      seed: 5,
      durationMs: 3_000,
      load: closedLoop({ clients: 20, thinkTime: latency.exponential({ meanMs: 50 }) }),
      dependency: dependency({
        capacity: 5,
        latency: latency.exponential({ meanMs: 10 }),
        failureRate: 0.05,
      }),
      policy: ({ clock, random }) => retry({ maxAttempts: 2, clock, random }),
    });
    const first = await simulate(options());
    expect(await simulate(options())).toEqual(first);
    expect(first.offered).toBeGreaterThan(500);
  });

  it('passes each call its priority and key from the mixes, and follows a ramp', async () => {
    const seen = new Map<string, number>();
    const clock = new VirtualClock();
    const result = await simulate({
      clock,
      durationMs: 4_000,
      load: openLoop({
        rps: rate.ramp({ fromRps: 0, toRps: 400, durationMs: 4_000 }),
        arrivals: 'uniform',
        priorities: { 'critical-plus': 1, 'sheddable-plus': 1 },
        keys: { tenant1: 1, tenant2: 3 },
      }),
      dependency: tenSlots,
      server: pipeline(
        {
          execute(task, options) {
            const label = `${options?.priority}/${options?.key}`;
            seen.set(label, (seen.get(label) ?? 0) + 1);
            return Promise.resolve(task({} as never));
          },
        },
        bulkhead({ limit: 100, clock }),
      ),
    });
    // 0 to 400/s over 4 s: 50, 150, 250, 350 expected in the four seconds.
    expect(result.series.slice(0, 4).map((b) => b.offered)).toEqual([50, 150, 250, 350]);
    expect([...seen.keys()].sort()).toEqual([
      'critical-plus/tenant1',
      'critical-plus/tenant2',
      'sheddable-plus/tenant1',
      'sheddable-plus/tenant2',
    ]);
    const tenant2 =
      (seen.get('critical-plus/tenant2') ?? 0) + (seen.get('sheddable-plus/tenant2') ?? 0);
    expect(tenant2 / result.offered).toBeGreaterThan(0.7);
    expect(tenant2 / result.offered).toBeLessThan(0.8);
    expect(Object.keys(result.byPriority)).toEqual(['critical-plus', 'sheddable-plus']);
  });

  it('serves a bare dependency offered half its capacity at its modelled latency', async () => {
    const result = await simulate({
      seed: 1,
      durationMs: 20_000,
      load: openLoop({ rps: 500 }),
      dependency: dependency({
        capacity: 20,
        latency: latency.logNormal({ medianMs: 20, p99Ms: 80 }),
      }),
      deadlineMs: 1_000,
    });
    const capacityRps = result.dependency.capacityRps;
    expect(capacityRps).toBeGreaterThan(800);
    expect(result.offeredRps).toBeGreaterThan(480);
    expect(result.offeredRps).toBeLessThan(520);
    expect(result.goodput.rps).toBe(result.offeredRps);
    expect(result.goodput.ofOffered).toBe(1);
    expect(result.outcomes).toEqual({ ok: result.offered });
    // Little queueing at this load: the model's median and p99 come through.
    expect(result.latency.succeeded.p50).toBeGreaterThan(19);
    expect(result.latency.succeeded.p50).toBeLessThan(21.5);
    expect(result.latency.succeeded.p99).toBeGreaterThan(72);
    expect(result.latency.succeeded.p99).toBeLessThan(95);
    expect(result.loadMultiplication).toBe(1);
  });

  it('collapses with no protection when offered twice its capacity', async () => {
    const result = await simulate({
      seed: 3,
      durationMs: 10_000,
      load: openLoop({ rps: 2_000 }),
      dependency: tenSlots,
      deadlineMs: 1_000,
    });
    // The queue grows without bound and nearly every call waits past its deadline.
    // Only calls of the first second or so, before the queue's wait reached the deadline.
    expect(result.goodput.ofCapacity).toBeLessThan(0.25);
    expect(result.outcomes.DEADLINE_EXCEEDED).toBeGreaterThan(result.offered * 0.85);
    const { series } = result;
    expect(series[0]!.succeeded).toBeGreaterThan(900);
    expect(series[5]!.succeeded).toBe(0);
    expect(series[5]!.queued).toBeGreaterThan(series[2]!.queued);
    expect(series[1]!.p99Ms).toBeGreaterThan(900);
    // The dependency keeps serving abandoned calls: all that work is wasted.
    expect(result.dependency.wasted).toBe(result.dependency.served - result.goodput.count);
    expect(result.dependency.wasted).toBeGreaterThan(result.dependency.served * 0.75);
  });

  it('keeps goodput near capacity under the same overload with a bulkhead and a timeout', async () => {
    const result = await simulate({
      seed: 3,
      durationMs: 10_000,
      load: openLoop({ rps: 2_000 }),
      dependency: tenSlots,
      deadlineMs: 1_000,
      policy: ({ clock }) =>
        pipeline(bulkhead({ limit: 10, queue: 10, clock }), timeout(100, { clock })),
    });
    expect(result.goodput.ofCapacity).toBeGreaterThan(0.95);
    expect(result.outcomes.BULKHEAD_FULL).toBeGreaterThan(result.offered * 0.4);
    expect(result.latency.succeeded.p99).toBeLessThan(25);
  });

  it('fails calls in an outage window and recovers after it', async () => {
    const result = await simulate({
      seed: 5,
      durationMs: 6_000,
      load: openLoop({ rps: 200, arrivals: 'uniform' }),
      dependency: dependency({
        capacity: 10,
        latency: latency.constant(10),
        changes: [{ atMs: 2_000, untilMs: 4_000, failureRate: 1 }],
      }),
    });
    // Failure is drawn when a call starts its 10 ms of service, and counted when it ends.
    const failed = result.series.map((bucket) => bucket.failed);
    expect(failed.slice(0, 6)).toEqual([0, 0, 198, 200, 2, 0]);
    expect(result.outcomes).toEqual({ ok: 800, DEPENDENCY_FAILED: 400 });
  });

  it('models a hang: calls stall, hold their slots and fail when it ends', async () => {
    const result = await simulate({
      seed: 5,
      durationMs: 6_000,
      load: openLoop({ rps: 100, arrivals: 'uniform' }),
      dependency: dependency({
        capacity: 1_000,
        latency: latency.constant(10),
        changes: [{ atMs: 2_000, untilMs: 3_000, hang: true }],
      }),
    });
    expect(result.outcomes).toEqual({ ok: 500, DEPENDENCY_FAILED: 100 });
    expect(result.series[2]!.inService).toBeGreaterThan(40);
    // Hung calls end when the hang does, after up to a second.
    expect(result.latency.admitted.max).toBeGreaterThan(990);
  });

  it('multiplies the load by about 3 with retry (maxAttempts 3) under total failure', async () => {
    const result = await simulate({
      seed: 9,
      durationMs: 5_000,
      load: openLoop({ rps: 100 }),
      dependency: dependency({ capacity: 100, latency: latency.constant(5), failureRate: 1 }),
      policy: ({ clock, random }) =>
        retry({ maxAttempts: 3, clock, random, backoff: backoff.exponential({ initialMs: 10 }) }),
    });
    expect(result.loadMultiplication).toBe(3);
    expect(result.attemptsPerCall).toBe(3);
    expect(result.outcomes).toEqual({ DEPENDENCY_FAILED: result.offered });
    expect(result.goodput.count).toBe(0);
  });

  it('lets a circuit breaker cut the load an outage receives', async () => {
    const base = {
      seed: 11,
      durationMs: 10_000,
      load: openLoop({ rps: 200 }),
      dependency: dependency({
        capacity: 50,
        latency: latency.constant(20),
        changes: [{ atMs: 2_000, untilMs: 6_000, failureRate: 1 }],
      }),
    };
    const bare = await simulate(base);
    const guarded = await simulate({
      ...base,
      policy: ({ clock }) =>
        circuitBreaker({ consecutiveFailures: 5, breakDurationMs: 500, clock }),
    });
    expect(guarded.outcomes.CIRCUIT_OPEN).toBeGreaterThan(500);
    expect(guarded.dependency.reached).toBeLessThan(bare.dependency.reached * 0.7);
    // After the outage the breaker closes again and calls succeed.
    expect(guarded.series[8]!.succeeded).toBeGreaterThan(150);
  });

  it('reaches N / latency throughput with a closed loop of N clients', async () => {
    const busy = await simulate({
      seed: 2,
      durationMs: 10_000,
      load: closedLoop({ clients: 10 }),
      dependency: dependency({ capacity: 100, latency: latency.constant(20) }),
    });
    expect(busy.throughputRps).toBe(500);
    const thinking = await simulate({
      seed: 2,
      durationMs: 10_000,
      load: closedLoop({ clients: 10, thinkTime: 30 }),
      dependency: dependency({ capacity: 100, latency: latency.constant(20) }),
    });
    expect(thinking.throughputRps).toBe(200);
    // Capacity below the clients: they queue, and throughput is the dependency's.
    const queued = await simulate({
      seed: 2,
      durationMs: 10_000,
      load: closedLoop({ clients: 10 }),
      dependency: dependency({ capacity: 5, latency: latency.constant(20) }),
    });
    // 250/s, plus the calls issued before the end that finish during the drain.
    expect(queued.throughputRps).toBeGreaterThanOrEqual(250);
    expect(queued.throughputRps).toBeLessThan(251);
    expect(queued.latency.succeeded.p50).toBe(40);
  });

  it('counts timeouts of a client timeout policy', async () => {
    const result = await simulate({
      seed: 4,
      durationMs: 20_000,
      load: openLoop({ rps: 200 }),
      dependency: dependency({
        capacity: 100,
        latency: latency.logNormal({ medianMs: 20, p99Ms: 200 }),
      }),
      policy: ({ clock }) => timeout(50, { clock }),
    });
    const timedOut = result.outcomes.TIMEOUT ?? 0;
    // P(latency > 50 ms) for this log-normal is 17.7%.
    expect(timedOut / result.offered).toBeGreaterThan(0.155);
    expect(timedOut / result.offered).toBeLessThan(0.2);
    expect(result.dependency.wasted).toBe(timedOut);
    expect(result.latency.succeeded.max).toBeLessThanOrEqual(50);
  });

  it('runs a server policy at the server, with per-priority outcomes', async () => {
    // A minimal priority shedder written for the test: sheds 'sheddable' calls while the
    // server has 10 calls in progress.
    let inProgress = 0;
    const shedder: Policy = {
      execute(task, options) {
        if (options?.priority === 'sheddable' && inProgress >= 10) {
          return Promise.reject(new LoadShedError('busy', 'capacity', 'sheddable'));
        }
        inProgress++;
        return Promise.resolve(
          task({
            signal: options?.signal ?? new AbortController().signal,
            attempt: 1,
            key: options?.key,
            data: options?.data as never,
            deadline: options?.deadline ?? Infinity,
            priority: options?.priority ?? 'critical',
          }),
        ).finally(() => inProgress--);
      },
    };
    const clock = new VirtualClock(1_000_000);
    const result = await simulate({
      seed: 8,
      clock,
      durationMs: 5_000,
      load: openLoop({ rps: 1_500, priorities: { critical: 0.4, sheddable: 0.6 } }),
      dependency: tenSlots,
      server: shedder,
      deadlineMs: 500,
    });
    const critical = result.byPriority.critical!;
    const sheddable = result.byPriority.sheddable!;
    expect(critical.offered / result.offered).toBeGreaterThan(0.37);
    expect(critical.offered / result.offered).toBeLessThan(0.43);
    expect(critical.goodShare).toBeGreaterThan(0.99);
    expect(critical.outcomes.LOAD_SHED).toBeUndefined();
    expect(sheddable.outcomes.LOAD_SHED).toBeGreaterThan(0);
    expect(result.goodput.ofCapacity).toBeGreaterThan(0.9);
    expect(clock.now()).toBeGreaterThan(1_005_000);
  });

  it("frees slots of abandoned calls with abandon 'free', and wastes them with 'keep-working'", async () => {
    const run = (abandon: 'free' | 'keep-working') =>
      simulate({
        seed: 6,
        durationMs: 5_000,
        load: openLoop({ rps: 1_500 }),
        dependency: dependency({ capacity: 10, latency: latency.constant(10), abandon }),
        deadlineMs: 200,
      });
    const free = await run('free');
    const working = await run('keep-working');
    expect(free.dependency.wasted).toBe(0);
    expect(free.dependency.freed).toBeGreaterThan(1_000);
    expect(working.dependency.wasted).toBeGreaterThan(1_000);
    expect(working.dependency.freed).toBe(0);
    // Freed slots serve others sooner, but FIFO still starts most calls near their deadline.
    expect(free.goodput.count).toBeGreaterThan(working.goodput.count);
  });

  it('follows a rate schedule and counts fallback substitutes apart', async () => {
    const result = await simulate({
      seed: 12,
      durationMs: 4_000,
      load: openLoop({
        rps: rate.steps([
          { atMs: 0, rps: 100 },
          { atMs: 2_000, rps: 300 },
        ]),
        arrivals: 'uniform',
      }),
      dependency: dependency({ capacity: 100, latency: latency.constant(5), failureRate: 0.5 }),
      policy: () => fallback({ value: () => 'cached' }),
    });
    expect(result.series.slice(0, 4).map((b) => b.offered)).toEqual([100, 100, 300, 300]);
    expect((result.outcomes.ok ?? 0) + (result.outcomes.fallback ?? 0)).toBe(800);
    expect(result.outcomes.fallback).toBeGreaterThan(300);
  });

  it('counts late successes when the deadline is not enforced', async () => {
    const result = await simulate({
      durationMs: 1_000,
      load: openLoop({ rps: 100, arrivals: 'uniform' }),
      dependency: dependency({ capacity: 10, latency: latency.constant(50) }),
      deadlineMs: 40,
      abortAtDeadline: false,
    });
    expect(result.outcomes).toEqual({ late: 100 });
    expect(result.goodput.count).toBe(0);
    expect(result.throughputRps).toBe(100);
  });

  it('stops after the drain time and counts calls still open as unfinished', async () => {
    const result = await simulate({
      durationMs: 1_000,
      drainMs: 5_000,
      load: closedLoop({ clients: 4, startSpreadMs: 400 }),
      dependency: dependency({
        capacity: 10,
        latency: latency.constant(100),
        changes: [{ atMs: 550, hang: true }],
      }),
    });
    // Clients start at 0, 100, 200 and 300 ms; each finishes its calls started by 500 ms, and
    // the next ones, at 600 ms, hang for good.
    expect(result.outcomes).toEqual({ ok: 6 + 5 + 4 + 3 });
    expect(result.unfinished).toBe(4);
    expect(result.endMs).toBe(1_000);
  });

  it('refuses bad options with a TypeError naming the option', async () => {
    const load = openLoop({ rps: 10 });
    const dep = tenSlots;
    await expect(simulate({ durationMs: 0, load, dependency: dep })).rejects.toThrow(
      'simulate: option "durationMs" must be a number of milliseconds >= 1 (got 0)',
    );
    await expect(simulate({ durationMs: 10, load: {} as never, dependency: dep })).rejects.toThrow(
      'simulate: option "load" must be a load from openLoop() or closedLoop()',
    );
    const built = retry();
    await expect(
      simulate({ durationMs: 10, load, dependency: dep, policy: built }),
    ).rejects.toThrow(
      /simulate: option "policy" must be a function \(\{ clock, random \}\) => policy/,
    );
    await expect(
      simulate({ durationMs: 10, load, dependency: dep, deadlineMs: -1 }),
    ).rejects.toThrow('simulate: option "deadlineMs"');
    await expect(
      simulate({ durationMs: 10, load, dependency: dep, policy: () => 5 as never }),
    ).rejects.toThrow(
      'simulate: option "policy" must be a policy (an object with execute()) (got 5)',
    );
  });
});
