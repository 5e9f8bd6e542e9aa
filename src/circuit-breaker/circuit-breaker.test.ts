import { describe, expect, it, vi } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  type ExecutionContext,
  IsolatedCircuitError,
  pipeline,
  TimeoutError,
  telemetry,
} from '../core/index.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { type CircuitBreakerOptions, type CircuitBreakerPolicy, circuitBreaker } from './index.js';

const ok = () => 'ok';
const boom = () => {
  throw new Error('boom');
};

function setup(options: Omit<CircuitBreakerOptions, 'clock'>, start = 0) {
  const clock = new VirtualClock(start);
  const breaker = circuitBreaker({ ...options, clock });
  return { clock, breaker };
}

async function failTimes(breaker: CircuitBreakerPolicy, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await expect(breaker.execute(boom)).rejects.toThrow('boom');
}

async function succeedTimes(breaker: CircuitBreakerPolicy, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await expect(breaker.execute(ok)).resolves.toBe('ok');
}

/** Runs a task that settles after `ms` on the clock, advancing the clock to that point. */
async function takes(
  clock: VirtualClock,
  breaker: CircuitBreakerPolicy,
  ms: number,
  fail = false,
): Promise<unknown> {
  const call = breaker.execute(
    () =>
      new Promise((resolve, reject) =>
        clock.setTimeout(() => (fail ? reject(new Error('slow boom')) : resolve('slow')), ms),
      ),
  );
  call.catch(() => {});
  await clock.advance(ms);
  return call.catch((error: unknown) => error);
}

describe('circuitBreaker: consecutive failures', () => {
  it('opens after N failures in a row and refuses without running the task', async () => {
    const { breaker } = setup({ consecutiveFailures: 3, breakDurationMs: 5_000 });
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats.consecutiveFailures).toBe(2);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    const task = vi.fn(ok);
    const error = await breaker.execute(task).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect((error as BrokenCircuitError).retryAfterMs).toBe(5_000);
    expect((error as BrokenCircuitError).message).toMatch(/"circuit-breaker" is open/);
    expect(task).not.toHaveBeenCalled();
  });

  it('a success resets the run', async () => {
    const { breaker } = setup({ consecutiveFailures: 2 });
    for (let i = 0; i < 5; i++) {
      await failTimes(breaker, 1);
      await succeedTimes(breaker, 1);
    }
    expect(breaker.state).toBe('closed');
    expect(breaker.stats).toEqual({
      calls: 0,
      failures: 0,
      slow: 0,
      consecutiveFailures: 0,
      activeProbes: 0,
    });
  });

  it('reports the time left until probes are admitted, and arms no timer while open', async () => {
    const { clock, breaker } = setup({ consecutiveFailures: 1, breakDurationMs: 1_000 });
    await failTimes(breaker, 1);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(400);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ retryAfterMs: 600 });
    await clock.advance(599);
    expect([breaker.state, breaker.retryAfterMs]).toEqual(['open', 1]);
    await clock.advance(1);
    expect([breaker.state, breaker.retryAfterMs]).toEqual(['open', 0]);
    await succeedTimes(breaker, 1); // the first call after the break is the probe
    expect([breaker.state, breaker.retryAfterMs]).toEqual(['closed', undefined]);
  });

  it("a refusal's stack leads back to the code that made the call", async () => {
    const { breaker } = setup({ consecutiveFailures: 1 });
    await failTimes(breaker, 1);
    function callerOfTheBreaker(): Promise<unknown> {
      return breaker.execute(ok);
    }
    const refusal = await callerOfTheBreaker().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(BrokenCircuitError);
    expect((refusal as Error).stack).toContain('callerOfTheBreaker');
  });

  it('a clock that throws while the breaker is open rejects the call; execute never throws', async () => {
    const virtual = new VirtualClock();
    let broken = false;
    const clock = {
      now: () => {
        if (broken) throw new Error('clock broke');
        return virtual.now();
      },
      setTimeout: virtual.setTimeout.bind(virtual),
      clearTimeout: virtual.clearTimeout.bind(virtual),
    };
    const breaker = circuitBreaker({ consecutiveFailures: 1, clock });
    await failTimes(breaker, 1);
    broken = true;
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = breaker.execute(ok);
    }).not.toThrow();
    await expect(result).rejects.toThrow('clock broke');
  });
});

