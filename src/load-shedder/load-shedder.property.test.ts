import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Priority, priorities } from '../core/context.js';
import { LoadShedError } from '../core/errors.js';
import type { ConcurrencyLimit } from '../core/limit.js';
import { VirtualClock } from '../testing/index.js';
import { type LoadShedderOptions, loadShedder } from './index.js';
import { flush } from './test-helpers.js';

// Random arrivals, completions, aborts and time against invariants that must hold after every
// step: the shedder never runs more than its limit, serves and evicts by priority, and every
// call ends exactly once, either run or refused.

interface Call {
  readonly id: string;
  readonly priority: Priority;
  readonly controller: AbortController | undefined;
  started: boolean;
  settled: 'value' | 'failure' | 'shed' | 'aborted' | undefined;
  settles: number;
  finish?: (fail: boolean) => void;
}

const rank = (p: Priority) => priorities.indexOf(p);

const configs = fc.record({
  limit: fc.integer({ min: 1, max: 4 }),
  queue: fc.integer({ min: 0, max: 6 }),
  queueTimeoutMs: fc.constantFrom(Number.POSITIVE_INFINITY, 15, 60),
  codel: fc.boolean(),
  lifo: fc.boolean(),
  adaptive: fc.boolean(),
  pressure: fc.boolean(),
  thresholds: fc.option(
    fc.record({
      'sheddable-plus': fc.constantFrom(0.5, 0.9, 1, 1),
      sheddable: fc.constantFrom(0, 0.5, 0.8, 1, 1),
    }),
    { nil: undefined },
  ),
});

const ops = fc.array(
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('arrive' as const),
        priority: fc.constantFrom(...priorities),
        abortable: fc.boolean(),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('complete' as const),
        pick: fc.nat(),
        fail: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('advance' as const),
        ms: fc.integer({ min: 1, max: 40 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('pressure' as const), on: fc.boolean() }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('limit' as const),
        value: fc.integer({ min: 1, max: 5 }),
      }),
    },
  ),
  { maxLength: 60 },
);

