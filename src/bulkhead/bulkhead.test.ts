import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortScope } from '../core/abort-scope.js';
import { type Context, next } from '../core/context.js';
import { BulkheadRejectedError, ExecutionRejectedError, TimeoutError } from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
import { BasePolicy } from '../core/policy.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { type BulkheadEvents, bulkhead } from './index.js';

interface Gate<T = string> {
  readonly promise: Promise<T>;
  open(value: T): void;
  fail(error: unknown): void;
}

function gate<T = string>(): Gate<T> {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/** Lets queued promise reactions run without moving the clock. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Starts calls that each hang on their own gate, recording the order they start in. */
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
      { signal, key: `call-${id}` },
    );
  };
  return { started, gates, call };
}

describe('bulkhead', () => {
  it('runs at most `limit` calls and queues at most `queue`, refusing the rest with counts', async () => {
    const policy = bulkhead({ limit: 2, queue: 3, clock: new VirtualClock() });
    const { started, gates, call } = harness(policy);
    const calls = [0, 1, 2, 3, 4].map((id) => call(id));
    await flush();
    expect(started).toEqual([0, 1]);
    expect([policy.running, policy.queued]).toEqual([2, 3]);

    const refused = await call(5).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BulkheadRejectedError);
    expect(refused).toBeInstanceOf(ExecutionRejectedError);
    expect(refused).toMatchObject({ code: 'BULKHEAD_FULL', running: 2, queued: 3 });
    expect((refused as Error).message).toBe('bulkhead is full (2 of 2 running, 3 of 3 queued)');
    expect(started).toEqual([0, 1]);

    for (const g of gates.slice(0, 5)) g.open('done');
    await expect(Promise.all(calls)).resolves.toEqual(['done', 'done', 'done', 'done', 'done']);
    expect([policy.running, policy.queued]).toEqual([0, 0]);
    expect({ limit: policy.limit, queueLimit: policy.queueLimit }).toEqual({
      limit: 2,
      queueLimit: 3,
    });
  });

  it('refuses at once with no queue by default', async () => {
    const policy = bulkhead({ limit: 1 });
    const { gates, call } = harness(policy);
    const first = call(0);
    await expect(call(1)).rejects.toMatchObject({ running: 1, queued: 0 });
    gates[0]!.open('ok');
    await expect(first).resolves.toBe('ok');
    expect(policy.queueLimit).toBe(0);
  });

  it('serves the queue first in, first out, and a newcomer never overtakes it', async () => {
    const policy = bulkhead({ limit: 1, queue: 10 });
    const { started, gates, call } = harness(policy);
    const calls = [call(0), call(1), call(2), call(3)];
    await flush();
    gates[0]!.open('0');
    await calls[0];
    // The slot went straight to call 1, so a call arriving now must wait its turn.
    expect([policy.running, policy.queued]).toEqual([1, 2]);
    calls.push(call(4));
    for (const id of [1, 2, 3, 4]) {
      await flush();
      gates[id]!.open(String(id));
    }
    await Promise.all(calls);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('hands the slot over when the running call fails, and when a task throws synchronously', async () => {
    const policy = bulkhead({ limit: 1, queue: 2 });
    const { started, gates, call } = harness(policy);
    const first = call(0);
    const second = call(1);
    const third = policy.execute(() => {
      started.push(2);
      throw new RangeError('sync');
    });
    await flush();
    gates[0]!.fail(new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    expect(started).toEqual([0, 1]);
    expect([policy.running, policy.queued]).toEqual([1, 1]);
    gates[1]!.open('fine');
    await expect(second).resolves.toBe('fine');
    await expect(third).rejects.toThrow(RangeError);
    expect([policy.running, policy.queued]).toEqual([0, 0]);
    await expect(policy.execute(() => 'again')).resolves.toBe('again');
  });

  it('refuses a queued call whose wait runs out, one shared timer for the whole queue', async () => {
    const clock = new VirtualClock();
    const policy = bulkhead({ limit: 1, queue: 5, queueTimeoutMs: 100, clock });
    const { started, gates, call } = harness(policy);
    const running = call(0);
    const early = call(1);
    await clock.advance(30);
    const late = call(2);
    const earlyOutcome = early.catch((error: unknown) => error);
    expect(clock.pendingTimers).toBe(1);

    await clock.advance(69);
    expect(policy.queued).toBe(2);
    await clock.advance(1);
    const error = await earlyOutcome;
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect((error as Error).message).toBe(
      'bulkhead timed out in the queue after 100 ms (1 of 1 running, 1 of 5 queued)',
    );
    expect(error).toMatchObject({ running: 1, queued: 1 });
    expect(policy.queued).toBe(1);
    expect(clock.pendingTimers).toBe(1);

    const lateOutcome = late.catch((e: unknown) => e);
    await clock.advance(30);
    expect(await lateOutcome).toBeInstanceOf(BulkheadRejectedError);
    expect(clock.pendingTimers).toBe(0);
    gates[0]!.open('first');
    await expect(running).resolves.toBe('first');
    expect(started).toEqual([0]);
    expect(policy.running).toBe(0);
  });

  it('clears the queue timer when the last waiter gets its slot in time', async () => {
    const clock = new VirtualClock();
    const policy = bulkhead({ limit: 1, queue: 1, queueTimeoutMs: 100, clock });
    const { gates, call } = harness(policy);
    const first = call(0);
    const second = call(1);
    await clock.advance(50);
    expect(clock.pendingTimers).toBe(1);
    gates[0]!.open('a');
    await first;
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(100);
    gates[1]!.open('b');
    await expect(second).resolves.toBe('b');
  });

  it('drops a queued call at once when its caller aborts, leaving no listener or timer', async () => {
    const clock = new VirtualClock();
    const policy = bulkhead({ limit: 1, queue: 3, queueTimeoutMs: 1_000, clock });
    const { started, gates, call } = harness(policy);
    const controller = new AbortController();
    const first = call(0);
    const before = call(1);
    const aborted = call(2, controller.signal);
    const after = call(3);
    await flush();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);

    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(policy.queued).toBe(2);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);

    for (const id of [0, 1, 3]) {
      await flush();
      gates[id]!.open(String(id));
    }
    await Promise.all([first, before, after]);
    expect(started).toEqual([0, 1, 3]);
    expect(clock.pendingTimers).toBe(0);
    expect(policy.running).toBe(0);
  });

  it('removes the last waiter on abort and disarms the queue timer', async () => {
    const clock = new VirtualClock();
    const policy = bulkhead({ limit: 1, queue: 1, queueTimeoutMs: 1_000, clock });
    const { gates, call } = harness(policy);
    const controller = new AbortController();
    const first = call(0);
    const waiting = call(1, controller.signal);
    await flush();
    expect(clock.pendingTimers).toBe(1);
    controller.abort('stop');
    await expect(waiting).rejects.toBe('stop');
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    gates[0]!.open('x');
    await first;
  });

  it('keeps order when many waiters leave from the middle of the queue', async () => {
    const policy = bulkhead({ limit: 1, queue: 200 });
    const { started, gates, call } = harness(policy);
    const controllers = Array.from({ length: 201 }, () => new AbortController());
    const calls = controllers.map((c, id) => call(id, c.signal).catch(() => 'aborted'));
    await flush();
    for (let id = 199; id >= 1; id -= 2) controllers[id]!.abort('gone');
    await flush();
    expect(policy.queued).toBe(100);
    for (let id = 0; id <= 200; id += 2) {
      await flush();
      gates[id]!.open('ok');
    }
    await Promise.all(calls);
    expect(started).toEqual(Array.from({ length: 101 }, (_, i) => i * 2));
  });

  it('does not start a call whose caller aborted as its slot was handed over', async () => {
    const policy = bulkhead({ limit: 1, queue: 1 });
    const { started, gates, call } = harness(policy);
    const controller = new AbortController();
    const first = call(0);
    const second = call(1, controller.signal);
    policy.on('dequeued', () => controller.abort('late abort'));
    await flush();
    gates[0]!.open('done');
    await first;
    await expect(second).rejects.toBe('late abort');
    expect(started).toEqual([0]);
    expect(policy.running).toBe(0);
  });

  it('does not start a call whose context is already aborted', async () => {
    const policy = bulkhead({ limit: 1 });
    let ran = false;
    const result = pipeline(new AbortsInside(), policy).execute(() => {
      ran = true;
    });
    await expect(result).rejects.toBe('aborted upstream');
    expect(ran).toBe(false);
    expect(policy.running).toBe(0);
  });

  it('leaves the queue when an enclosing timeout expires', async () => {
    const clock = new VirtualClock();
    const policy = bulkhead({ limit: 1, queue: 1, clock });
    const { gates, call } = harness(policy);
    const first = call(0);
    const timed = pipeline(timeout(50, { clock }), policy).execute(() => 'never');
    const settled = expect(timed).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(50);
    await settled;
    expect(policy.queued).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    gates[0]!.open('x');
    await first;
  });

  it('emits queued, dequeued and rejected events', async () => {
    const clock = new VirtualClock();
    const policy = bulkhead({ limit: 1, queue: 2, queueTimeoutMs: 100, clock, name: 'db' });
    const events: [string, unknown][] = [];
    for (const type of ['queued', 'dequeued', 'rejected'] as (keyof BulkheadEvents)[]) {
      policy.on(type, (detail) => events.push([type, detail]));
    }
    const { gates, call } = harness(policy);
    const controller = new AbortController();
    const first = call(0);
    const served = call(1);
    const abandoned = call(2, controller.signal).catch(() => 'aborted');
    await call(3).catch(() => 'full');
    await clock.advance(10);
    controller.abort('bye');
    await abandoned;
    await clock.advance(15);
    gates[0]!.open('a');
    await first;
    const timedOut = call(4).catch(() => 'timed out');
    await clock.advance(100);
    await timedOut;
    gates[1]!.open('b');
    await served;

    expect(events).toEqual([
      ['queued', { key: 'call-1', running: 1, queued: 1 }],
      ['queued', { key: 'call-2', running: 1, queued: 2 }],
      ['rejected', { key: 'call-3', reason: 'full', running: 1, queued: 2 }],
      ['dequeued', { key: 'call-2', waitedMs: 10, result: 'aborted' }],
      ['dequeued', { key: 'call-1', waitedMs: 25, result: 'started' }],
      ['queued', { key: 'call-4', running: 1, queued: 1 }],
      ['dequeued', { key: 'call-4', waitedMs: 100, result: 'queueTimeout' }],
      ['rejected', { key: 'call-4', reason: 'queueTimeout', running: 1, queued: 0 }],
    ]);
  });

  it('validates its options with clear messages', () => {
    expect(() => bulkhead(undefined as never)).toThrow(
      'bulkhead: option "limit" must be an integer >= 1 (got undefined)',
    );
    expect(() => bulkhead(5 as never)).toThrow('bulkhead: options must be an object (got 5)');
    expect(() => bulkhead({ limit: 0 })).toThrow(/"limit" must be an integer >= 1 \(got 0\)/);
    expect(() => bulkhead({ limit: 1.5 })).toThrow(/"limit" must be an integer >= 1/);
    expect(() => bulkhead({ limit: 1, queue: -1 })).toThrow(
      'bulkhead: option "queue" must be an integer >= 0 or Infinity (got -1)',
    );
    expect(() => bulkhead({ limit: 1, queueTimeoutMs: Number.NaN })).toThrow(
      'bulkhead: option "queueTimeoutMs" must be a number of milliseconds >= 0 or Infinity (got NaN)',
    );
    expect(() => bulkhead({ limit: 1, clock: {} as never })).toThrow(/option "clock" must be/);
    expect(() => bulkhead({ limit: 1, name: '' })).toThrow(/option "name" must be a non-empty/);
    expect(() => bulkhead({ limit: 2, name: 'db', queue: '3' as never })).toThrow(
      'db: option "queue" must be an integer >= 0 or Infinity (got "3")',
    );
    const frozen = Object.freeze({ limit: 3 });
    expect(bulkhead(frozen).queueLimit).toBe(0);
    expect(bulkhead({ limit: 1, queue: Infinity }).queueLimit).toBe(Infinity);
  });
});

/** Aborts the scope the rest of the pipeline sees before passing the call on. */
class AbortsInside extends BasePolicy {
  constructor() {
    super('aborts-inside', undefined);
  }

  run(context: Context, index: number): Promise<unknown> {
    const scope = new AbortScope(context.scope);
    scope.abort('aborted upstream');
    return next(context.withDeadline(scope, context.deadline), index + 1);
  }
}