describe('circuitBreaker: count window', () => {
  it('opens when the failure rate reaches the threshold once minimumCalls are in', async () => {
    const { breaker } = setup({ window: { type: 'count', size: 4 }, failureRate: 0.5 });
    await failTimes(breaker, 2);
    await succeedTimes(breaker, 1);
    expect(breaker.state).toBe('closed'); // 3 calls < minimumCalls (default: the size, 4)
    expect(breaker.stats).toMatchObject({ calls: 3, failures: 2 });
    await succeedTimes(breaker, 1); // 2 of 4 = 0.5 >= 0.5
    expect(breaker.state).toBe('open');
    expect(breaker.stats).toMatchObject({ calls: 0, failures: 0 });
  });

  it('stays closed below the rate and forgets calls that leave the window', async () => {
    const { breaker } = setup({
      window: { type: 'count', size: 4 },
      failureRate: 0.75,
      minimumCalls: 2,
    });
    await failTimes(breaker, 1);
    await succeedTimes(breaker, 1);
    await failTimes(breaker, 1);
    await succeedTimes(breaker, 1); // F S F S: 2 of 4
    await succeedTimes(breaker, 2); // F S S S: 1 of 4
    expect(breaker.stats).toMatchObject({ calls: 4, failures: 1 });
    await failTimes(breaker, 2); // S S F F
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1); // S F F F = 0.75
    expect(breaker.state).toBe('open');
  });

  it('never opens before minimumCalls, even at a 100% failure rate', async () => {
    const { breaker } = setup({
      window: { type: 'count', size: 10 },
      failureRate: 0.1,
      minimumCalls: 5,
    });
    await failTimes(breaker, 4);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });
});

describe('circuitBreaker: time window', () => {
  it('counts the calls of the last ms, rotating buckets as the clock advances', async () => {
    const { clock, breaker } = setup({
      window: { type: 'time', ms: 1_000, buckets: 4 },
      failureRate: 0.5,
      minimumCalls: 4,
    });
    await failTimes(breaker, 3); // bucket 0
    await clock.advance(500);
    expect(breaker.stats).toMatchObject({ calls: 3, failures: 3 });
    await clock.advance(500); // t = 1000: bucket 0 has left the window
    expect(breaker.stats).toMatchObject({ calls: 0, failures: 0 });
    await succeedTimes(breaker, 2);
    await clock.advance(250);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('closed'); // 3 calls < 4
    await failTimes(breaker, 1); // 2 of 4
    expect(breaker.state).toBe('open');
  });

  it('defaults minimumCalls to 20', async () => {
    const { breaker } = setup({ window: { type: 'time', ms: 10_000 } });
    await failTimes(breaker, 19);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });
});

describe('circuitBreaker: slow calls', () => {
  it('opens on the slow-call rate, counting slow successes and failures alike', async () => {
    const { clock, breaker } = setup({
      window: { type: 'count', size: 4 },
      failureRate: 1,
      slowCall: { ms: 100, rate: 0.5 },
    });
    const changes: string[] = [];
    breaker.on('stateChange', ({ to, reason }) => changes.push(`${to}:${reason}`));
    expect(await takes(clock, breaker, 99)).toBe('slow');
    await takes(clock, breaker, 100, true); // slow failure
    await takes(clock, breaker, 50);
    expect(breaker.stats).toMatchObject({ calls: 3, failures: 1, slow: 1 });
    await takes(clock, breaker, 250); // 2 of 4 slow
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open:slow-calls']);
  });
});

