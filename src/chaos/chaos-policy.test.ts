import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { pipeline } from '../core/pipeline.js';
import { retry } from '../retry/retry.js';
import { telemetry } from '../telemetry.js';
import { VirtualClock } from '../testing/virtual-clock.js';
import { chaos } from './chaos.js';

/** A random source answering `values` in turn. */
function sequence(...values: number[]): () => number {
  let at = 0;
  return () => {
    const value = values[at++ % values.length];
    return value!;
  };
}

/** Runs `calls` calls through `policy`, counting those that failed. */
async function failures(
  policy: { execute(task: () => number): Promise<unknown> },
  calls: number,
): Promise<number> {
  let failed = 0;
  for (let i = 0; i < calls; i++) await policy.execute(() => i).catch(() => failed++);
  return failed;
}

const injected = () => new Error('injected');
let stops: (() => void)[] = [];

afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
});

describe('deciding to inject (Simmy v8)', () => {
  it('injects exactly as often as the seeded draw says: 10,000 calls at rate 0.1, seed 42', async () => {
    const policy = chaos.fault({ rate: 0.1, error: injected, random: chaos.seeded(42) });
    let events = 0;
    policy.on('fault', () => events++);
    expect(await failures(policy, 10_000)).toBe(1024);
    expect(events).toBe(1024);
    // The same seed picks the same calls again.
    const again = chaos.fault({ rate: 0.1, error: injected, random: chaos.seeded(42) });
    expect(await failures(again, 10_000)).toBe(1024);
  });

  it('stays within statistical bounds of the rate across seeds', async () => {
    const counts: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const policy = chaos.fault({ rate: 0.1, error: injected, random: chaos.seeded(seed) });
      counts.push(await failures(policy, 10_000));
    }
    // Binomial(10,000, 0.1): mean 1,000, standard deviation 30. Five of them either way, per
    // seed; the mean of 20 seeds within four standard errors (4 * 30 / sqrt(20) ≈ 27).
    for (const count of counts) expect(Math.abs(count - 1_000)).toBeLessThan(150);
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    expect(Math.abs(mean - 1_000)).toBeLessThan(27);
    expect(new Set(counts).size).toBeGreaterThan(5);
  });

  it('injects when the draw is below the rate, default 0.001', async () => {
    const policy = chaos.fault({ error: injected, random: sequence(0.000_999, 0.001, 0.5) });
    expect(await failures(policy, 3)).toBe(1);
    const never = chaos.fault({ rate: 0, error: injected, random: sequence(0) });
    const always = chaos.fault({ rate: 1, error: injected, random: sequence(0.999_999) });
    expect(await failures(never, 5)).toBe(0);
    expect(await failures(always, 5)).toBe(5);
  });

  it('asks a rate function on every call, with the call context', async () => {
    const keys: (string | undefined)[] = [];
    const policy = chaos.fault({
      rate: (ctx) => {
        keys.push(ctx.key);
        return ctx.key === 'tenant-a' ? 1 : 0;
      },
      error: injected,
    });
    await expect(policy.execute(() => 'ran', { key: 'tenant-a' })).rejects.toThrow('injected');
    await expect(policy.execute(() => 'ran', { key: 'tenant-b' })).resolves.toBe('ran');
    expect(keys).toEqual(['tenant-a', 'tenant-b']);
  });

  it('rejects a call, unrun, when the rate function or the random source answers badly', async () => {
    let ran = 0;
    const task = () => ++ran;
    for (const rate of [1.5, -0.1, Number.NaN, '0.1', Promise.resolve(0.1)]) {
      const policy = chaos.fault({ rate: () => rate as number, error: injected });
      await expect(policy.execute(task)).rejects.toThrow(
        /chaos-fault: option "rate" returned .* for this call; expected a number from 0 to 1/,
      );
    }
    for (const value of [1, -0.5, Number.NaN, 42, '0.5']) {
      const policy = chaos.latency({ rate: 0.5, random: () => value as number });
      await expect(policy.execute(task)).rejects.toThrow(
        /chaos-latency: option "random" returned .*; expected a number from 0 up to \(not including\) 1/,
      );
    }
    expect(ran).toBe(0);
  });

  it('enabled: false takes the policy out of the chain: no draw, no decision', async () => {
    let draws = 0;
    const random = () => {
      draws++;
      return 0;
    };
    const off = chaos.fault({ enabled: false, rate: 1, error: injected, random });
    await expect(off.execute(() => 'ran')).resolves.toBe('ran');
    await expect(pipeline(retry(), off).execute(() => 'ran')).resolves.toBe('ran');
    expect(draws).toBe(0);
  });

  it('asks an enabled function on every call, before the rate', async () => {
    let on = false;
    let rates = 0;
    const policy = chaos.fault({
      enabled: () => on,
      rate: () => {
        rates++;
        return 1;
      },
      error: injected,
    });
    await expect(policy.execute(() => 'ran')).resolves.toBe('ran');
    expect(rates).toBe(0);
    on = true;
    await expect(policy.execute(() => 'ran')).rejects.toThrow('injected');
    expect(rates).toBe(1);
    const async = chaos.fault({ enabled: async () => true, rate: 1, error: injected } as never);
    await expect(async.execute(() => 'ran')).rejects.toThrow(
      'chaos-fault: option "enabled" returned a promise',
    );
  });

  it('reports each injection on the bus, kind chaos, with the call key', async () => {
    const seen: unknown[] = [];
    stops.push(
      telemetry.subscribe((event) => {
        if (event.kind === 'chaos') seen.push({ ...event, detail: { ...event.detail } });
      }),
    );
    const error = new Error('boom');
    await chaos
      .fault({ name: 'db-fault', rate: 1, error })
      .execute(() => 1, { key: 'k1' })
      .catch(() => {});
    await chaos.outcome({ rate: 1, value: 7 }).execute(() => 1, { key: 'k2' });
    await chaos.behavior({ rate: 1, run: () => {} }).execute(() => 1);
    expect(seen).toEqual([
      {
        policy: 'db-fault',
        kind: 'chaos',
        type: 'fault',
        detail: { key: 'k1', experiment: undefined, error },
      },
      {
        policy: 'chaos-outcome',
        kind: 'chaos',
        type: 'outcome',
        detail: { key: 'k2', experiment: undefined },
      },
      {
        policy: 'chaos-behavior',
        kind: 'chaos',
        type: 'behavior',
        detail: { key: undefined, experiment: undefined },
      },
    ]);
  });
});

