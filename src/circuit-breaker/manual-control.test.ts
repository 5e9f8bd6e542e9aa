import { describe, expect, it, vi } from 'vitest';
import { IsolatedCircuitError } from '../core/index.js';
import { VirtualClock } from '../testing/index.js';
import { type CircuitBreakerOptions, type CircuitBreakerPolicy, circuitBreaker } from './index.js';

// isolate(), reset() and disable() called while the breaker is busy deciding (from its own
// event listeners or the user's callbacks) must have the last word over the transition the
// breaker was about to make.

const boom = () => {
  throw new Error('boom');
};

function setup(options: Omit<CircuitBreakerOptions, 'clock'>) {
  const clock = new VirtualClock();
  const breaker = circuitBreaker({ breakDurationMs: 1_000, ...options, clock });
  const changes: string[] = [];
  breaker.on('stateChange', ({ from, to, reason }) => changes.push(`${from}->${to} ${reason}`));
  return { clock, breaker, changes };
}

/** A call the breaker must refuse as isolated, without running its task. */
async function expectIsolated(breaker: CircuitBreakerPolicy): Promise<void> {
  const task = vi.fn(() => 'ran');
  await expect(breaker.execute(task)).rejects.toBeInstanceOf(IsolatedCircuitError);
  expect(task).not.toHaveBeenCalled();
}

/** Opens a consecutive-failures breaker and lets its break end. */
async function breakEnded({ clock, breaker }: ReturnType<typeof setup>): Promise<void> {
  await breaker.execute(boom).catch(() => {});
  await clock.advance(1_000);
}

describe('circuitBreaker: manual control from listeners and callbacks', () => {
  it('isolate() in a failure listener holds, though that failure met the opening rule', async () => {
    const breaker = setup({ consecutiveFailures: 1 });
    breaker.breaker.on('failure', () => breaker.breaker.isolate());
    await breakEnded(breaker);
    expect(breaker.breaker.state).toBe('isolated');
    await expectIsolated(breaker.breaker); // the dependency is not called after the break either
    expect(breaker.changes).toEqual(['closed->isolated isolated']);
  });

  it('reset() in a failure listener is not undone by the open it would have caused', async () => {
    const { breaker, changes } = setup({ window: { type: 'count', size: 2 }, minimumCalls: 1 });
    breaker.on('failure', () => breaker.reset());
    await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('closed');
    expect(breaker.stats).toMatchObject({ calls: 0, failures: 0 });
    expect(changes).toEqual([]);
  });

  it('disable() in a failure listener stops the open', async () => {
    const { breaker, changes } = setup({ consecutiveFailures: 1 });
    breaker.on('failure', () => breaker.disable());
    await breaker.execute(boom).catch(() => {});
    expect([breaker.state, breaker.mode]).toEqual(['closed', 'disabled']);
    expect(changes).toEqual([]);
  });

  it('isolate() in the success listener of the probe that would close holds', async () => {
    const setupped = setup({ consecutiveFailures: 1 });
    const { breaker, changes } = setupped;
    await breakEnded(setupped);
    breaker.on('success', ({ state }) => {
      if (state === 'half-open') breaker.isolate();
    });
    await expect(breaker.execute(() => 'up')).resolves.toBe('up');
    expect(breaker.state).toBe('isolated');
    await expectIsolated(breaker);
    expect(changes.slice(1)).toEqual([
      'open->half-open break-ended',
      'half-open->isolated isolated',
    ]);
  });

  it('isolate() in the failure listener of a probe holds; reset() there too', async () => {
    for (const action of ['isolate', 'reset'] as const) {
      const setupped = setup({ consecutiveFailures: 1 });
      const { breaker } = setupped;
      await breakEnded(setupped);
      breaker.on('failure', () => breaker[action]());
      await breaker.execute(boom).catch(() => {});
      expect(breaker.state).toBe(action === 'isolate' ? 'isolated' : 'closed');
    }
  });

  it('isolate() in a stateChange listener at the end of the break refuses the call that ended it', async () => {
    const setupped = setup({ consecutiveFailures: 1 });
    const { breaker, changes } = setupped;
    await breakEnded(setupped);
    breaker.on('stateChange', ({ to }) => {
      if (to === 'half-open') breaker.isolate();
    });
    await expectIsolated(breaker);
    expect(breaker.state).toBe('isolated');
    expect(changes.slice(1)).toEqual([
      'open->half-open break-ended',
      'half-open->isolated isolated',
    ]);
  });

  it('reset() in a stateChange listener at the end of the break runs that call as a closed call', async () => {
    const setupped = setup({ consecutiveFailures: 2 });
    const { breaker } = setupped;
    await breaker.execute(boom).catch(() => {});
    await breakEnded(setupped);
    breaker.on('stateChange', ({ to }) => {
      if (to === 'half-open') breaker.reset();
    });
    await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('closed'); // one failure of two, counted while closed
    expect(breaker.stats).toMatchObject({ consecutiveFailures: 1, activeProbes: 0 });
  });

  it('isolate() in a stateChange listener on opening holds', async () => {
    const { breaker, changes } = setup({ consecutiveFailures: 1 });
    breaker.on('stateChange', ({ to }) => {
      if (to === 'open') breaker.isolate();
    });
    await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('isolated');
    expect(changes).toEqual(['closed->open failures', 'open->isolated isolated']);
  });

  it('isolate() in a breakDurationMs function holds', async () => {
    let breaker!: CircuitBreakerPolicy;
    ({ breaker } = setup({
      consecutiveFailures: 1,
      breakDurationMs: () => {
        breaker.isolate();
        return 1_000;
      },
    }));
    await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('isolated');
  });

  it('a failureOn that resets the breaker does not count its call into the fresh counts', async () => {
    let breaker!: CircuitBreakerPolicy;
    ({ breaker } = setup({
      window: { type: 'count', size: 4 },
      minimumCalls: 1,
      failureOn: () => {
        breaker.reset();
        return true;
      },
    }));
    await breaker.execute(boom).catch(() => {});
    expect(breaker.state).toBe('closed');
    expect(breaker.stats).toMatchObject({ calls: 0, failures: 0 });
  });
});
