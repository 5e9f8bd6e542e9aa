import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sleep } from '../core/clock.js';
import { TimeoutError } from '../core/errors.js';
import type { ReadinessControl } from '../core/readiness.js';
import { telemetry } from '../telemetry.js';
import { VirtualClock } from '../testing/index.js';
import { healthRegistry } from './registry.js';
import type { HealthEvents, HealthStatus } from './types.js';

type Change = HealthEvents['statusChange'];

/** A check that answers `answer` after `ms` of virtual time, counting its runs. */
function slow(clock: VirtualClock, ms: number, answer: () => unknown = () => true) {
  const calls: AbortSignal[] = [];
  const check = async (signal: AbortSignal) => {
    calls.push(signal);
    await sleep(clock, ms);
    return answer() as boolean;
  };
  return { check, calls };
}

describe('healthRegistry', () => {
  it('reports an IETF health+json document keyed by name or name:measurement', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 2, 3, 4, 5));
    const registry = healthRegistry({ clock });
    registry.register('db', () => true, { componentType: 'datastore' });
    registry.register(
      'queue',
      async () => ({
        status: 'warn',
        observedValue: 250,
        observedUnit: 'ms',
        output: 'slow',
      }),
      { measurement: 'responseTime', critical: false },
    );
    const report = await registry.run();
    expect(report).toEqual({
      status: 'warn',
      checks: {
        db: [{ status: 'pass', time: '2026-01-02T03:04:05.000Z', componentType: 'datastore' }],
        'queue:responseTime': [
          {
            status: 'warn',
            time: '2026-01-02T03:04:05.000Z',
            observedValue: 250,
            observedUnit: 'ms',
            output: 'slow',
          },
        ],
      },
    });
    // The report is plain JSON.
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('defaults: readiness kind, 1000 ms timeout, no cache; an empty kind passes', async () => {
    const registry = healthRegistry();
    expect([registry.name, registry.timeoutMs, registry.cacheMs]).toEqual(['health', 1_000, 0]);
    registry.register('db', () => false);
    expect((await registry.run()).status).toBe('fail');
    expect(await registry.run({ kind: 'liveness' })).toEqual({ status: 'pass', checks: {} });
  });

  it('runs only the checks of the asked kind', async () => {
    const registry = healthRegistry({ clock: new VirtualClock() });
    const runs: string[] = [];
    const tracked = (name: string) => () => {
      runs.push(name);
      return true;
    };
    registry.register('a', tracked('a'), { kinds: ['liveness'] });
    registry.register('b', tracked('b'), { kinds: ['readiness', 'startup'] });
    registry.register('c', tracked('c'));
    expect(Object.keys((await registry.run({ kind: 'readiness' })).checks)).toEqual(['b', 'c']);
    expect(Object.keys((await registry.run({ kind: 'liveness' })).checks)).toEqual(['a']);
    expect(Object.keys((await registry.run({ kind: 'startup' })).checks)).toEqual(['b']);
    expect(runs).toEqual(['b', 'c', 'a', 'b']);
  });

  it('refuses duplicate names, unregisters, and rejects bad options naming them', async () => {
    const registry = healthRegistry();
    registry.register('db', () => true);
    expect(() => registry.register('db', () => true)).toThrow(
      new TypeError('health: a check named "db" is already registered'),
    );
    expect(registry.unregister('db')).toBe(true);
    expect(registry.unregister('db')).toBe(false);
    registry.register('db', () => false);
    expect((await registry.run()).status).toBe('fail');
    expect(() => healthRegistry({ timeoutMs: 0 })).toThrow(
      'health: option "timeoutMs" must be a number of milliseconds > 0 or Infinity (got 0)',
    );
    expect(() => healthRegistry({ cacheMs: -1 })).toThrow(/option "cacheMs"/);
    expect(() => healthRegistry({ name: '' })).toThrow(/option "name"/);
    expect(() => healthRegistry({ clock: {} as never })).toThrow(/option "clock"/);
    expect(() => registry.register('', () => true)).toThrow(TypeError);
    expect(() => registry.register('x', 'nope' as never)).toThrow(
      'health: option "check" must be a function (got "nope")',
    );
    expect(() => registry.register('x', () => true, { kinds: [] })).toThrow(/option "kinds"/);
    expect(() => registry.register('x', () => true, { kinds: ['ready' as never] })).toThrow(
      `health: option "kinds" must be one of 'liveness', 'readiness', 'startup' (got "ready")`,
    );
    expect(() => registry.register('x', () => true, { critical: 1 as never })).toThrow(
      /option "critical"/,
    );
    expect(() => registry.register('x', () => true, { timeoutMs: Number.NaN })).toThrow(
      /option "timeoutMs"/,
    );
    expect(() => registry.register('x', () => true, { measurement: '' })).toThrow(
      /option "measurement"/,
    );
    expect(registry.checks).toEqual(['db']);
    await expect(registry.run({ kind: 'ready' as never })).rejects.toThrow(/option "kind"/);
  });

  it('fails a hung check at its timeout, aborting its signal, and ignores its late answer', async () => {
    const clock = new VirtualClock();
    const registry = healthRegistry({ clock, timeoutMs: 500 });
    const hung = slow(clock, 10_000);
    registry.register('hung', hung.check);
    registry.register('fast', slow(clock, 100).check, { timeoutMs: 200 });
    let report: unknown;
    void registry.run().then((r) => {
      report = r;
    });
    await clock.advance(499);
    expect(report).toBeUndefined();
    expect(hung.calls[0]!.aborted).toBe(false);
    await clock.advance(1);
    expect(report).toEqual({
      status: 'fail',
      checks: {
        hung: [
          { status: 'fail', time: new Date(500).toISOString(), output: 'timed out after 500 ms' },
        ],
        fast: [{ status: 'pass', time: new Date(100).toISOString() }],
      },
    });
    expect(hung.calls[0]!.aborted).toBe(true);
    expect(hung.calls[0]!.reason).toBeInstanceOf(TimeoutError);
    expect(clock.armedTimers).toBe(1); // only the hung check's own sleep
    await clock.runAll();
    expect(registry.healthy('hung')).toBe(false); // its late `true` changed nothing
  });

  it('runs checks concurrently: the report takes as long as the slowest check', async () => {
    const clock = new VirtualClock();
    const registry = healthRegistry({ clock });
    for (const name of ['a', 'b', 'c']) registry.register(name, slow(clock, 300).check);
    let done = false;
    void registry.run().then(() => {
      done = true;
    });
    await clock.advance(299);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
  });

  it('reuses results younger than cacheMs, per check', async () => {
    const clock = new VirtualClock();
    const registry = healthRegistry({ clock, cacheMs: 1_000 });
    let n = 0;
    registry.register('counted', () => ({ status: 'pass', observedValue: ++n }));
    registry.register('uncached', () => ({ status: 'pass', observedValue: ++n }), { cacheMs: 0 });
    const value = async (key: string) => (await registry.run()).checks[key]![0]!.observedValue;
    expect(await value('counted')).toBe(1);
    await clock.advance(999);
    expect(await value('counted')).toBe(1);
    expect(await value('uncached')).toBe(4);
    await clock.advance(1);
    expect(await value('counted')).toBe(5);
  });

  it('coalesces concurrent runs of the same check into one call', async () => {
    const clock = new VirtualClock();
    const registry = healthRegistry({ clock });
    const check = slow(clock, 100);
    registry.register('db', check.check, { kinds: ['readiness', 'liveness'] });
    const runs = [registry.run(), registry.run(), registry.run({ kind: 'liveness' })];
    await clock.advance(100);
    const reports = await Promise.all(runs);
    expect(check.calls).toHaveLength(1);
    for (const report of reports) expect(report.status).toBe('pass');
    void registry.run();
    await clock.advance(100);
    expect(check.calls).toHaveLength(2); // cacheMs 0: a later run calls it again
  });

  it('fails throwing, rejecting and garbage-returning checks, saying why', async () => {
    const registry = healthRegistry({ clock: new VirtualClock() });
    registry.register('throws', () => {
      throw new Error('boom');
    });
    registry.register('rejects', () => Promise.reject(new RangeError('bad')));
    registry.register('throwsString', () => {
      throw 'oops';
    });
    registry.register('number', () => 42 as never);
    registry.register('badStatus', () => ({ status: 'ok' }) as never);
    registry.register('badUnit', () => ({ status: 'pass', observedUnit: 3 }) as never);
    registry.register('undef', async () => undefined as never);
    registry.register('no', () => false);
    const { checks } = await registry.run();
    const outputs = Object.fromEntries(
      Object.entries(checks).map(([key, [item]]) => [key, `${item!.status}: ${item!.output}`]),
    );
    const garbage = "; expected true, false or { status: 'pass' | 'warn' | 'fail' }";
    expect(outputs).toEqual({
      throws: 'fail: Error: boom',
      rejects: 'fail: RangeError: bad',
      throwsString: 'fail: threw "oops"',
      number: `fail: check returned 42${garbage}`,
      badStatus: `fail: check returned {"status":"ok"}${garbage}`,
      badUnit: `fail: check returned {"status":"pass","observedUnit":3}${garbage}`,
      undef: `fail: check returned undefined${garbage}`,
      no: 'fail: check returned false',
    });
  });

  it('fails on a critical failure, warns on a non-critical one or a warning', async () => {
    const registry = healthRegistry({ clock: new VirtualClock() });
    let critical = true;
    let optional = true;
    let warning = false;
    registry.register('critical', () => critical);
    registry.register('optional', () => optional, { critical: false });
    registry.register('warns', () => ({ status: warning ? 'warn' : 'pass' }));
    const status = async () => (await registry.run()).status;
    expect(await status()).toBe('pass');
    optional = false;
    expect(await status()).toBe('warn');
    optional = true;
    warning = true;
    expect(await status()).toBe('warn');
    critical = false;
    expect(await status()).toBe('fail');
    optional = false;
    expect(await status()).toBe('fail');
  });

  it('healthy(name) answers from the latest result, true before the first', async () => {
    const registry = healthRegistry({ clock: new VirtualClock() });
    let answer: 'pass' | 'warn' | 'fail' = 'fail';
    registry.register('db', () => ({ status: answer }));
    expect(registry.healthy('db')).toBe(true);
    await registry.run();
    expect(registry.healthy('db')).toBe(false);
    answer = 'warn';
    await registry.run();
    expect(registry.healthy('db')).toBe(true);
    expect(() => registry.healthy('nope')).toThrow(
      new RangeError('health: unknown check "nope" (known: "db")'),
    );
  });

  it('markNotReady fails every later readiness report, whatever the checks say', async () => {
    const registry = healthRegistry({ clock: new VirtualClock() });
    registry.register('db', () => true, { kinds: ['readiness', 'liveness'] });
    const control: ReadinessControl = registry;
    expect((await registry.run()).status).toBe('pass');
    control.markNotReady('shutting down');
    expect(registry.notReady).toBe('shutting down');
    for (let i = 0; i < 2; i++) {
      expect(await registry.run()).toEqual({
        status: 'fail',
        output: 'shutting down',
        checks: { db: [{ status: 'pass', time: new Date(0).toISOString() }] },
      });
    }
    expect((await registry.run({ kind: 'liveness' })).status).toBe('pass');
    expect(registry.healthy('db')).toBe(true);
    expect(() => registry.markNotReady(1 as never)).toThrow(TypeError);
  });

  it('emits statusChange per check and per kind overall, on changes only', async () => {
    const registry = healthRegistry({ clock: new VirtualClock(), name: 'svc' });
    let up = true;
    registry.register('db', () => up);
    registry.register('cache', () => true, { critical: false });
    const changes: Change[] = [];
    const dispose = registry.on('statusChange', (change) => changes.push(change));
    const seen: string[] = [];
    const unsubscribe = telemetry.subscribe((event) => {
      if (event.kind === 'health') seen.push(`${event.policy} ${event.type} ${event.detail.to}`);
    });
    await registry.run();
    await registry.run();
    up = false;
    await registry.run();
    registry.markNotReady('draining');
    await registry.run();
    up = true;
    await registry.run();
    dispose();
    unsubscribe();
    const line = (c: Change) => `${c.check ?? c.kind}: ${c.from} -> ${c.to} (${c.output})`;
    expect(changes.map(line)).toEqual([
      'db: undefined -> pass (undefined)',
      'cache: undefined -> pass (undefined)',
      'readiness: undefined -> pass (undefined)',
      'db: pass -> fail (check returned false)',
      'readiness: pass -> fail (undefined)',
      'db: fail -> pass (undefined)',
    ]);
    expect(seen).toHaveLength(6);
    expect(seen[0]).toBe('svc statusChange pass');
  });
});