describe('chaos.fault', () => {
  it('fails the call with the error, without running it', async () => {
    let ran = 0;
    const error = new Error('static');
    const policy = chaos.fault({ rate: 1, error });
    await expect(policy.execute(() => ++ran)).rejects.toBe(error);
    expect(ran).toBe(0);
  });

  it('makes the error per call from the context; undefined leaves the call alone', async () => {
    const policy = chaos.fault({
      rate: 1,
      error: (ctx) => (ctx.key === 'a' ? new TypeError(`fault for ${ctx.key}`) : undefined),
    });
    let events = 0;
    policy.on('fault', () => events++);
    await expect(policy.execute(() => 'ran', { key: 'a' })).rejects.toThrow('fault for a');
    await expect(policy.execute(() => 'ran', { key: 'b' })).resolves.toBe('ran');
    expect(events).toBe(1);
    const bad = chaos.fault({ rate: 1, error: () => 'not an error' as never });
    await expect(bad.execute(() => 'ran')).rejects.toThrow(
      'chaos-fault: option "error" returned "not an error" for this call; expected an Error, or undefined to leave the call alone',
    );
  });

  it('is retried like any failure in a pipeline', async () => {
    const policy = pipeline(
      retry({ maxAttempts: 3, backoff: () => 0 }),
      chaos.fault({ rate: 0.5, error: injected, random: sequence(0.1, 0.2, 0.9) }),
    );
    let ran = 0;
    await expect(policy.execute(() => ++ran)).resolves.toBe(1);
  });
});