describe('circuitBreaker: break duration', () => {
  it('takes a function of the consecutive opens, reset when the breaker closes', async () => {
    const durations: number[] = [];
    const { clock, breaker } = setup({
      consecutiveFailures: 1,
      breakDurationMs: (opens) => {
        durations.push(opens);
        return 1_000 * 2 ** (opens - 1);
      },
    });
    const retryAfter = async () =>
      ((await breaker.execute(ok).catch((e: unknown) => e)) as BrokenCircuitError).retryAfterMs;
    await failTimes(breaker, 1);
    expect(await retryAfter()).toBe(1_000);
    await clock.advance(1_000);
    await failTimes(breaker, 1); // the probe fails
    expect(await retryAfter()).toBe(2_000);
    await clock.advance(2_000);
    await failTimes(breaker, 1);
    expect(await retryAfter()).toBe(4_000);
    await clock.advance(4_000);
    await succeedTimes(breaker, 1); // the probe succeeds: closed
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(await retryAfter()).toBe(1_000);
    expect(durations).toEqual([1, 2, 3, 1]);
  });

  it('opens for 30 s and warns when the function returns nonsense or throws', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const results: unknown[] = [Number.NaN, -1];
      const { clock, breaker } = setup({
        consecutiveFailures: 1,
        breakDurationMs: () => {
          if (results.length === 0) throw new RangeError('no more');
          return results.shift() as number;
        },
      });
      for (let i = 0; i < 3; i++) {
        await failTimes(breaker, 1);
        await expect(breaker.execute(ok)).rejects.toMatchObject({ retryAfterMs: 30_000 });
        await clock.advance(30_000);
      }
      expect(warn).toHaveBeenCalledTimes(3);
      expect(String(warn.mock.calls[0]![0])).toMatch(/breakDurationMs\(1\) returned NaN/);
      expect(warn.mock.calls[2]![0]).toBeInstanceOf(RangeError);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('circuitBreaker: what counts as a failure', () => {
  it('failureOn sees results, so a 503 counts; the caller still gets the result', async () => {
    const seen: ExecutionContext[] = [];
    const { breaker } = setup({
      consecutiveFailures: 2,
      failureOn: (outcome, context) => {
        seen.push(context);
        return outcome.ok ? (outcome.value as { status: number }).status >= 500 : true;
      },
    });
    const response = { status: 503 };
    await expect(breaker.execute(() => response, { key: 'api' })).resolves.toBe(response);
    await expect(breaker.execute(() => ({ status: 200 }))).resolves.toEqual({ status: 200 });
    expect(breaker.stats.consecutiveFailures).toBe(0);
    await breaker.execute(() => response);
    await breaker.execute(() => response);
    expect(breaker.state).toBe('open');
    expect(seen[0]!.key).toBe('api');
  });

  it('failureOn can forgive an error, which then counts as a success', async () => {
    const { breaker } = setup({
      consecutiveFailures: 1,
      failureOn: (outcome) => !(!outcome.ok && (outcome.error as Error).message === 'not found'),
    });
    await expect(
      breaker.execute(() => {
        throw new Error('not found');
      }),
    ).rejects.toThrow('not found');
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('a throwing failureOn rejects the call with its error and counts a failure', async () => {
    const bug = new Error('predicate bug');
    const { breaker } = setup({
      consecutiveFailures: 1,
      failureOn: () => {
        throw bug;
      },
    });
    await expect(breaker.execute(ok)).rejects.toBe(bug);
    expect(breaker.state).toBe('open');
  });

  it('an inner timeout counts as a failure', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ consecutiveFailures: 1, clock });
    const guarded = pipeline(breaker, timeout(100, { clock, strategy: 'aggressive' }));
    const call = guarded.execute(() => new Promise(() => {}));
    call.catch(() => {});
    await clock.advance(100);
    await expect(call).rejects.toBeInstanceOf(TimeoutError);
    expect(breaker.state).toBe('open');
  });

  it("inner policies' refusals count neither way", async () => {
    const { breaker } = setup({ window: { type: 'count', size: 2 } });
    const refusals = [
      new BulkheadRejectedError('full', 10, 0),
      new BrokenCircuitError('inner open', 100),
      new IsolatedCircuitError(),
    ];
    for (const refusal of refusals) {
      await expect(
        breaker.execute(() => {
          throw refusal;
        }),
      ).rejects.toBe(refusal);
    }
    expect(breaker.stats).toMatchObject({ calls: 0, failures: 0, consecutiveFailures: 0 });
  });

  it("the caller's abort counts neither way, nor does an enclosing timeout", async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ consecutiveFailures: 1, clock });
    const honours = ({ signal }: ExecutionContext) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const controller = new AbortController();
    const call = breaker.execute(honours, { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(call).rejects.toThrow('caller gave up');
    const outer = pipeline(timeout(50, { clock }), breaker);
    const timed = outer.execute(honours);
    timed.catch(() => {});
    await clock.advance(50);
    await expect(timed).rejects.toBeInstanceOf(TimeoutError);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats.consecutiveFailures).toBe(0);
  });

  it('calls that began before a state change do not count after it', async () => {
    const { clock, breaker } = setup({ consecutiveFailures: 1, breakDurationMs: 1_000 });
    const failures: string[] = [];
    breaker.on('failure', ({ outcome }) => failures.push(String(outcome.ok)));
    const slow = breaker.execute(
      () => new Promise((_, reject) => clock.setTimeout(() => reject(new Error('late')), 500)),
    );
    slow.catch(() => {});
    await failTimes(breaker, 1); // opens
    await clock.advance(500); // the slow call fails while open
    await expect(slow).rejects.toThrow('late');
    expect(failures).toEqual(['false']);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ retryAfterMs: 500 });
  });
});

