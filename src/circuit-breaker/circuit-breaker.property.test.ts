import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokenCircuitError, IsolatedCircuitError } from '../core/index.js';
import { VirtualClock } from '../testing/index.js';
import {
  type CircuitBreakerOptions,
  type CircuitBreakerStats,
  type CircuitState,
  circuitBreaker,
} from './index.js';

// A reference model of the breaker, written as plainly as possible (lists instead of ring
// buffers, a sorted event list instead of timers), run side by side with the real one.

interface SlowCall {
  ms: number;
  rate: number;
}

type Rule =
  | { kind: 'consecutive'; n: number }
  | { kind: 'count'; size: number; failureRate: number; minimumCalls: number; slow?: SlowCall }
  | {
      kind: 'time';
      ms: number;
      buckets: number;
      failureRate: number;
      minimumCalls: number;
      slow?: SlowCall;
    };

interface Config {
  rule: Rule;
  breakMs: number | 'exponential';
  probes: number;
  maxMs: number;
  /** halfOpen.failureRate; undefined: any probe failure reopens. */
  probeRate?: number;
  metricsOnly?: boolean;
}

interface Call {
  fail: boolean;
  ms: number;
}

type Op =
  | { kind: 'burst'; calls: Call[] }
  | { kind: 'advance'; ms: number }
  | { kind: 'isolate' }
  | { kind: 'dispose' }
  | { kind: 'reset' };

type Admission =
  | { kind: 'rejected'; state: 'open' | 'half-open' | 'isolated'; retryAfterMs?: number }
  | { kind: 'ran' }
  /** Metrics-only: would have been refused, ran uncounted. */
  | { kind: 'passed' };

interface Running {
  call: Call;
  start: number;
  generation: number;
  probe: boolean;
}

interface ModelEvent {
  due: number;
  /** Mirrors the order the clock's timers were set in, which breaks ties. */
  seq: number;
  kind: 'complete' | 'hang';
  running: Running;
}

interface Isolation {
  count: number;
}

const breakMsOf = (config: Config, opens: number) =>
  config.breakMs === 'exponential' ? 50 * 2 ** (opens - 1) : config.breakMs;

class Model {
  state: CircuitState = 'closed';
  openUntil = 0;
  opens = 0;
  consecutiveFailures = 0;
  generation = 0;
  records: { time: number; flags: number }[] = [];
  probes: Running[] = [];
  successes = 0;
  failures = 0;
  isolation: Isolation | undefined;
  events: ModelEvent[] = [];
  seq = 0;
  log: string[] = [];

  constructor(readonly config: Config) {}

  admit(call: Call, now: number): Admission {
    const refused = this.refusal(now);
    if (refused !== undefined) return this.config.metricsOnly ? { kind: 'passed' } : refused;
    const probe = this.state === 'half-open';
    const running: Running = { call, start: now, generation: this.generation, probe };
    this.schedule(now + call.ms, 'complete', running);
    if (probe) {
      this.probes.push(running);
      this.schedule(now + this.config.maxMs, 'hang', running);
    }
    return { kind: 'ran' };
  }

  private refusal(now: number): Admission | undefined {
    if (this.state === 'open') {
      if (now < this.openUntil) {
        return { kind: 'rejected', state: 'open', retryAfterMs: this.openUntil - now };
      }
      this.move('half-open', 'break-ended', now);
    }
    if (this.state === 'isolated') return { kind: 'rejected', state: 'isolated' };
    // Judged by a rate, a half-open period admits `probes` probes in all.
    const settled = this.config.probeRate === undefined ? 0 : this.successes + this.failures;
    if (this.state === 'half-open' && this.probes.length + settled >= this.config.probes) {
      return { kind: 'rejected', state: 'half-open' };
    }
    return undefined;
  }

  /** Fires every event due by `target`, in the clock's order. */
  advanceTo(target: number): void {
    for (;;) {
      this.events.sort((a, b) => a.due - b.due || a.seq - b.seq);
      const event = this.events[0];
      if (event === undefined || event.due > target) return;
      this.events.shift();
      if (event.kind === 'hang') this.hang(event.running, event.due);
      else this.complete(event.running, event.due);
    }
  }

