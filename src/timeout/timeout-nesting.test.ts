import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../core/errors.js';
import type { ExecutionContext, Policy } from '../core/index.js';
import { pipeline } from '../core/pipeline.js';
import { backoff, retry } from '../retry/index.js';
import { VirtualClock } from '../testing/index.js';
import { type TimeoutStrategy, timeout } from './index.js';

/** When and how a call settled; `at` stays undefined while it has not. */
interface Settled {
  at: number | undefined;
  ok: boolean | undefined;
  value: unknown;
}

function track(clock: VirtualClock, call: Promise<unknown>): Settled {
  const settled: Settled = { at: undefined, ok: undefined, value: undefined };
  call.then(
    (value) => Object.assign(settled, { at: clock.now(), ok: true, value }),
    (error: unknown) => Object.assign(settled, { at: clock.now(), ok: false, value: error }),
  );
  return settled;
}

/** A task that ignores its signal and resolves with 'late' at `at` on the clock. */
function lateTask(clock: VirtualClock, at: number) {
  return () => new Promise<string>((resolve) => clock.setTimeout(() => resolve('late'), at));
}

const never = (): Promise<never> => new Promise(() => {});

/** Records which policy emitted a timeout event, by name. */
function timeoutsOf(...policies: ReturnType<typeof timeout>[]): string[] {
  const fired: string[] = [];
  for (const policy of policies) policy.on('timeout', () => fired.push(policy.name));
  return fired;
}

