import { describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { type CircuitBreakerOptions, type CircuitBreakerPolicy, circuitBreaker } from './index.js';

const boom = () => {
  throw new Error('boom');
};

function setup(options: Omit<CircuitBreakerOptions, 'clock'>) {
  const clock = new VirtualClock();
  const breaker = circuitBreaker({ breakDurationMs: 1_000, ...options, clock });
  const log: string[] = [];
  breaker.on('stateChange', ({ to, reason }) => log.push(`${to}:${reason}`));
  breaker.on('success', ({ state }) => log.push(`success:${state}`));
  breaker.on('failure', ({ state }) => log.push(`failure:${state}`));
  breaker.on('rejected', ({ state, retryAfterMs, enforced }) =>
    log.push(`rejected:${state}:${retryAfterMs}:${enforced}`),
  );
  return { clock, breaker, log };
}

/** Runs a call and says what became of it. */
async function call(breaker: CircuitBreakerPolicy, task: () => unknown): Promise<string> {
  const spy = vi.fn(task);
  const outcome = await breaker.execute(spy).then(
    () => 'ok',
    (error: Error) => error.name,
  );
  return spy.mock.calls.length === 0 ? `refused ${outcome}` : `ran ${outcome}`;
}

describe('circuitBreaker: metrics-only mode', () => {
  it('runs the state machine and says what it would have refused, but refuses nothing', async () => {
    const { clock, breaker, log } = setup({ consecutiveFailures: 2, mode: 'metrics-only' });
    expect(breaker.mode).toBe('metrics-only');
    expect(await call(breaker, boom)).toBe('ran Error');
    expect(await call(breaker, boom)).toBe('ran Error');
    expect(breaker.state).toBe('open');
    expect(await call(breaker, () => 'up')).toBe('ran ok');
    expect(await call(breaker, boom)).toBe('ran Error'); // would have been refused: not counted
    expect(breaker.state).toBe('open');
    await clock.advance(1_000);
    let release!: () => void;
    const probe = breaker.execute(() => new Promise<void>((resolve) => (release = resolve)));
    expect(await call(breaker, () => 'up')).toBe('ran ok'); // the probe slot is taken
    expect(breaker.stats.activeProbes).toBe(1);
    release();
    await probe;
    expect(breaker.state).toBe('closed');
    expect(log).toEqual([
      'failure:closed',
      'failure:closed',
      'open:failures',
      'rejected:open:1000:false',
      'rejected:open:1000:false',
      'half-open:break-ended',
      'rejected:half-open:undefined:false',
      'success:half-open',
      'closed:probes-succeeded',
    ]);
  });

  it('does not refuse even while isolated; the isolation still shows in state and events', async () => {
    const { breaker, log } = setup({ consecutiveFailures: 1, mode: 'metrics-only' });
    const dispose = breaker.isolate();
    expect(await call(breaker, () => 'up')).toBe('ran ok');
    expect(breaker.state).toBe('isolated');
    dispose();
    expect(log).toEqual([
      'isolated:isolated',
      'rejected:isolated:undefined:false',
      'closed:isolation-ended',
    ]);
  });
});

describe('circuitBreaker: disable() and enable()', () => {
  it('lets every call through and counts nothing until enabled again', async () => {
    const { clock, breaker, log } = setup({ consecutiveFailures: 1 });
    expect(await call(breaker, boom)).toBe('ran Error');
    expect(breaker.state).toBe('open');
    log.length = 0;
    breaker.disable();
    expect([breaker.mode, breaker.state]).toEqual(['disabled', 'open']);
    expect(await call(breaker, () => 'up')).toBe('ran ok');
    await clock.advance(5_000);
    expect(await call(breaker, boom)).toBe('ran Error');
    expect(breaker.state).toBe('open'); // no transition while disabled
    const dispose = breaker.isolate();
    expect(await call(breaker, () => 'up')).toBe('ran ok');
    dispose();
    expect(log).toEqual(['isolated:isolated', 'closed:isolation-ended']);
    breaker.enable();
    expect(breaker.mode).toBe('enforcing');
    expect(await call(breaker, boom)).toBe('ran Error');
    expect(breaker.state).toBe('open');
    expect(await call(breaker, () => 'up')).toBe('refused BrokenCircuitError');
  });

  it('leaves a closed breaker its counts, and does not count calls that settle while disabled', async () => {
    const { clock, breaker } = setup({ window: { type: 'count', size: 10 }, minimumCalls: 1 });
    await call(breaker, () => 'up');
    const slow = breaker.execute(
      () => new Promise((_, reject) => clock.setTimeout(() => reject(new Error('late')), 10)),
    );
    slow.catch(() => {});
    breaker.disable();
    await call(breaker, boom);
    await clock.advance(10);
    expect(breaker.stats).toMatchObject({ calls: 1, failures: 0 });
    breaker.enable();
    expect(breaker.state).toBe('closed');
  });

  it('drops the running probes, which then do not count', async () => {
    const { clock, breaker, log } = setup({ consecutiveFailures: 1 });
    await call(breaker, boom);
    await clock.advance(1_000);
    let fail!: (error: Error) => void;
    const probe = breaker.execute(() => new Promise((_, reject) => (fail = reject)));
    probe.catch(() => {});
    await clock.advance(0);
    expect(clock.armedTimers).toBe(1);
    breaker.disable();
    expect([breaker.state, breaker.stats.activeProbes, clock.armedTimers]).toEqual([
      'half-open',
      0,
      0,
    ]);
    fail(new Error('down'));
    await expect(probe).rejects.toThrow('down');
    breaker.enable();
    expect(breaker.state).toBe('half-open');
    expect(await call(breaker, () => 'up')).toBe('ran ok');
    expect(breaker.state).toBe('closed');
    expect(log.filter((entry) => entry.startsWith('failure'))).toEqual(['failure:closed']);
  });

  it('emits modeChange when an operator disables or enables it, once per change', () => {
    const breaker = circuitBreaker({ consecutiveFailures: 1, mode: 'metrics-only' });
    const changes: string[] = [];
    breaker.on('modeChange', ({ from, to }) => changes.push(`${from}->${to}`));
    breaker.disable();
    breaker.disable();
    breaker.enable();
    breaker.enable();
    expect(changes).toEqual(['metrics-only->disabled', 'disabled->metrics-only']);
  });

  it('is kept by a snapshot', async () => {
    const { breaker } = setup({ consecutiveFailures: 1 });
    breaker.disable();
    const snapshot = JSON.parse(JSON.stringify(breaker));
    expect(snapshot.disabled).toBe(true);
    const restored = circuitBreaker({ consecutiveFailures: 1, initialState: snapshot });
    expect(restored.mode).toBe('disabled');
    restored.enable();
    expect(restored.toJSON().disabled).toBe(false);
  });
});