describe('background', () => {
  it("runs every check on one unref'd timer; probes then read results without running checks", async () => {
    const clock = new VirtualClock();
    const registry = healthRegistry({ clock, cacheMs: 0 });
    let n = 0;
    let up = true;
    registry.register('db', () => ({ status: up ? 'pass' : 'fail', observedValue: ++n }), {
      kinds: ['readiness', 'liveness'],
    });
    const changes: string[] = [];
    registry.on('statusChange', (c) => changes.push(`${c.check ?? c.kind} ${c.to}`));
    const handle = registry.background({ intervalMs: 1_000 });
    await clock.advance(0);
    expect(n).toBe(1); // the first round runs at once
    expect(changes).toEqual(['db pass', 'liveness pass', 'readiness pass']);
    expect([clock.pendingTimers, clock.armedTimers]).toEqual([0, 1]);
    for (let i = 0; i < 3; i++) {
      expect((await registry.run()).checks.db![0]!.observedValue).toBe(1);
    }
    up = false;
    await clock.advance(1_000);
    expect(n).toBe(2);
    expect(registry.healthy('db')).toBe(false);
    expect(changes.slice(3)).toEqual(['db fail', 'liveness fail', 'readiness fail']);
    expect((await registry.run()).status).toBe('fail');
    expect(() => registry.background({ intervalMs: 1_000 })).toThrow(/already running/);
    handle.stop();
    handle.stop();
    expect([clock.pendingTimers, clock.armedTimers]).toEqual([0, 0]);
    await clock.advance(5_000);
    expect(n).toBe(2);
    // Stopped: probes run checks again.
    await registry.run();
    expect(n).toBe(3);
  });

  it('waits for a round to end before arming the next; stop during a round leaves no timer', async () => {
    const clock = new VirtualClock();
    const registry = healthRegistry({ clock, timeoutMs: 300 });
    const hung = slow(clock, 10_000);
    registry.register('hung', hung.check);
    const handle = registry.background({ intervalMs: 1_000 });
    await clock.advance(300);
    expect(hung.calls[0]!.aborted).toBe(true);
    await clock.advance(1_000);
    expect(hung.calls).toHaveLength(2); // 300 ms round + 1000 ms interval
    handle.stop();
    expect(clock.pendingTimers).toBe(2); // the two calls' own sleeps: not ours
    await clock.advance(300); // the round in flight times out, and arms nothing
    expect(hung.calls[1]!.aborted).toBe(true);
    await clock.runAll();
    expect(clock.armedTimers).toBe(0);
    expect(hung.calls).toHaveLength(2);
  });

  it('validates intervalMs', () => {
    const registry = healthRegistry();
    expect(() => registry.background({ intervalMs: 0 })).toThrow(/option "intervalMs"/);
    expect(() => registry.background({ intervalMs: Number.POSITIVE_INFINITY })).toThrow(
      /option "intervalMs"/,
    );
    expect(() => registry.background(undefined as never)).toThrow(/option "intervalMs"/);
  });
});