describe('an aggressive timeout inside a cooperative one', () => {
  it('rejects at the enclosing deadline, with the enclosing TimeoutError', async () => {
    const clock = new VirtualClock();
    const outer = timeout(50, { clock, name: 'outer' });
    const inner = timeout(100, { clock, name: 'inner', strategy: 'aggressive' });
    const fired = timeoutsOf(outer, inner);
    const settled = track(clock, pipeline(outer, inner).execute(lateTask(clock, 1_500)));
    await clock.advance(49);
    expect(settled.at).toBeUndefined();
    await clock.advance(1);
    expect(settled).toMatchObject({ at: 50, ok: false });
    expect(settled.value).toBeInstanceOf(TimeoutError);
    expect(settled.value).toMatchObject({ timeoutMs: 50 });
    expect(fired).toEqual(['outer']);
    expect(inner.pending).toBe(0);
    await clock.advance(2_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects once, with the outer error, when both budgets are equal', async () => {
    const clock = new VirtualClock();
    const outer = timeout(100, { clock, name: 'outer' });
    const inner = timeout(100, { clock, name: 'inner', strategy: 'aggressive' });
    const fired = timeoutsOf(outer, inner);
    let signal: AbortSignal | undefined;
    const settled = track(
      clock,
      pipeline(outer, inner).execute((ctx) => {
        signal = ctx.signal;
        return lateTask(clock, 1_500)();
      }),
    );
    await clock.advance(100);
    expect(settled).toMatchObject({ at: 100, ok: false, value: { timeoutMs: 100 } });
    expect(signal?.reason).toBe(settled.value);
    expect(fired).toEqual(['outer']);
  });

  it('rejects at the enclosing deadline with a retry between them', async () => {
    const clock = new VirtualClock();
    const again = retry({ maxAttempts: 3, backoff: backoff.constant(0), clock });
    const gaveUp: string[] = [];
    again.on('giveUp', ({ reason }) => gaveUp.push(reason));
    let runs = 0;
    const policy = pipeline(
      timeout(50, { clock }),
      again,
      timeout(100, { clock, strategy: 'aggressive' }),
    );
    const settled = track(
      clock,
      policy.execute(() => {
        runs++;
        return never();
      }),
    );
    await clock.advance(50);
    expect(settled).toMatchObject({ at: 50, ok: false, value: { code: 'TIMEOUT', timeoutMs: 50 } });
    expect(runs).toBe(1);
    expect(gaveUp).toEqual(['aborted']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('releases the caller of a task that never settles', async () => {
    const clock = new VirtualClock();
    const policy = pipeline(
      timeout(50, { clock }),
      timeout(100, { clock, strategy: 'aggressive' }),
    );
    const settled = track(clock, policy.execute(never));
    await clock.advance(50);
    expect(settled).toMatchObject({ at: 50, ok: false, value: { timeoutMs: 50 } });
    expect(clock.pendingTimers).toBe(0);
  });

  it('still uses its own deadline when that one comes first', async () => {
    const clock = new VirtualClock();
    const policy = pipeline(
      timeout(100, { clock }),
      timeout(30, { clock, strategy: 'aggressive' }),
    );
    const settled = track(clock, policy.execute(never));
    await clock.advance(30);
    expect(settled).toMatchObject({ at: 30, ok: false, value: { timeoutMs: 30 } });
  });

  it('rejects with the caller reason when the caller aborts first, leaving no listener', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const policy = pipeline(
      timeout(50, { clock }),
      timeout(100, { clock, strategy: 'aggressive' }),
    );
    const settled = track(clock, policy.execute(never, { signal: controller.signal }));
    await clock.advance(10);
    const reason = new Error('caller left');
    controller.abort(reason);
    await clock.advance(0);
    expect(settled).toMatchObject({ at: 10, ok: false, value: reason });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('a cooperative timeout inside an aggressive one', () => {
  it('leaves the expiry to the enclosing one, which rejects at its deadline', async () => {
    const clock = new VirtualClock();
    const outer = timeout(50, { clock, name: 'outer', strategy: 'aggressive' });
    const inner = timeout(100, { clock, name: 'inner' });
    const fired = timeoutsOf(outer, inner);
    let innerPending = -1;
    const settled = track(
      clock,
      pipeline(outer, inner).execute(() => {
        innerPending = inner.pending;
        return lateTask(clock, 1_500)();
      }),
    );
    await clock.advance(50);
    expect(settled).toMatchObject({ at: 50, ok: false, value: { timeoutMs: 50 } });
    expect(innerPending).toBe(0);
    expect(fired).toEqual(['outer']);
  });
});

type LayerSpec =
  | { kind: 'timeout'; ms: number; strategy: TimeoutStrategy }
  | { kind: 'retry'; attempts: number; delayMs: number };

interface TaskSpec {
  /** When the task settles on its own; Infinity: never. */
  settlesAt: number;
  fails: boolean;
  /** Whether it rejects with its signal's reason as soon as the signal aborts. */
  honoursSignal: boolean;
}

const timeoutSpec = fc.record({
  kind: fc.constant('timeout' as const),
  ms: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(Number.POSITIVE_INFINITY)),
  strategy: fc.constantFrom<TimeoutStrategy>('cooperative', 'aggressive'),
});
const retrySpec = fc.record({
  kind: fc.constant('retry' as const),
  attempts: fc.integer({ min: 1, max: 3 }),
  delayMs: fc.integer({ min: 0, max: 50 }),
});
const taskSpec = fc.record({
  settlesAt: fc.oneof(fc.integer({ min: 0, max: 800 }), fc.constant(Number.POSITIVE_INFINITY)),
  fails: fc.boolean(),
  honoursSignal: fc.boolean(),
});

/** Long enough for every call of the property to settle if it ever does. */
const horizon = 10_000;

/** Runs `task` under `layers` on a fresh clock; returns when it settled, Infinity if never. */
async function endOf(layers: LayerSpec[], task: TaskSpec): Promise<number> {
  const clock = new VirtualClock();
  const policies: Policy[] = layers.map((layer) =>
    layer.kind === 'timeout'
      ? timeout(layer.ms, { clock, strategy: layer.strategy })
      : retry({ maxAttempts: layer.attempts, backoff: backoff.constant(layer.delayMs), clock }),
  );
  const run = (ctx: ExecutionContext) =>
    new Promise((resolve, reject) => {
      if (task.honoursSignal) {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      }
      if (task.settlesAt === Number.POSITIVE_INFINITY) return;
      const settle = () => (task.fails ? reject(new Error('failed')) : resolve('done'));
      clock.setTimeout(settle, Math.max(0, task.settlesAt - clock.now()));
    });
  const settled = track(clock, pipeline(...policies).execute(run));
  await clock.advance(horizon);
  return settled.at ?? Number.POSITIVE_INFINITY;
}

describe('nesting timeouts, property', () => {
  it('adding an enclosing timeout never makes a call end later', async () => {
    await fc.assert(
      fc.asyncProperty(
        timeoutSpec,
        fc.array(fc.oneof(timeoutSpec, timeoutSpec, retrySpec), { minLength: 1, maxLength: 4 }),
        taskSpec,
        async (enclosing, layers, task) => {
          const alone = await endOf(layers, task);
          const enclosed = await endOf([enclosing, ...layers], task);
          expect(enclosed).toBeLessThanOrEqual(alone);
        },
      ),
      { numRuns: 300 },
    );
  });
});
