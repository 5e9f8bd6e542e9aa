import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { pipeline } from '../core/pipeline.js';
import { retry } from '../retry/retry.js';
import { telemetry } from '../telemetry.js';
import { VirtualClock } from '../testing/virtual-clock.js';
import { chaos } from './chaos.js';
import { chaosMonkey } from './monkey.js';

function sequence(...values: number[]): () => number {
  let at = 0;
  return () => values[at++ % values.length]!;
}

const fault = (message = 'injected') => chaos.fault({ error: () => new Error(message) });
let stops: (() => void)[] = [];

afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
});

describe('chaosMonkey', () => {
  it('fires at most one experiment per call, each with its own probability (seed 42)', async () => {
    const clock = new VirtualClock();
    const monkey = chaosMonkey({
      clock,
      random: chaos.seeded(42),
      experiments: [
        { name: 'db-down', probability: 0.05, impact: fault('db down') },
        { name: 'slow-db', probability: 0.1, impact: chaos.latency({ ms: 0.5 }) },
        { name: 'cache-flush', probability: 0.02, impact: chaos.behavior({ run: () => {} }) },
      ],
    });
    const fired = new Map<string, number>();
    let perCall = 0;
    let mostPerCall = 0;
    monkey.on('fault', ({ experiment }) => count(experiment));
    monkey.on('latency', ({ experiment }) => count(experiment));
    monkey.on('behavior', ({ experiment }) => count(experiment));
    function count(experiment: string | undefined): void {
      fired.set(experiment!, (fired.get(experiment!) ?? 0) + 1);
      perCall++;
    }
    let failed = 0;
    for (let i = 0; i < 10_000; i++) {
      perCall = 0;
      const call = monkey.execute(() => i).catch(() => failed++);
      await clock.advance(1);
      await call;
      mostPerCall = Math.max(mostPerCall, perCall);
    }
    expect(Object.fromEntries(fired)).toEqual({
      'db-down': 527,
      'slow-db': 1018,
      'cache-flush': 196,
    });
    expect(failed).toBe(527);
    expect(mostPerCall).toBe(1);
    expect(clock.armedTimers).toBe(0);
  });

  it('fires each experiment about as often as its probability says, across seeds', async () => {
    const calls = 10_000;
    const shares = { a: 0.05, b: 0.2, c: 0.01 };
    for (let seed = 1; seed <= 10; seed++) {
      const fired = { a: 0, b: 0, c: 0 };
      const monkey = chaosMonkey({
        random: chaos.seeded(seed),
        experiments: Object.entries(shares).map(([name, probability]) => ({
          name,
          probability,
          impact: chaos.behavior({ run: () => void fired[name as keyof typeof fired]++ }),
        })),
      });
      for (let i = 0; i < calls; i++) await monkey.execute(() => i);
      for (const [name, p] of Object.entries(shares)) {
        // Binomial: within five standard deviations of the mean.
        const bound = 5 * Math.sqrt(calls * p * (1 - p));
        expect(Math.abs(fired[name as keyof typeof fired] - calls * p)).toBeLessThan(bound);
      }
    }
  });

  it('lays the probabilities end to end, in order, on one draw', async () => {
    const monkey = chaosMonkey({
      random: sequence(0, 0.099, 0.1, 0.299, 0.301, 0.999),
      experiments: [
        { name: 'a', probability: 0.1, impact: fault('a') },
        { name: 'b', probability: 0.2, impact: fault('b') },
      ],
    });
    const results: string[] = [];
    for (let i = 0; i < 6; i++) {
      results.push(await monkey.execute(() => 'ran').catch((error: Error) => error.message));
    }
    expect(results).toEqual(['a', 'a', 'b', 'b', 'ran', 'ran']);
  });

  it("leaves a disabled experiment's share empty, without moving the others", async () => {
    const monkey = chaosMonkey({
      random: sequence(0.05, 0.15),
      experiments: [
        { name: 'a', probability: 0.1, impact: fault('a'), enabled: false },
        { name: 'b', probability: 0.1, impact: fault('b') },
      ],
    });
    await expect(monkey.execute(() => 'ran')).resolves.toBe('ran');
    await expect(monkey.execute(() => 'ran')).rejects.toThrow('b');
    expect(monkey.isEnabled('a')).toBe(false);
  });

  it('enables and disables experiments at run time', async () => {
    const monkey = chaosMonkey({
      random: sequence(0.5),
      experiments: [{ name: 'always', probability: 1, impact: fault('boom') }],
    });
    await expect(monkey.execute(() => 'ran')).rejects.toThrow('boom');
    monkey.disable('always');
    expect(monkey.isEnabled('always')).toBe(false);
    await expect(monkey.execute(() => 'ran')).resolves.toBe('ran');
    monkey.enable('always');
    await expect(monkey.execute(() => 'ran')).rejects.toThrow('boom');
  });

  it('throws a clear error for an unknown experiment name', () => {
    const monkey = chaosMonkey({
      experiments: [
        { name: 'db-down', probability: 0.1, impact: fault() },
        { name: 'slow-db', probability: 0.1, impact: chaos.latency() },
      ],
    });
    const message =
      'chaos-monkey: no experiment named "db_down" (experiments: "db-down", "slow-db")';
    expect(() => monkey.enable('db_down')).toThrow(TypeError);
    expect(() => monkey.enable('db_down')).toThrow(message);
    expect(() => monkey.disable('db_down')).toThrow(message);
    expect(() => monkey.isEnabled('db_down')).toThrow(message);
    expect(() => chaosMonkey({ experiments: [] }).disable('x')).toThrow('(experiments: none)');
  });

  it("uses only the impact's effect: its rate, enabled and clock are the monkey's", async () => {
    const clock = new VirtualClock();
    const impact = chaos.latency({ rate: 0, enabled: false, ms: 100 });
    let impactEvents = 0;
    impact.on('latency', () => impactEvents++);
    const monkey = chaosMonkey({
      clock,
      random: sequence(0),
      experiments: [{ name: 'slow', probability: 1, impact }],
    });
    const details: unknown[] = [];
    monkey.on('latency', (detail) => details.push(detail));
    let startedAt = -1;
    const call = monkey.execute(
      () => {
        startedAt = clock.now();
      },
      { key: 'k' },
    );
    await clock.advance(100);
    await call;
    expect(startedAt).toBe(100);
    expect(details).toEqual([{ key: 'k', experiment: 'slow', ms: 100 }]);
    expect(impactEvents).toBe(0);
  });

  it('fires an experiment only inside its schedule windows, at their edges', async () => {
    const clock = new VirtualClock(1_000);
    const monkey = chaosMonkey({
      clock,
      random: sequence(0),
      experiments: [
        {
          name: 'game-day',
          probability: 1,
          impact: fault('game day'),
          schedule: [{ start: 2_000, end: 3_000 }],
        },
      ],
    });
    const outcomeAt = async (time: number) => {
      await clock.advance(time - clock.now());
      return monkey.execute(() => 'ran').catch((error: Error) => error.message);
    };
    expect([
      await outcomeAt(1_999),
      await outcomeAt(2_000),
      await outcomeAt(2_999),
      await outcomeAt(3_000),
    ]).toEqual(['ran', 'game day', 'game day', 'ran']);
  });

  it('keeps to business hours in UTC with a daily schedule', async () => {
    const monday0859 = Date.parse('2026-11-30T08:59:00Z');
    const clock = new VirtualClock(monday0859);
    const monkey = chaosMonkey({
      clock,
      random: sequence(0),
      experiments: [
        {
          name: 'office-hours',
          probability: 1,
          impact: fault('office'),
          schedule: [{ from: '09:00', to: '17:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] }],
        },
      ],
    });
    const run = () => monkey.execute(() => 'ran').catch((error: Error) => error.message);
    expect(await run()).toBe('ran');
    await clock.advance(60_000);
    expect(await run()).toBe('office');
    await clock.advance(5 * 86_400_000); // Saturday 09:00
    expect(await run()).toBe('ran');
  });

  it('reports every injection on the bus with the experiment name', async () => {
    const seen: unknown[] = [];
    stops.push(
      telemetry.subscribe((event) => {
        if (event.kind === 'chaos' && 'experiment' in event.detail) {
          seen.push([event.policy, event.type, event.detail.experiment]);
        }
      }),
    );
    const monkey = chaosMonkey({
      name: 'checkout-monkey',
      random: sequence(0.05, 0.15, 0.5),
      experiments: [
        { name: 'outage', probability: 0.1, impact: fault() },
        { name: 'bad-answer', probability: 0.1, impact: chaos.outcome({ value: 'fake' }) },
      ],
    });
    for (let i = 0; i < 3; i++) await monkey.execute(() => 'real').catch(() => {});
    expect(seen).toEqual([
      ['checkout-monkey', 'fault', 'outage'],
      ['checkout-monkey', 'outcome', 'bad-answer'],
    ]);
  });

  it('asks probability functions per call, and refuses their bad answers', async () => {
    const monkey = chaosMonkey({
      random: sequence(0.5),
      experiments: [
        { name: 'tenant-a', probability: (ctx) => (ctx.key === 'a' ? 1 : 0), impact: fault('a') },
      ],
    });
    await expect(monkey.execute(() => 'ran', { key: 'a' })).rejects.toThrow('a');
    await expect(monkey.execute(() => 'ran', { key: 'b' })).resolves.toBe('ran');
    const bad = chaosMonkey({
      experiments: [{ name: 'x', probability: () => 2, impact: fault() }],
    });
    await expect(bad.execute(() => 'ran')).rejects.toThrow(
      'chaos-monkey: option "experiments[0].probability" returned 2 for this call; expected a number from 0 to 1',
    );
  });

  it('costs nothing when disabled, and asks an enabled function per call', async () => {
    let draws = 0;
    const random = () => {
      draws++;
      return 0;
    };
    const experiments = [{ name: 'always', probability: 1, impact: fault() }];
    const off = chaosMonkey({ enabled: false, random, experiments });
    await expect(pipeline(retry(), off).execute(() => 'ran')).resolves.toBe('ran');
    expect(draws).toBe(0);
    let on = false;
    const switched = chaosMonkey({ enabled: () => on, random, experiments });
    await expect(switched.execute(() => 'ran')).resolves.toBe('ran');
    on = true;
    await expect(switched.execute(() => 'ran')).rejects.toThrow('injected');
    expect(draws).toBe(1);
  });

  it('types what its impacts may answer instead of the result', async () => {
    const monkey = chaosMonkey({
      random: sequence(0),
      experiments: [
        { name: 'fake', probability: 1, impact: chaos.outcome({ value: () => ({ status: 503 }) }) },
        { name: 'down', probability: 0, impact: fault() },
      ],
    });
    const result = await monkey.execute(() => 'real');
    expectTypeOf(result).toEqualTypeOf<string | { status: number }>();
    expect(result).toEqual({ status: 503 });
  });

  it.each([
    [{}, 'chaos-monkey: option "experiments" must be an array of experiments (got undefined)'],
    [
      { experiments: [5] },
      'option "experiments[0]" must be an object { name, probability, impact } (got 5)',
    ],
    [
      { experiments: [{ probability: 0.1, impact: fault() }] },
      'option "experiments[0].name" must be a non-empty string (got undefined)',
    ],
    [
      {
        experiments: [
          { name: 'a', probability: 0.1, impact: fault() },
          { name: 'a', probability: 0.1, impact: fault() },
        ],
      },
      'option "experiments[1].name" must be a name no other experiment has (got "a")',
    ],
    [
      { experiments: [{ name: 'a', impact: fault() }] },
      'option "experiments[0].probability" must be a number from 0 to 1 (got undefined)',
    ],
    [
      { experiments: [{ name: 'a', probability: 1.5, impact: fault() }] },
      'option "experiments[0].probability" must be a number from 0 to 1 (got 1.5)',
    ],
    [
      { experiments: [{ name: 'a', probability: 0.1, impact: retry() }] },
      'option "experiments[0].impact" must be a chaos policy (chaos.fault, chaos.latency, chaos.outcome or chaos.behavior)',
    ],
    [
      { experiments: [{ name: 'a', probability: 0.1, impact: fault(), enabled: 'no' }] },
      'option "experiments[0].enabled" must be a boolean (got "no")',
    ],
    [
      { experiments: [{ name: 'a', probability: 0.1, impact: fault(), schedule: [] }] },
      'option "experiments[0].schedule" must be a non-empty array of time windows (got [])',
    ],
    [
      {
        experiments: [
          { name: 'a', probability: 0.6, impact: fault() },
          { name: 'b', probability: 0.5, impact: fault() },
        ],
      },
      'chaos-monkey: option "experiments" has probabilities adding up to 1.1; at most one experiment fires per call, so they must add up to at most 1',
    ],
    [
      { experiments: [], enabled: 1 },
      'option "enabled" must be a boolean or a function returning one (got 1)',
    ],
    [{ experiments: [], random: 'x' }, 'option "random" must be a function (got "x")'],
    [{ experiments: [], clock: Date }, 'option "clock" must be a Clock'],
    [7, 'chaos-monkey: options must be an object (got 7)'],
  ])('refuses bad options when built (%#)', (options, message) => {
    expect(() => chaosMonkey(options as never)).toThrow(TypeError);
    expect(() => chaosMonkey(options as never)).toThrow(message);
  });
});