describe('loadShedder properties', () => {
  it('keeps to its limit, serves and evicts by priority, and ends every call exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(configs, ops, async (config, steps) => {
        const clock = new VirtualClock();
        const adaptive = { current: config.limit, sample: () => {} } satisfies ConcurrencyLimit;
        const options: LoadShedderOptions = {
          limit: config.adaptive ? adaptive : config.limit,
          queue: config.queue,
          queueTimeoutMs: config.queueTimeoutMs,
          codel: config.codel,
          lifo: config.lifo,
          clock,
        };
        if (config.thresholds !== undefined) options.thresholds = config.thresholds;
        let stressed = false;
        if (config.pressure) {
          options.pressure = { eventLoopUtilization: 0.9, sampleIntervalMs: 10 };
          options.pressureSource = () => ({ eventLoopUtilization: stressed ? 1 : 0 });
        }
        const policy = loadShedder(options);
        const calls: Call[] = [];
        /** Waiting ids by priority rank, in arrival order, rebuilt from the events. */
        const waiting: string[][] = priorities.map(() => []);
        let arriving: Call | undefined;
        const problems: string[] = [];

        policy.on('queued', ({ key, priority }) => waiting[rank(priority)]!.push(key!));
        policy.on('shed', ({ key, priority, reason }) => {
          if (reason !== 'pressure') return;
          if (rank(priority) < 2 || !policy.underPressure) problems.push(`${key} shed by pressure`);
        });
        policy.on('dequeued', ({ key, priority, result }) => {
          const list = waiting[rank(priority)]!;
          const at = list.indexOf(key!);
          if (at === -1) problems.push(`${key} dequeued without being queued`);
          if (result === 'started') {
            const higher = waiting.slice(0, rank(priority)).some((l) => l.length > 0);
            if (higher) problems.push(`${key} started while a more critical call waited`);
            if (!config.lifo && at !== 0) problems.push(`${key} overtook its own priority`);
            if (at !== 0 && at !== list.length - 1) problems.push(`${key} served from the middle`);
            if (policy.running > policy.limit) problems.push(`started ${key} over the limit`);
          }
          if (result === 'codel' && !config.codel) problems.push(`${key} shed by CoDel, off`);
          if (result === 'queue-timeout' && config.queueTimeoutMs === Number.POSITIVE_INFINITY) {
            problems.push(`${key} timed out with no queue timeout`);
          }
          if (result === 'evicted') {
            if (arriving === undefined || rank(arriving.priority) >= rank(priority)) {
              problems.push(`${key} (${priority}) evicted by ${arriving?.priority}`);
            }
            const lower = waiting.slice(rank(priority) + 1).some((l) => l.length > 0);
            if (lower) problems.push(`${key} evicted while a less critical call waited`);
            if (at !== list.length - 1) problems.push(`${key} evicted but not the newest`);
          }
          list.splice(at, 1);
        });

        const check = async (step: string) => {
          await flush();
          const stats = policy.stats();
          const running = calls.filter((c) => c.started && c.settled === undefined).length;
          const unsettled = calls.filter((c) => c.settled === undefined).length;
          const by = Object.values(stats.byPriority);
          const shed = priorities.map(
            (p) => calls.filter((c) => c.priority === p && c.settled === 'shed').length,
          );
          expect(problems, step).toEqual([]);
          if (!config.adaptive) expect(stats.running, step).toBeLessThanOrEqual(config.limit);
          expect(stats.queued, step).toBeLessThanOrEqual(config.queue);
          expect(stats.running, step).toBe(running);
          expect(stats.running + stats.queued, step).toBe(unsettled);
          expect(
            by.reduce((n, s) => n + s.running, 0),
            step,
          ).toBe(stats.running);
          expect(
            by.reduce((n, s) => n + s.queued, 0),
            step,
          ).toBe(stats.queued);
          expect(
            by.map((s) => s.shed),
            step,
          ).toEqual(shed);
          const mine = (p: Priority, c: Call) => c.priority === p && c.settled === undefined;
          expect(
            by.map((s) => s.running),
            step,
          ).toEqual(priorities.map((p) => calls.filter((c) => mine(p, c) && c.started).length));
          expect(
            by.map((s) => s.queued),
            step,
          ).toEqual(priorities.map((p) => calls.filter((c) => mine(p, c) && !c.started).length));
          expect(
            waiting.map((l) => l.length),
            step,
          ).toEqual(by.map((s) => s.queued));
          for (const call of calls) expect(call.settles, call.id).toBeLessThanOrEqual(1);
        };

        const start = (priority: Priority, abortable: boolean) => {
          const call: Call = {
            id: `c${calls.length}`,
            priority,
            controller: abortable ? new AbortController() : undefined,
            started: false,
            settled: undefined,
            settles: 0,
          };
          calls.push(call);
          arriving = call;
          policy
            .execute(
              () => {
                if (call.started) problems.push(`${call.id} ran twice`);
                call.started = true;
                if (policy.running > policy.limit && !config.adaptive) {
                  problems.push(`${call.id} ran over the limit`);
                }
                return new Promise<string>((resolve, reject) => {
                  call.finish = (fail) => (fail ? reject(new Error('boom')) : resolve(call.id));
                });
              },
              { key: call.id, priority, signal: call.controller?.signal },
            )
            .then(
              (value) => {
                call.settles++;
                call.settled = 'value';
                if (value !== call.id || !call.started) problems.push(`${call.id} wrong value`);
              },
              (error: unknown) => {
                call.settles++;
                if (error instanceof LoadShedError) {
                  call.settled = 'shed';
                  if (call.started) problems.push(`${call.id} ran and was shed`);
                  if (error.priority !== priority) problems.push(`${call.id} wrong priority`);
                } else if (error === call.controller?.signal.reason) {
                  call.settled = 'aborted';
                  if (call.started) problems.push(`${call.id} ran and reported the abort`);
                } else {
                  call.settled = 'failure';
                  if (!call.started) problems.push(`${call.id} failed without running`);
                }
              },
            );
          arriving = undefined;
        };

        for (const [i, op] of steps.entries()) {
          if (op.kind === 'arrive') start(op.priority, op.abortable);
          else if (op.kind === 'complete') {
            const running = calls.filter((c) => c.started && c.settled === undefined);
            const call = running[op.pick % Math.max(1, running.length)];
            call?.finish?.(op.fail);
          } else if (op.kind === 'abort') {
            const live = calls.filter((c) => c.controller !== undefined && c.settled === undefined);
            live[op.pick % Math.max(1, live.length)]?.controller?.abort(new Error('gave up'));
          } else if (op.kind === 'advance') await clock.advance(op.ms);
          else if (op.kind === 'pressure') stressed = op.on;
          else if (config.adaptive) adaptive.current = op.value;
          await check(`step ${i}: ${JSON.stringify(op)}`);
        }

        // Drain: finish everything that runs until nothing is left; every call has ended.
        adaptive.current = config.limit;
        for (let round = 0; calls.some((c) => c.settled === undefined); round++) {
          expect(round).toBeLessThan(200);
          for (const call of calls)
            if (call.started && call.settled === undefined) call.finish?.(false);
          await clock.advance(10);
          await check(`drain ${round}`);
        }
        for (const call of calls) {
          expect(call.settles, call.id).toBe(1);
          if (call.controller !== undefined) {
            expect(getEventListeners(call.controller.signal, 'abort'), call.id).toHaveLength(0);
          }
        }
        expect([policy.running, policy.queued]).toEqual([0, 0]);
        expect(clock.pendingTimers).toBe(0);
        policy.close();
        expect(clock.armedTimers).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});