  /** Reading changes nothing: an open breaker stays open until a call arrives. */
  read(): CircuitState {
    return this.state;
  }

  retryAfterMs(now: number): number | undefined {
    return this.state === 'open' ? Math.max(0, this.openUntil - now) : undefined;
  }

  stats(now: number): CircuitBreakerStats {
    const window = this.window(now);
    return {
      calls: window.length,
      failures: window.filter((r) => r.flags & 1).length,
      slow: window.filter((r) => r.flags & 2).length,
      consecutiveFailures: this.consecutiveFailures,
      activeProbes: this.probes.length,
    };
  }

  isolate(now: number): Isolation {
    this.isolation ??= { count: 0 };
    this.isolation.count++;
    if (this.state !== 'isolated') this.move('isolated', 'isolated', now);
    return this.isolation;
  }

  dispose(isolation: Isolation, now: number): void {
    if (this.isolation !== isolation || --isolation.count > 0) return;
    this.isolation = undefined;
    this.move('closed', 'isolation-ended', now);
  }

  reset(now: number): void {
    this.isolation = undefined;
    if (this.state !== 'closed') {
      this.move('closed', 'reset', now);
      return;
    }
    this.generation++;
    this.records = [];
    this.consecutiveFailures = 0;
  }

  private schedule(due: number, kind: ModelEvent['kind'], running: Running): void {
    this.events.push({ due, seq: this.seq++, kind, running });
  }

  private slowMs(): number {
    const rule = this.config.rule;
    return rule.kind === 'consecutive' || rule.slow === undefined
      ? Number.POSITIVE_INFINITY
      : rule.slow.ms;
  }

  private complete(running: Running, now: number): void {
    const slow = now - running.start >= this.slowMs();
    const flags = (running.call.fail ? 1 : 0) | (slow ? 2 : 0);
    if (running.probe) {
      if (this.release(running)) this.judge(flags !== 0, 'probe-failed', now);
      return;
    }
    if (running.generation !== this.generation) return;
    const reason = this.record(flags, now);
    if (reason !== undefined) this.move('open', reason, now);
  }

  private hang(running: Running, now: number): void {
    if (this.release(running)) this.judge(true, 'probe-hung', now);
  }

  /** Without a rate: any failure reopens, `probes` successes close. With one: all probes decide. */
  private judge(failed: boolean, reason: string, now: number): void {
    if (failed) this.failures++;
    else this.successes++;
    const { probes, probeRate } = this.config;
    if (probeRate === undefined) {
      if (failed) this.move('open', reason, now);
      else if (this.successes >= probes) this.move('closed', 'probes-succeeded', now);
      return;
    }
    // Decide as soon as the rest of the probes cannot change the answer.
    const worst = probes - this.successes;
    if (this.failures / probes >= probeRate) this.move('open', reason, now);
    else if (worst / probes < probeRate) this.move('closed', 'probes-succeeded', now);
  }

  private release(running: Running): boolean {
    const at = this.probes.indexOf(running);
    if (at === -1) return false;
    this.probes.splice(at, 1);
    this.events = this.events.filter((e) => !(e.kind === 'hang' && e.running === running));
    return true;
  }

  private record(flags: number, now: number): string | undefined {
    this.consecutiveFailures = flags & 1 ? this.consecutiveFailures + 1 : 0;
    const rule = this.config.rule;
    if (rule.kind === 'consecutive') {
      return this.consecutiveFailures >= rule.n ? 'failures' : undefined;
    }
    this.records.push({ time: now, flags });
    const window = this.window(now);
    const calls = window.length;
    if (calls < rule.minimumCalls) return undefined;
    if (window.filter((r) => r.flags & 1).length / calls >= rule.failureRate) return 'failures';
    const slowRate = rule.slow?.rate ?? Number.POSITIVE_INFINITY;
    if (window.filter((r) => r.flags & 2).length / calls >= slowRate) return 'slow-calls';
    return undefined;
  }

