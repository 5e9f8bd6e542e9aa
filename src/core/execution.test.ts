import { afterEach, describe, expect, it } from 'vitest';
import { circuitBreaker } from '../circuit-breaker/index.js';
import { hedge } from '../hedge/index.js';
import { backoff, retry } from '../retry/index.js';
import { telemetry as typedTelemetry } from '../telemetry.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import type { Clock } from './clock.js';
import {
  type AnyTelemetryEvent,
  BrokenCircuitError,
  type Disposer,
  type ExecutionEvents,
  pipeline,
  TimeoutError,
  telemetry,
} from './index.js';

type Execution = ExecutionEvents['execution'];
type Attempt = ExecutionEvents['attempt'];

const stops: Disposer[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** Subscribes for execution events and keeps those of `policy`. */
function record(policy: string): AnyTelemetryEvent[] {
  const seen: AnyTelemetryEvent[] = [];
  stops.push(
    telemetry.subscribe(
      (event) => {
        if (event.policy === policy) seen.push(event);
      },
      { executions: true },
    ),
  );
  return seen;
}

/** A clock that counts how often it is read. */
function countingClock(): Clock & { reads: number } {
  const clock = {
    reads: 0,
    now() {
      clock.reads++;
      return 0;
    },
    setTimeout: () => undefined,
    clearTimeout() {},
  };
  return clock;
}

describe('execution events', () => {
  it('time each call and each attempt on the pipeline clock', async () => {
    const clock = new VirtualClock(1_000);
    const policy = pipeline(
      retry({ maxAttempts: 3, backoff: backoff.constant(1_000), clock }),
      timeout(500, { clock }),
      { name: 'payments' },
    );
    const seen = record('payments');
    let runs = 0;
    const call = policy.execute(
      async () => {
        runs++;
        await new Promise((resolve) =>
          clock.setTimeout(() => resolve(undefined), runs === 1 ? 100 : 50),
        );
        if (runs === 1) throw new Error('flaky');
        return 'paid';
      },
      { key: 'tenant-1', priority: 'sheddable' },
    );
    await clock.advance(1_150);
    await expect(call).resolves.toBe('paid');

    expect(seen.map((event) => `${event.kind}.${event.type}`)).toEqual([
      'pipeline.attempt',
      'pipeline.attempt',
      'pipeline.execution',
    ]);
    const [first, second, execution] = seen.map((event) => event.detail) as [
      Attempt,
      Attempt,
      Execution,
    ];
    expect(first).toMatchObject({ attempt: 1, startedAt: 1_000, durationMs: 100 });
    expect(first.outcome).toBe('failure');
    expect((first.error as Error).message).toBe('flaky');
    expect(second).toMatchObject({ attempt: 2, startedAt: 2_100, durationMs: 50 });
    expect(second).toMatchObject({ outcome: 'success', error: undefined, key: 'tenant-1' });
    expect(execution).toEqual({
      call: first.call,
      startedAt: 1_000,
      durationMs: 1_150,
      outcome: 'success',
      aborted: false,
      attempts: 2,
      key: 'tenant-1',
      priority: 'sheddable',
      error: undefined,
    });
    expect(second.call).toBe(first.call);
  });

  it('call a refusal rejected and anything else a failure', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ consecutiveFailures: 1, clock });
    const policy = pipeline(breaker, timeout(100, { clock }), { name: 'outcomes' });
    const seen = record('outcomes');
    const executions = () =>
      seen.filter((event) => event.type === 'execution').map((event) => event.detail as Execution);

    const boom = new Error('boom');
    await expect(policy.execute(() => Promise.reject(boom))).rejects.toBe(boom);
    await expect(policy.execute(() => 1)).rejects.toBeInstanceOf(BrokenCircuitError);
    breaker.reset();
    const hung = policy.execute(
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', reject)),
    );
    const timedOut = expect(hung).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(100);
    await timedOut;

    expect(executions().map(({ outcome, attempts }) => [outcome, attempts])).toEqual([
      ['failure', 1],
      ['rejected', 0],
      ['rejected', 1],
    ]);
    expect(executions()[0]!.error).toBe(boom);
    expect(executions()[2]!.durationMs).toBe(100);
  });

  it("flag the caller's abort, before the call or during it", async () => {
    const clock = new VirtualClock();
    const policy = pipeline(retry({ clock }), { name: 'aborts' });
    const seen = record('aborts');

    const early = new AbortController();
    early.abort(new Error('gone already'));
    await expect(policy.execute(() => 1, { signal: early.signal })).rejects.toThrow('gone');

    const late = new AbortController();
    const call = policy.execute(
      ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
      { signal: late.signal },
    );
    await clock.advance(30);
    late.abort(new Error('client left'));
    await expect(call).rejects.toThrow('client left');

    const executions = seen.filter((event) => event.type === 'execution');
    expect(executions.map((event) => event.detail)).toMatchObject([
      { outcome: 'failure', aborted: true, attempts: 0, durationMs: 0 },
      { outcome: 'failure', aborted: true, attempts: 1, durationMs: 30 },
    ]);
  });

  it("report a hedge's losing attempt when it ends, after its call", async () => {
    const clock = new VirtualClock();
    const policy = pipeline(hedge({ delayMs: 10, clock }), { name: 'hedged' });
    const seen = record('hedged');
    let runs = 0;
    const call = policy.execute(() => {
      const ms = ++runs === 1 ? 100 : 20; // the original is slow and ignores its signal
      return new Promise((resolve) => clock.setTimeout(() => resolve(ms), ms));
    });
    await clock.advance(100);
    await expect(call).resolves.toBe(20);
    expect(
      seen.map(({ type, detail }) => {
        const { attempt, startedAt, durationMs } = detail as Attempt;
        return type === 'attempt' ? `attempt ${attempt} ${startedAt}+${durationMs}` : type;
      }),
    ).toEqual(['attempt 2 10+20', 'execution', 'attempt 1 0+100']);
    expect((seen[1]!.detail as Execution).attempts).toBe(2);
  });

  it('come from a policy called directly, under its own kind', async () => {
    const clock = new VirtualClock();
    const policy = retry({ name: 'direct', clock });
    const own: Execution[] = [];
    stops.push(policy.on('execution', (detail) => own.push(detail)));
    const seen = record('direct');
    await policy.execute(() => 'ok');
    expect(own).toHaveLength(1);
    expect(seen.map((event) => [event.kind, event.type])).toEqual([
      ['retry', 'attempt'],
      ['retry', 'success'],
      ['retry', 'execution'],
    ]);
  });

  it('are typed on the bus: kind and type narrow the detail', async () => {
    const outcomes: string[] = [];
    stops.push(
      typedTelemetry.subscribe(
        (event) => {
          if (event.kind === 'pipeline' && event.type === 'execution') {
            outcomes.push(`${event.policy} ${event.detail.outcome} ${event.detail.attempts}`);
          }
        },
        { executions: true },
      ),
    );
    await pipeline(retry(), { name: 'typed' }).execute(() => 'ok');
    expect(outcomes).toEqual(['typed success 1']);
  });

  it('reach only the bus subscribers that ask for them', async () => {
    const plain: AnyTelemetryEvent[] = [];
    stops.push(telemetry.subscribe((event) => plain.push(event)));
    await pipeline(retry(), { name: 'quiet' }).execute(() => 'ok');
    expect(plain.filter((event) => event.policy === 'quiet')).toEqual([]);
  });

  it('cost no clock read and no event while nobody observes them', async () => {
    const clock = countingClock();
    const policy = pipeline({ name: 'unobserved', clock });
    const plain: AnyTelemetryEvent[] = [];
    stops.push(telemetry.subscribe((event) => plain.push(event)));
    const reads = async (): Promise<number> => {
      const before = clock.reads;
      await policy.execute(() => 1);
      return clock.reads - before;
    };

    const stopAttempts = policy.on('attempt', () => {});
    expect(await reads()).toBe(2); // the call's start, which is also the attempt's, and its end
    stopAttempts();
    const stopExecutions = policy.on('execution', () => {});
    expect(await reads()).toBe(2); // the call's start and end
    stops.push(policy.on('attempt', () => {}));
    expect(await reads()).toBe(3);
    stopExecutions();
    stops.pop()!();
    expect(await reads()).toBe(0);
    expect(plain).toEqual([]);
  });

  it('reach a bus subscriber only of the kinds it asked for', async () => {
    const types = (options: { executions?: boolean; attempts?: boolean }): string[] => {
      const seen: string[] = [];
      stops.push(
        telemetry.subscribe((event) => {
          if (event.policy === 'split') seen.push(event.type);
        }, options),
      );
      return seen;
    };
    const both = types({ executions: true });
    const executionsOnly = types({ executions: true, attempts: false });
    const attemptsOnly = types({ attempts: true });
    await pipeline({ name: 'split' }).execute(() => 1);
    expect(both).toEqual(['attempt', 'execution']);
    expect(executionsOnly).toEqual(['execution']);
    expect(attemptsOnly).toEqual(['attempt']);
    expect(() => telemetry.subscribe(() => {}, { attempts: 'yes' as never })).toThrow(
      'telemetry: option "attempts" must be a boolean (got yes)',
    );
  });
});

describe('pipeline options', () => {
  it('take the clock of the first member given one', async () => {
    const clock = new VirtualClock(5_000);
    const policy = pipeline(retry(), timeout(100, { clock }), { name: 'inherits' });
    const seen = record('inherits');
    await policy.execute(() => 1);
    expect((seen.at(-1)!.detail as Execution).startedAt).toBe(5_000);
  });

  it('are refused when malformed, naming the option', () => {
    expect(() => pipeline(retry(), { name: '' })).toThrow(
      'pipeline: option "name" must be a non-empty string (got "")',
    );
    expect(() => pipeline(retry(), { clock: {} as Clock })).toThrow(
      /pipeline: option "clock" must be a Clock/,
    );
  });

  it('leave a pipeline without them named after its kind', () => {
    expect(pipeline(retry()).name).toBe('pipeline');
    expect(pipeline({ name: 'only-options' }).policies).toEqual([]);
  });
});
