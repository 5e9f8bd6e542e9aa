import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { adaptiveLimit } from '../adaptive-limit/index.js';
import { bulkhead } from '../bulkhead/index.js';
import { cache } from '../cache/index.js';
import { circuitBreaker } from '../circuit-breaker/index.js';
import { feature } from '../degradation/index.js';
import { healthRegistry } from '../health/index.js';
import { keyed } from '../keyed/index.js';
import { loadShedder } from '../load-shedder/index.js';
import { rateLimiter } from '../rate-limiter/index.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { type GaugeReading, pipeline, telemetry } from './index.js';

/** The readings of the policy named `policy`, as `gauge[labels]=value (state)` lines. */
function readingsOf(policy: string): string[] {
  return telemetry
    .gauges()
    .filter((reading) => reading.policy === policy)
    .map(show);
}

function show(reading: GaugeReading): string {
  const labels = reading.labels === undefined ? '' : JSON.stringify(reading.labels);
  const state = reading.state === undefined ? '' : ` (${reading.state})`;
  return `${reading.kind} ${reading.gauge}${labels}=${reading.value}${state}`;
}

/** Resolves `release()` on demand: a task that holds its slot until told. */
function gate(): { wait: () => Promise<void>; release: () => void } {
  let release = (): void => {};
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { wait: () => opened, release };
}

describe('telemetry.gauges()', () => {
  it("reads a breaker's state, encoding isolated as open", async () => {
    const breaker = circuitBreaker({ name: 'gauge-breaker', consecutiveFailures: 1 });
    expect(readingsOf('gauge-breaker')).toEqual(['circuit-breaker state=0 (closed)']);
    await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow();
    expect(readingsOf('gauge-breaker')).toEqual(['circuit-breaker state=2 (open)']);
    breaker.isolate();
    expect(readingsOf('gauge-breaker')).toEqual(['circuit-breaker state=2 (isolated)']);
  });

  it('reads running, queued and limit of bulkheads and load shedders', async () => {
    const slots = bulkhead({ name: 'gauge-bulkhead', limit: 1, queue: 5 });
    const shedder = loadShedder({ name: 'gauge-shedder', limit: 2, queue: 5 });
    const held = gate();
    const calls = [1, 2, 3].flatMap(() => [slots.execute(held.wait), shedder.execute(held.wait)]);
    expect(readingsOf('gauge-bulkhead')).toEqual([
      'bulkhead running=1',
      'bulkhead queued=2',
      'bulkhead limit=1',
    ]);
    expect(readingsOf('gauge-shedder')).toEqual([
      'load-shedder running=2',
      'load-shedder queued=1',
      'load-shedder limit=2',
    ]);
    held.release();
    await Promise.all(calls);
    expect(readingsOf('gauge-bulkhead')).toContain('bulkhead running=0');
  });

  it('reads adaptive limits, rate limiter waits, caches, features and health checks', async () => {
    const clock = new VirtualClock();
    adaptiveLimit({ name: 'gauge-limit', algorithm: 'aimd', min: 1, initial: 7 });
    const limiter = rateLimiter({ name: 'gauge-rate', limit: 1, mode: 'wait', clock });
    const memo = cache({ name: 'gauge-cache', ttlMs: 1_000, clock });
    feature({ name: 'gauge-feature', enabled: false });
    const health = healthRegistry({ name: 'gauge-health', clock });
    health.register('db', () => false).register('queue', () => true);

    await limiter.execute(() => 1);
    const waiting = limiter.execute(() => 2);
    await memo.execute(() => 'v', { key: 'a' });
    await health.run();

    expect(readingsOf('gauge-limit')).toEqual(['adaptive-limit limit=7']);
    expect(readingsOf('gauge-rate')).toEqual(['rate-limiter waiting=1']);
    expect(readingsOf('gauge-cache')).toEqual(['cache inflight=0', 'cache entries=1']);
    expect(readingsOf('gauge-feature')).toEqual(['feature mode=2 (disabled)']);
    expect(readingsOf('gauge-health')).toEqual([
      'health status{"check":"db"}=0 (fail)',
      'health status{"check":"queue"}=1 (pass)',
    ]);
    await clock.advance(1_000);
    await waiting;
  });

  it('reports a keyed breaker as totals: 100,000 keys add no readings', async () => {
    const perHost = keyed(
      (host) => circuitBreaker({ name: `breaker:${host}`, consecutiveFailures: 1 }),
      { name: 'gauge-keyed', maxKeys: 200_000 },
    );
    await perHost.execute(() => 'ok', { key: 'host-0' });
    const before = telemetry.gauges().length;
    const down = () => Promise.reject(new Error('down'));
    for (let i = 1; i < 100_000; i++) {
      await perHost.execute(i % 4 === 3 ? down : () => 'ok', { key: `host-${i}` }).catch(() => {});
    }
    expect(telemetry.gauges()).toHaveLength(before);
    expect(readingsOf('gauge-keyed')).toEqual([
      'keyed keys=100000',
      'circuit-breaker keys{"state":"closed"}=75000',
      'circuit-breaker keys{"state":"half-open"}=0',
      'circuit-breaker keys{"state":"open"}=25000',
      'circuit-breaker keys{"state":"isolated"}=0',
    ]);
  });

  it("sums the numbers of each key's pipeline", async () => {
    const perTenant = keyed(() => pipeline(bulkhead({ limit: 2 }), timeout(1_000)), {
      name: 'gauge-tenants',
    });
    const held = gate();
    const calls = ['a', 'a', 'a', 'b'].map((key) => perTenant.execute(held.wait, { key }));
    expect(readingsOf('gauge-tenants')).toEqual([
      'keyed keys=2',
      'bulkhead running=3',
      'bulkhead queued=0',
      'bulkhead limit=4',
    ]);
    held.release();
    await Promise.allSettled(calls);
  });

  it('keeps a keyed policy totals at zero once its keys are gone', async () => {
    const perHost = keyed(() => bulkhead({ limit: 1 }), { name: 'gauge-emptied' });
    await perHost.execute(() => 1, { key: 'a' });
    expect(readingsOf('gauge-emptied')).toContain('keyed keys=1');
    perHost.delete('a');
    expect(readingsOf('gauge-emptied')).toEqual([
      'keyed keys=0',
      'bulkhead running=0',
      'bulkhead queued=0',
      'bulkhead limit=0',
    ]);
  });

  it('forgets a policy once it is garbage', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    (() => {
      bulkhead({ name: 'gauge-garbage', limit: 1 });
    })();
    expect(readingsOf('gauge-garbage')).toHaveLength(3);
    // A WeakRef holds its target until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(readingsOf('gauge-garbage')).toEqual([]);
  });
});