  private window(now: number): { time: number; flags: number }[] {
    const rule = this.config.rule;
    if (rule.kind === 'consecutive') return [];
    if (rule.kind === 'count') return this.records.slice(-rule.size);
    // Whole-millisecond times: t * buckets / ms is exact, unlike t / (ms / buckets).
    const bucket = (time: number) => Math.floor((time * rule.buckets) / rule.ms);
    return this.records.filter((r) => bucket(r.time) > bucket(now) - rule.buckets);
  }

  private move(to: CircuitState, reason: string, now: number): void {
    this.log.push(`${this.state}->${to} ${reason}`);
    this.probes = [];
    this.successes = 0;
    this.failures = 0;
    this.events = this.events.filter((e) => e.kind !== 'hang');
    this.generation++;
    if (to === 'open') {
      this.opens++;
      this.openUntil = now + breakMsOf(this.config, this.opens);
    }
    if (to === 'closed') this.opens = 0;
    if (to !== 'half-open') {
      this.records = [];
      this.consecutiveFailures = 0;
    }
    this.state = to;
  }
}

const legal = new Set([
  'closed->open failures',
  'closed->open slow-calls',
  'open->half-open break-ended',
  'half-open->closed probes-succeeded',
  'half-open->open probe-failed',
  'half-open->open probe-hung',
  'closed->isolated isolated',
  'open->isolated isolated',
  'half-open->isolated isolated',
  'isolated->closed isolation-ended',
  'open->closed reset',
  'half-open->closed reset',
  'isolated->closed reset',
]);

function optionsFor(config: Config, clock: VirtualClock): CircuitBreakerOptions {
  const rule = config.rule;
  const common = {
    clock,
    breakDurationMs:
      config.breakMs === 'exponential'
        ? (opens: number) => breakMsOf(config, opens)
        : config.breakMs,
    halfOpen: { probes: config.probes, maxMs: config.maxMs, failureRate: config.probeRate },
    mode: config.metricsOnly ? ('metrics-only' as const) : ('enforcing' as const),
  };
  if (rule.kind === 'consecutive') return { ...common, consecutiveFailures: rule.n };
  return {
    ...common,
    window:
      rule.kind === 'count'
        ? { type: 'count', size: rule.size }
        : { type: 'time', ms: rule.ms, buckets: rule.buckets },
    failureRate: rule.failureRate,
    minimumCalls: rule.minimumCalls,
    slowCall: rule.slow,
  };
}

