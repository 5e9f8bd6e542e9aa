import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import {
  type ExecuteOptions,
  type ExecutionContext,
  type Policy,
  pipeline,
  TimeoutError,
  telemetry,
} from './index.js';

describe('pipeline', () => {
  it('runs the task with a context carrying key, data, attempt and deadline', async () => {
    const seen: ExecutionContext<{ user: string }>[] = [];
    const result = await pipeline().execute(
      (ctx) => {
        seen.push(ctx);
        return 42;
      },
      { key: 'db-1', data: { user: 'ada' } },
    );
    expect(result).toBe(42);
    expect(seen[0]).toMatchObject({ key: 'db-1', data: { user: 'ada' }, attempt: 1 });
    expect(seen[0]!.deadline).toBe(Number.POSITIVE_INFINITY);
    expect(seen[0]!.signal.aborted).toBe(false);
  });

  it('reports synchronous throws, plain values and non-Error rejections faithfully', async () => {
    const p = pipeline();
    await expect(
      p.execute(() => {
        throw new RangeError('sync');
      }),
    ).rejects.toThrow(RangeError);
    await expect(p.execute(() => 'plain')).resolves.toBe('plain');
    await expect(p.execute(() => Promise.reject('a string'))).rejects.toBe('a string');
    await expect(p.execute(() => Promise.reject(undefined))).rejects.toBeUndefined();
  });

  it('refuses a missing task and a non-policy argument with clear errors', async () => {
    await expect(pipeline().execute(undefined as never)).rejects.toThrow(
      /execute\(\) needs a function/,
    );
    expect(() => pipeline({} as Policy)).toThrow(/argument 1 must be a policy/);
  });

  it('refuses bad execute options with errors naming them, without running the task', async () => {
    let ran = false;
    const task = () => {
      ran = true;
    };
    const p = pipeline();
    await expect(p.execute(task, 'fast' as never)).rejects.toThrow(
      'pipeline: execute() options must be an object (got "fast")',
    );
    await expect(p.execute(task, { signal: {} as AbortSignal })).rejects.toThrow(
      'pipeline: execute() option "signal" must be an AbortSignal (got {})',
    );
    await expect(p.execute(task, { key: 7 as never })).rejects.toThrow(
      'pipeline: execute() option "key" must be a string (got 7)',
    );
    await expect(p.execute(task, { deadline: Number.NaN })).rejects.toThrow(
      `pipeline: execute() option "deadline" must be a number on the clock's scale (got NaN)`,
    );
    expect(ran).toBe(false);
  });

  it('rejects at once with the caller reason when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    let ran = false;
    await expect(
      pipeline().execute(
        () => {
          ran = true;
        },
        { signal: controller.signal },
      ),
    ).rejects.toThrow('caller gave up');
    expect(ran).toBe(false);
  });

  it('nests deadlines: the inner context sees the earliest', async () => {
    const clock = new VirtualClock(1_000);
    const deadlines: number[] = [];
    await pipeline(timeout(500, { clock }), timeout(2_000, { clock })).execute((ctx) => {
      deadlines.push(ctx.deadline);
    });
    await pipeline(timeout(500, { clock })).execute(
      (ctx) => {
        deadlines.push(ctx.deadline);
      },
      { deadline: 1_200 },
    );
    expect(deadlines).toEqual([1_500, 1_200]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('lets a foreign policy join a pipeline and pass its own context on', async () => {
    const clock = new VirtualClock();
    const foreign: Policy = {
      execute: <T, D>(
        task: (ctx: ExecutionContext<D>) => T | PromiseLike<T>,
        options?: { signal?: AbortSignal; key?: string; data?: D; deadline?: number },
      ) => Promise.resolve(task({ ...contextOf(options), attempt: 7 } as ExecutionContext<D>)),
    };
    const attempts: number[] = [];
    await pipeline(timeout(100, { clock }), foreign).execute((ctx) => {
      attempts.push(ctx.attempt);
    });
    expect(attempts).toEqual([7]);
  });

  it('delivers every policy event to the telemetry bus with the policy name', async () => {
    const clock = new VirtualClock();
    const events: unknown[] = [];
    const dispose = telemetry.subscribe((event) => events.push(event));
    const policy = timeout(10, { clock, name: 'db-timeout' });
    const running = policy.execute(
      (ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        ),
    );
    const settled = expect(running).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(10);
    await settled;
    dispose();
    expect(events).toEqual([
      {
        policy: 'db-timeout',
        kind: 'timeout',
        type: 'timeout',
        detail: { timeoutMs: 10, strategy: 'cooperative' },
      },
    ]);
    expect(telemetry.active).toBe(false);
  });

  it('leaves no listener on the caller signal once a call settles', async () => {
    const controller = new AbortController();
    const clock = new VirtualClock();
    await pipeline(timeout(100, { clock })).execute((ctx) => ctx.signal.aborted, {
      signal: controller.signal,
    });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('turns a layer that throws (a broken clock) into a rejection; outer layers still clean up', async () => {
    const virtual = new VirtualClock();
    const brokenClock = {
      now: (): number => {
        throw new Error('clock broke');
      },
      setTimeout: virtual.setTimeout.bind(virtual),
      clearTimeout: virtual.clearTimeout.bind(virtual),
    };
    const slots = bulkhead({ limit: 1 });
    const guarded = pipeline(slots, timeout(100, { clock: brokenClock }));
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = guarded.execute(() => 'never runs');
    }).not.toThrow();
    await expect(result).rejects.toThrow('clock broke');
    expect(slots.running).toBe(0);
  });
});

function contextOf(options: ExecuteOptions | undefined): ExecutionContext {
  return {
    priority: options?.priority ?? 'critical',
    signal: options?.signal ?? new AbortController().signal,
    attempt: 1,
    key: options?.key,
    data: options?.data,
    deadline: options?.deadline ?? Number.POSITIVE_INFINITY,
  };
}