describe('chaos.outcome', () => {
  it('answers the value instead of running the call', async () => {
    let ran = 0;
    const policy = chaos.outcome({ rate: 1, value: { status: 503 } });
    await expect(policy.execute(() => ++ran)).resolves.toEqual({ status: 503 });
    expect(ran).toBe(0);
  });

  it('makes a fresh value per call, sync or async; undefined leaves the call alone', async () => {
    const made: Response[] = [];
    const response = chaos.outcome({
      rate: 1,
      value: () => {
        const r = new Response('overloaded', { status: 503 });
        made.push(r);
        return r;
      },
    });
    const first = (await response.execute(() => new Response('ok'))) as Response;
    const second = (await response.execute(() => new Response('ok'))) as Response;
    expect(first).not.toBe(second);
    expect([first.status, await first.text(), await second.text()]).toEqual([
      503,
      'overloaded',
      'overloaded',
    ]);
    const asynchronous = chaos.outcome({ rate: 1, value: async () => 'made later' });
    await expect(asynchronous.execute(() => 'ran')).resolves.toBe('made later');
    let events = 0;
    const skips = chaos.outcome<string>({ rate: 1, value: async () => undefined });
    skips.on('outcome', () => events++);
    await expect(skips.execute(() => 'ran')).resolves.toBe('ran');
    expect(events).toBe(0);
    const throws = chaos.outcome({
      rate: 1,
      value: () => {
        throw new Error('cannot make it');
      },
    });
    await expect(throws.execute(() => 'ran')).rejects.toThrow('cannot make it');
  });

  it('adds what it may answer to the types of a pipeline it is in', async () => {
    const constant = pipeline(retry(), chaos.outcome({ rate: 0, value: 7 }));
    expectTypeOf(await constant.execute(() => 'real')).toEqualTypeOf<string | number>();
    const made = chaos.outcome({ rate: 0, value: () => new Response(null, { status: 503 }) });
    expectTypeOf(await made.execute(() => 'real')).toEqualTypeOf<string | Response>();
    const faults = pipeline(chaos.fault({ rate: 0, error: injected }), chaos.latency());
    expectTypeOf(await faults.execute(() => 'real')).toEqualTypeOf<string>();
  });

  it('hands retry a bad result to judge, not an error', async () => {
    const attempts: number[] = [];
    const policy = pipeline(
      retry<{ status: number }>({
        maxAttempts: 3,
        backoff: () => 0,
        retryOn: (o) => o.ok && o.value.status === 503,
      }),
      chaos.outcome({ rate: 0.5, value: () => ({ status: 503 }), random: sequence(0.1, 0.9) }),
    );
    const result = await policy.execute((ctx) => {
      attempts.push(ctx.attempt);
      return { status: 200 };
    });
    expect(result).toEqual({ status: 200 });
    expect(attempts).toEqual([2]);
  });
});

describe('chaos.behavior', () => {
  it('runs the side effect, then the call', async () => {
    const order: string[] = [];
    const policy = chaos.behavior({
      rate: 1,
      run: async (ctx) => {
        order.push(`behavior ${ctx.key}`);
      },
    });
    await expect(
      policy.execute(
        () => {
          order.push('call');
          return 'ran';
        },
        { key: 'k' },
      ),
    ).resolves.toBe('ran');
    expect(order).toEqual(['behavior k', 'call']);
  });

  it('fails the call, unrun, when the side effect throws or rejects', async () => {
    let ran = 0;
    const sync = chaos.behavior({
      rate: 1,
      run: () => {
        throw new Error('sync effect failed');
      },
    });
    const later = chaos.behavior({
      rate: 1,
      run: () => Promise.reject(new Error('effect failed')),
    });
    await expect(sync.execute(() => ++ran)).rejects.toThrow('sync effect failed');
    await expect(later.execute(() => ++ran)).rejects.toThrow('effect failed');
    expect(ran).toBe(0);
  });

  it('does not run the call when the caller aborted during the side effect', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    let ran = 0;
    const policy = chaos.behavior({
      rate: 1,
      run: () => new Promise<void>((resolve) => clock.setTimeout(resolve, 100)),
    });
    const call = policy.execute(() => ++ran, { signal: controller.signal });
    const rejected = expect(call).rejects.toThrow('caller gave up');
    controller.abort(new Error('caller gave up'));
    await clock.advance(100);
    await rejected;
    expect(ran).toBe(0);
  });
});