describe('circuitBreaker: isolate and reset', () => {
  it('isolates until the last disposer, then closes with a clean slate', async () => {
    const { breaker } = setup({ window: { type: 'count', size: 4 } });
    await failTimes(breaker, 2);
    const first = breaker.isolate();
    const second = breaker.isolate();
    expect(breaker.state).toBe('isolated');
    const task = vi.fn(ok);
    const error = await breaker.execute(task).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IsolatedCircuitError);
    expect((error as IsolatedCircuitError).retryAfterMs).toBeUndefined();
    expect(task).not.toHaveBeenCalled();
    first();
    first(); // a second call does nothing
    expect(breaker.state).toBe('isolated');
    second();
    expect(breaker.state).toBe('closed');
    expect(breaker.stats.calls).toBe(0);
  });

  it('isolates an open breaker too', async () => {
    const { breaker } = setup({ consecutiveFailures: 1 });
    await failTimes(breaker, 1);
    const dispose = breaker.isolate();
    expect(breaker.state).toBe('isolated');
    dispose();
    expect(breaker.state).toBe('closed');
    await succeedTimes(breaker, 1);
  });

  it('reset closes from any state, clears counts and voids earlier isolations', async () => {
    const { breaker } = setup({ consecutiveFailures: 3 });
    await failTimes(breaker, 2);
    breaker.reset();
    expect(breaker.stats.consecutiveFailures).toBe(0);
    await failTimes(breaker, 3);
    expect(breaker.state).toBe('open');
    breaker.reset();
    expect(breaker.state).toBe('closed');
    const stale = breaker.isolate();
    breaker.reset();
    expect(breaker.state).toBe('closed');
    const current = breaker.isolate();
    stale(); // voided by reset: must not end the newer isolation
    expect(breaker.state).toBe('isolated');
    current();
    expect(breaker.state).toBe('closed');
  });
});

describe('circuitBreaker: events', () => {
  it('emits stateChange with reasons, success, failure and rejected', async () => {
    const { clock, breaker } = setup({ consecutiveFailures: 1, breakDurationMs: 100 });
    const log: string[] = [];
    const stops = [
      breaker.on('stateChange', (e) =>
        log.push(`state ${e.from}->${e.to} ${e.reason} key=${e.key}`),
      ),
      breaker.on('success', (e) => log.push(`success ${e.state} slow=${e.slow} key=${e.key}`)),
      breaker.on('failure', (e) =>
        log.push(
          `failure ${e.state} ${e.outcome.ok ? 'value' : (e.outcome.error as Error).message} key=${e.key}`,
        ),
      ),
      breaker.on('rejected', (e) =>
        log.push(`rejected ${e.state} ${e.retryAfterMs} enforced=${e.enforced} key=${e.key}`),
      ),
    ];
    await breaker.execute(ok, { key: 'a' });
    await breaker.execute(boom, { key: 'b' }).catch(() => {});
    await breaker.execute(ok, { key: 'c' }).catch(() => {});
    await clock.advance(100);
    await breaker.execute(ok, { key: 'd' });
    const dispose = breaker.isolate();
    await breaker.execute(ok).catch(() => {});
    dispose();
    breaker.reset(); // closed already: no event
    for (const stop of stops) stop();
    await failTimes(breaker, 1);
    expect(log).toEqual([
      'success closed slow=false key=a',
      'failure closed boom key=b',
      'state closed->open failures key=b',
      'rejected open 100 enforced=true key=c',
      'state open->half-open break-ended key=d',
      'success half-open slow=false key=d',
      'state half-open->closed probes-succeeded key=d',
      'state closed->isolated isolated key=undefined',
      'rejected isolated undefined enforced=true key=undefined',
      'state isolated->closed isolation-ended key=undefined',
    ]);
  });

  it('reaches the telemetry bus with the breaker name and kind', async () => {
    const { breaker } = setup({ consecutiveFailures: 1, name: 'payments' });
    const seen: string[] = [];
    const stop = telemetry.subscribe((e) => seen.push(`${e.policy}/${e.kind}/${e.type}`));
    try {
      await failTimes(breaker, 1);
    } finally {
      stop();
    }
    expect(seen).toEqual([
      'payments/circuit-breaker/failure',
      'payments/circuit-breaker/stateChange',
    ]);
  });
});