const slowArb = fc.option(
  fc.record({ ms: fc.constantFrom(30, 80), rate: fc.constantFrom(0.5, 1) }),
  { nil: undefined },
);
const rateArb = fc.constantFrom(0.25, 0.5, 1);
const ruleArb: fc.Arbitrary<Rule> = fc.oneof(
  fc.record({ kind: fc.constant('consecutive' as const), n: fc.integer({ min: 1, max: 4 }) }),
  fc.integer({ min: 1, max: 6 }).chain((size) =>
    fc.record({
      kind: fc.constant('count' as const),
      size: fc.constant(size),
      failureRate: rateArb,
      minimumCalls: fc.integer({ min: 1, max: size }),
      slow: slowArb,
    }),
  ),
  fc.record({
    kind: fc.constant('time' as const),
    ms: fc.constantFrom(100, 300),
    buckets: fc.integer({ min: 1, max: 4 }),
    failureRate: rateArb,
    minimumCalls: fc.integer({ min: 1, max: 5 }),
    slow: slowArb,
  }),
);
const configArb: fc.Arbitrary<Config> = fc.record({
  rule: ruleArb,
  breakMs: fc.constantFrom<number | 'exponential'>(50, 200, 'exponential'),
  probes: fc.integer({ min: 1, max: 4 }),
  maxMs: fc.constantFrom(100, 250),
  probeRate: fc.constantFrom(undefined, undefined, 0.25, 0.5, 1),
  metricsOnly: fc.constantFrom(false, false, false, true),
});
const callArb: fc.Arbitrary<Call> = fc.record({
  fail: fc.constantFrom(false, false, true),
  ms: fc.constantFrom(0, 10, 30, 80, 100, 150, 250, 400),
});
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('burst' as const),
      calls: fc.array(callArb, { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.constantFrom(0, 20, 50, 100, 200, 400),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'isolate' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'dispose' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

async function check(config: Config, ops: Op[]): Promise<void> {
  const clock = new VirtualClock();
  const breaker = circuitBreaker(optionsFor(config, clock));
  const model = new Model(config);
  const log: string[] = [];
  breaker.on('stateChange', ({ from, to, reason }) => log.push(`${from}->${to} ${reason}`));
  const isolations: { dispose: () => void; model: Isolation }[] = [];

  for (const op of ops) {
    const now = clock.now();
    if (op.kind === 'burst') {
      const calls = op.calls.map((call) => {
        let ran = false;
        const settled = breaker
          .execute(() => {
            ran = true;
            return new Promise((resolve, reject) =>
              clock.setTimeout(
                () => (call.fail ? reject(new Error('down')) : resolve('up')),
                call.ms,
              ),
            );
          })
          .then(
            (value) => ({ ok: true, value }) as const,
            (error: unknown) => ({ ok: false, error }) as const,
          );
        return { call, settled, ran: () => ran, expected: model.admit(call, now) };
      });
      expect(breaker.stats.activeProbes).toBeLessThanOrEqual(config.probes);
      const longest = Math.max(...op.calls.map((call) => call.ms));
      await clock.advance(longest);
      model.advanceTo(now + longest);
      for (const { call, settled, ran, expected } of calls) {
        const result = await settled;
        expect(ran()).toBe(expected.kind !== 'rejected');
        if (expected.kind !== 'rejected') {
          expect(result.ok).toBe(!call.fail);
        } else if (expected.state === 'isolated') {
          expect(result.ok ? undefined : result.error).toBeInstanceOf(IsolatedCircuitError);
        } else {
          const error = result.ok ? undefined : result.error;
          expect(error).toBeInstanceOf(BrokenCircuitError);
          expect((error as BrokenCircuitError).retryAfterMs).toBe(expected.retryAfterMs);
        }
      }
    } else if (op.kind === 'advance') {
      await clock.advance(op.ms);
      model.advanceTo(now + op.ms);
    } else if (op.kind === 'isolate') {
      isolations.push({ dispose: breaker.isolate(), model: model.isolate(now) });
    } else if (op.kind === 'dispose') {
      const isolation = isolations.shift();
      if (isolation !== undefined) {
        isolation.dispose();
        model.dispose(isolation.model, now);
      }
    } else {
      breaker.reset();
      model.reset(now);
    }
    const at = clock.now();
    expect(breaker.state).toBe(model.read());
    expect(breaker.retryAfterMs).toBe(model.retryAfterMs(at));
    expect(breaker.stats).toEqual(model.stats(at));
    expect(log).toEqual(model.log);
  }

  for (const entry of log) expect(legal).toContain(entry);

  // Whatever the history, a snapshot restores to the same state and counts.
  const snapshot = JSON.parse(JSON.stringify(breaker));
  const copy = circuitBreaker({
    ...optionsFor(config, new VirtualClock(clock.now())),
    initialState: snapshot,
  });
  expect(copy.toJSON()).toEqual(breaker.toJSON());
  expect({ ...copy.stats, activeProbes: 0 }).toEqual({ ...breaker.stats, activeProbes: 0 });
}

describe('circuitBreaker: properties against a reference model', () => {
  it('matches the model in state, transitions, counts, probes and refusals', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(opArb, { minLength: 10, maxLength: 40 }), check),
      {
        numRuns: 200,
      },
    );
  });

  it('a reference run: count window with concurrent probes', async () => {
    await check(
      {
        rule: { kind: 'count', size: 3, failureRate: 0.5, minimumCalls: 2 },
        breakMs: 50,
        probes: 2,
        maxMs: 100,
      },
      [
        { kind: 'burst', calls: [{ fail: true, ms: 10 }] },
        { kind: 'burst', calls: [{ fail: false, ms: 10 }] },
        { kind: 'advance', ms: 50 },
        {
          kind: 'burst',
          calls: [
            { fail: false, ms: 30 },
            { fail: false, ms: 400 },
            { fail: true, ms: 0 },
          ],
        },
        { kind: 'advance', ms: 400 },
        { kind: 'isolate' },
        { kind: 'burst', calls: [{ fail: false, ms: 0 }] },
        { kind: 'dispose' },
      ],
    );
  });
});