describe('options', () => {
  const error = injected;
  it.each([
    [() => chaos.fault(5 as never), 'chaos-fault: options must be an object (got 5)'],
    [
      () => chaos.fault({} as never),
      'chaos-fault: option "error" must be an Error, or a function of the context making one (got undefined)',
    ],
    [
      () => chaos.fault({ error: 'boom' } as never),
      'option "error" must be an Error, or a function of the context making one (got "boom")',
    ],
    [
      () => chaos.fault({ error, rate: 2 }),
      'chaos-fault: option "rate" must be a number from 0 to 1 (got 2)',
    ],
    [
      () => chaos.fault({ error, rate: '0.1' as never }),
      'option "rate" must be a number from 0 to 1 (got "0.1")',
    ],
    [
      () => chaos.fault({ error, rate: Number.NaN }),
      'option "rate" must be a number from 0 to 1 (got NaN)',
    ],
    [
      () => chaos.fault({ error, enabled: 'yes' as never }),
      'option "enabled" must be a boolean or a function returning one (got "yes")',
    ],
    [
      () => chaos.fault({ error, random: 0.5 as never }),
      'option "random" must be a function (got 0.5)',
    ],
    [() => chaos.fault({ error, clock: {} as never }), 'option "clock" must be a Clock'],
    [
      () => chaos.fault({ error, name: '' }),
      'chaos: option "name" must be a non-empty string (got "")',
    ],
    [
      () => chaos.latency({ ms: -1 }),
      'chaos-latency: option "ms" must be a number of milliseconds >= 0 or Infinity (got -1)',
    ],
    [
      () => chaos.latency({ ms: '5' as never }),
      'option "ms" must be a number of milliseconds >= 0 or Infinity, or a function returning one (got "5")',
    ],
    [
      () => chaos.latency({ ms: Number.NaN }),
      'option "ms" must be a number of milliseconds >= 0 or Infinity (got NaN)',
    ],
    [() => chaos.latency(null as never), 'chaos-latency: options must be an object (got null)'],
    [
      () => chaos.outcome({} as never),
      'chaos-outcome: option "value" must be a function or the value to answer (got undefined)',
    ],
    [
      () => chaos.behavior({} as never),
      'chaos-behavior: option "run" must be a function (got undefined)',
    ],
    [
      () => chaos.behavior({ run: 'x' } as never),
      'chaos-behavior: option "run" must be a function (got "x")',
    ],
  ])('refuses bad options when built (%#)', (build, message) => {
    expect(build).toThrow(TypeError);
    expect(build).toThrow(message);
  });

  it('names each policy by its kind of chaos unless told otherwise', () => {
    expect(chaos.fault({ error }).name).toBe('chaos-fault');
    expect(chaos.latency().name).toBe('chaos-latency');
    expect(chaos.outcome({ value: 1 }).name).toBe('chaos-outcome');
    expect(chaos.behavior({ run: () => {} }).name).toBe('chaos-behavior');
    expect(chaos.latency({ name: 'slow-db' }).name).toBe('slow-db');
  });

  it('refuses a bad seed', () => {
    expect(() => chaos.seeded(Number.NaN)).toThrow(TypeError);
  });
});