describe('aggregation and removal', () => {
  it('matches the reference rule: any critical fail -> fail, any other non-pass -> warn', async () => {
    const status = fc.constantFrom<HealthStatus>('pass', 'warn', 'fail');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ critical: fc.boolean(), status }), { maxLength: 8 }),
        fc.option(fc.string(), { nil: undefined }),
        async (checks, notReady) => {
          const registry = healthRegistry({ clock: new VirtualClock() });
          checks.forEach(({ critical, status }, i) => {
            registry.register(`c${i}`, () => ({ status }), { critical });
          });
          if (notReady !== undefined) registry.markNotReady(notReady);
          const model: HealthStatus =
            notReady !== undefined || checks.some((c) => c.critical && c.status === 'fail')
              ? 'fail'
              : checks.some((c) => c.status !== 'pass')
                ? 'warn'
                : 'pass';
          const report = await registry.run();
          expect(report.status).toBe(model);
          expect(report.output).toBe(notReady);
          expect(Object.keys(report.checks)).toHaveLength(checks.length);
        },
      ),
    );
  });

  it('disregards the result of a check unregistered while it runs', async () => {
    const clock = new VirtualClock();
    const registry = healthRegistry({ clock });
    registry.register('db', slow(clock, 100, () => false).check);
    const changes: Change[] = [];
    registry.on('statusChange', (change) => changes.push(change));
    const report = registry.run();
    registry.unregister('db');
    registry.register('db', () => true);
    await clock.advance(100);
    expect((await report).status).toBe('fail'); // that run saw the old check
    expect(registry.healthy('db')).toBe(true); // the new one has no result yet
    expect(changes.map((c) => `${c.check ?? c.kind} ${c.to}`)).toEqual(['readiness fail']);
    expect((await registry.run()).status).toBe('pass');
  });
});