describe('circuitBreaker: reading has no side effects', () => {
  it('state, retryAfterMs, stats and toJSON leave an ended break open; the next call half-opens', async () => {
    const { clock, breaker } = setup({ consecutiveFailures: 1, breakDurationMs: 1_000 });
    expect(breaker.retryAfterMs).toBeUndefined();
    await failTimes(breaker, 1);
    expect(breaker.retryAfterMs).toBe(1_000);
    const changes: string[] = [];
    breaker.on('stateChange', ({ to, key }) => changes.push(`${to} key=${key}`));
    await clock.advance(5_000);
    expect(breaker.state).toBe('open');
    expect(breaker.retryAfterMs).toBe(0);
    expect(breaker.stats.activeProbes).toBe(0);
    expect(breaker.toJSON()).toMatchObject({ state: 'open', openUntil: 1_000 });
    expect(JSON.parse(JSON.stringify(breaker))).toMatchObject({ state: 'open' });
    expect(breaker.state).toBe('open');
    expect(changes).toEqual([]);
    let seen: string | undefined;
    await breaker.execute(
      () => {
        seen = breaker.state;
      },
      { key: 'first' },
    );
    expect(seen).toBe('half-open');
    expect(changes).toEqual(['half-open key=first', 'closed key=first']);
  });
});

describe('circuitBreaker: the cause of a refusal', () => {
  async function refusal(breaker: CircuitBreakerPolicy): Promise<BrokenCircuitError> {
    const error = await breaker.execute(ok).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    return error as BrokenCircuitError;
  }

  it('is the error of the call that opened the breaker', async () => {
    const { breaker } = setup({ consecutiveFailures: 2 });
    const first = new Error('first');
    const last = new Error('last');
    await breaker.execute(() => Promise.reject(first)).catch(() => {});
    await breaker.execute(() => Promise.reject(last)).catch(() => {});
    const error = await refusal(breaker);
    expect(error.cause).toBe(last);
    expect((await refusal(breaker)).cause).toBe(last);
  });

  it('is the value failureOn judged a failure', async () => {
    const response = { status: 503 };
    const { breaker } = setup({
      consecutiveFailures: 1,
      failureOn: (outcome) => outcome.ok && (outcome.value as { status: number }).status >= 500,
    });
    await breaker.execute(() => response);
    expect((await refusal(breaker)).cause).toBe(response);
  });

  it('is absent when slow successes opened the breaker, and when restored open', async () => {
    const { clock, breaker } = setup({
      window: { type: 'count', size: 1 },
      slowCall: { ms: 10, rate: 1 },
    });
    await takes(clock, breaker, 10);
    expect(breaker.state).toBe('open');
    expect('cause' in (await refusal(breaker))).toBe(false);
    const restored = circuitBreaker({
      consecutiveFailures: 1,
      clock,
      initialState: { version: 1, state: 'open', openUntil: clock.now() + 1_000 } as never,
    });
    expect('cause' in (await refusal(restored))).toBe(false);
  });

  it('is the failed probe after a reopen, kept while half-open, gone once closed', async () => {
    const { clock, breaker } = setup({ consecutiveFailures: 1, breakDurationMs: 100 });
    await breaker.execute(() => Promise.reject(new Error('first'))).catch(() => {});
    await clock.advance(100);
    const probeError = new Error('probe');
    await breaker.execute(() => Promise.reject(probeError)).catch(() => {});
    expect((await refusal(breaker)).cause).toBe(probeError);
    await clock.advance(100);
    let release!: () => void;
    const probe = breaker.execute(() => new Promise<void>((resolve) => (release = resolve)));
    expect((await refusal(breaker)).cause).toBe(probeError); // half-open, probe slot taken
    release();
    await probe;
    expect(breaker.state).toBe('closed');
    const dispose = breaker.isolate();
    const isolated = await breaker.execute(ok).catch((e: unknown) => e);
    expect('cause' in (isolated as Error)).toBe(false);
    dispose();
  });
});

describe('circuitBreaker: failureOn must decide synchronously', () => {
  it('a failureOn that returns a promise rejects the call with a TypeError and counts a failure', async () => {
    const { breaker } = setup({
      consecutiveFailures: 2,
      name: 'payments',
      failureOn: (async () => false) as never,
    });
    const error = await breaker.execute(ok).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      'payments: option "failureOn" returned a promise; it must decide synchronously and return a boolean',
    );
    expect(breaker.stats.consecutiveFailures).toBe(1);
    await expect(breaker.execute(boom)).rejects.toBeInstanceOf(TypeError);
    expect(breaker.state).toBe('open');
  });

  it('also for a probe, which then reopens the breaker', async () => {
    let async = false;
    const { clock, breaker } = setup({
      consecutiveFailures: 1,
      breakDurationMs: 100,
      failureOn: ((outcome: { ok: boolean }) =>
        async ? Promise.resolve(false) : !outcome.ok) as never,
    });
    await failTimes(breaker, 1);
    await clock.advance(100);
    async = true;
    await expect(breaker.execute(ok)).rejects.toThrow(/returned a promise/);
    expect(breaker.state).toBe('open');
    expect(breaker.stats.activeProbes).toBe(0);
  });
});
