import { describe, expect, it } from 'vitest';
import { BrokenCircuitError, IsolatedCircuitError } from '../core/index.js';
import { VirtualClock } from '../testing/index.js';
import {
  type CircuitBreakerOptions,
  type CircuitBreakerPolicy,
  type CircuitBreakerSnapshot,
  circuitBreaker,
} from './index.js';

/** An epoch-like start, as the system clock would give. */
const T0 = 1_700_000_000_000;

const boom = () => {
  throw new Error('boom');
};

async function run(breaker: CircuitBreakerPolicy, outcomes: string): Promise<void> {
  for (const outcome of outcomes) {
    await breaker.execute(outcome === 'F' ? boom : () => 'ok').catch(() => {});
  }
}

/** What a restart does: the snapshot goes through JSON, into a new breaker on a later clock. */
function restart(
  snapshot: unknown,
  options: Omit<CircuitBreakerOptions, 'clock' | 'initialState'>,
  at: number,
) {
  const clock = new VirtualClock(at);
  const initialState = JSON.parse(JSON.stringify(snapshot)) as CircuitBreakerSnapshot;
  return { clock, breaker: circuitBreaker({ ...options, clock, initialState }) };
}

describe('circuitBreaker: toJSON and initialState', () => {
  it('round-trips a closed count-window breaker, window included', async () => {
    const options = { window: { type: 'count', size: 5 }, failureRate: 0.6 } as const;
    const breaker = circuitBreaker({ ...options, clock: new VirtualClock(T0) });
    await run(breaker, 'FSFSS');
    const snapshot = breaker.toJSON();
    expect(snapshot).toEqual({
      version: 1,
      state: 'closed',
      openUntil: null,
      consecutiveOpens: 0,
      consecutiveFailures: 0,
      window: { type: 'count', outcomes: [1, 0, 1, 0, 0] },
      disabled: false,
    });
    expect(JSON.parse(JSON.stringify(breaker))).toEqual(snapshot);
    const { breaker: copy } = restart(snapshot, options, T0 + 60_000);
    expect(copy.toJSON()).toEqual(snapshot);
    expect(copy.stats).toEqual(breaker.stats);
    await run(copy, 'F'); // F S S F... -> oldest F leaves: S F S S F = 2 of 5
    expect(copy.state).toBe('closed');
    await run(copy, 'F'); // F S S F F = 3 of 5
    expect(copy.state).toBe('open');
  });

  it('an open breaker stays open until its break ends on the clock', async () => {
    const clock = new VirtualClock(T0);
    const breaker = circuitBreaker({ consecutiveFailures: 1, breakDurationMs: 30_000, clock });
    await run(breaker, 'F');
    const snapshot = breaker.toJSON();
    expect(snapshot).toMatchObject({ state: 'open', openUntil: T0 + 30_000, consecutiveOpens: 1 });
    const { clock: later, breaker: copy } = restart(
      snapshot,
      { consecutiveFailures: 1, breakDurationMs: 30_000 },
      T0 + 10_000,
    );
    const error = await copy.execute(() => 'ok').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect((error as BrokenCircuitError).retryAfterMs).toBe(20_000);
    await later.advance(20_000);
    expect([copy.state, copy.retryAfterMs]).toEqual(['open', 0]);
    await expect(copy.execute(() => 'up')).resolves.toBe('up');
    expect(copy.state).toBe('closed');
  });

  it('keeps the open streak, so an exponential break goes on growing', async () => {
    const options = {
      consecutiveFailures: 1,
      breakDurationMs: (opens: number) => 1_000 * 2 ** (opens - 1),
    };
    const clock = new VirtualClock(T0);
    const breaker = circuitBreaker({ ...options, clock });
    await run(breaker, 'F');
    await clock.advance(1_000);
    void breaker.execute(() => new Promise(() => {})); // a probe that never settles
    expect(breaker.state).toBe('half-open');
    const snapshot = breaker.toJSON();
    expect(snapshot).toMatchObject({ state: 'half-open', openUntil: null, consecutiveOpens: 1 });
    const { breaker: copy } = restart(snapshot, options, T0 + 5_000);
    expect(copy.state).toBe('half-open');
    await run(copy, 'F'); // the probe fails: second open in a row
    expect(copy.toJSON()).toMatchObject({ openUntil: T0 + 7_000, consecutiveOpens: 2 });
  });

  it('restores the consecutive-failure count', async () => {
    const breaker = circuitBreaker({ consecutiveFailures: 3, clock: new VirtualClock(T0) });
    await run(breaker, 'FF');
    const { breaker: copy } = restart(breaker.toJSON(), { consecutiveFailures: 3 }, T0);
    expect(copy.stats.consecutiveFailures).toBe(2);
    await run(copy, 'F');
    expect(copy.state).toBe('open');
  });

  it('round-trips a time window while its buckets are still in it', async () => {
    const options = { window: { type: 'time', ms: 10_000, buckets: 10 }, minimumCalls: 4 } as const;
    const clock = new VirtualClock(T0);
    const breaker = circuitBreaker({ ...options, clock });
    await run(breaker, 'FS');
    await clock.advance(3_000);
    await run(breaker, 'F');
    const snapshot = breaker.toJSON();
    expect(snapshot.window).toEqual({
      type: 'time',
      ms: 10_000,
      buckets: 10,
      slots: [
        { start: T0, calls: 2, failures: 1, slow: 0 },
        { start: T0 + 3_000, calls: 1, failures: 1, slow: 0 },
      ],
    });
    const soon = restart(snapshot, options, T0 + 4_000).breaker;
    expect(soon.stats).toMatchObject({ calls: 3, failures: 2 });
    await run(soon, 'S'); // 2 of 4
    expect(soon.state).toBe('open');
    const late = restart(snapshot, options, T0 + 12_000).breaker; // only the second bucket is left
    expect(late.stats).toMatchObject({ calls: 1, failures: 1 });
  });

  it('drops a window that no longer fits the configuration', () => {
    const snapshot: CircuitBreakerSnapshot = {
      version: 1,
      state: 'closed',
      openUntil: null,
      consecutiveOpens: 0,
      consecutiveFailures: 1,
      window: { type: 'count', outcomes: [1] },
    };
    const asTime = restart(snapshot, { window: { type: 'time', ms: 1_000 } }, T0).breaker;
    expect(asTime.stats).toMatchObject({ calls: 0, consecutiveFailures: 1 });
    const asConsecutive = restart(snapshot, { consecutiveFailures: 2 }, T0).breaker;
    expect(asConsecutive.toJSON().window).toBeNull();
  });

  it('restores an isolation that only reset() ends', async () => {
    const breaker = circuitBreaker({ consecutiveFailures: 1 });
    breaker.isolate();
    const snapshot = breaker.toJSON();
    expect(snapshot.state).toBe('isolated');
    const { breaker: copy } = restart(snapshot, { consecutiveFailures: 1 }, T0);
    expect(copy.state).toBe('isolated');
    await expect(copy.execute(() => 'ok')).rejects.toBeInstanceOf(IsolatedCircuitError);
    const dispose = copy.isolate();
    dispose();
    expect(copy.state).toBe('isolated');
    copy.reset();
    expect(copy.state).toBe('closed');
  });

  it('accepts a hand-written snapshot with the counters left out', async () => {
    const clock = new VirtualClock(T0);
    const breaker = circuitBreaker({
      consecutiveFailures: 1,
      clock,
      initialState: { version: 1, state: 'open', openUntil: T0 + 500 } as CircuitBreakerSnapshot,
    });
    await expect(breaker.execute(() => 'ok')).rejects.toMatchObject({ retryAfterMs: 500 });
    expect(breaker.toJSON()).toMatchObject({
      consecutiveOpens: 0,
      consecutiveFailures: 0,
      disabled: false,
    });
  });

  it.each([
    ['a string', 'closed', /option "initialState" must be an object/],
    [
      'no version',
      { state: 'closed' },
      /option "initialState.version" must be 1 \(got undefined\)/,
    ],
    ['a bad state', { version: 1, state: 'shut' }, /option "initialState.state" must be one of/],
    [
      'an open state without openUntil',
      { version: 1, state: 'open' },
      /option "initialState.openUntil" must be a finite number for an open state/,
    ],
    [
      'a negative counter',
      { version: 1, state: 'closed', consecutiveOpens: -1 },
      /option "initialState.consecutiveOpens" must be an integer >= 0/,
    ],
    [
      'bad outcomes',
      { version: 1, state: 'closed', window: { type: 'count', outcomes: [0, 4] } },
      /option "initialState.window.outcomes" must be an array of integers 0 to 3/,
    ],
    [
      'a bad window type',
      { version: 1, state: 'closed', window: { type: 'ring' } },
      /option "initialState.window.type"/,
    ],
    [
      'a bucket with more failures than calls',
      {
        version: 1,
        state: 'closed',
        window: {
          type: 'time',
          ms: 1_000,
          buckets: 2,
          slots: [{ start: 0, calls: 1, failures: 2, slow: 0 }],
        },
      },
      /option "initialState.window.slots" must be an array of \{ start, calls, failures, slow \}/,
    ],
    [
      'a disabled flag that is not a boolean',
      { version: 1, state: 'closed', disabled: 'yes' },
      /option "initialState.disabled" must be a boolean \(got "yes"\)/,
    ],
    [
      'a time window without ms',
      { version: 1, state: 'closed', window: { type: 'time', buckets: 2, slots: [] } },
      /option "initialState.window.ms" must be a finite number > 0/,
    ],
  ])('refuses %s', (_label, initialState, message) => {
    expect(() =>
      circuitBreaker({
        consecutiveFailures: 1,
        initialState: initialState as CircuitBreakerSnapshot,
      }),
    ).toThrow(message);
  });
});
