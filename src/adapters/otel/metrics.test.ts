import type { Histogram } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Sdk, sdk } from '../../../test/otel/sdk-harness.js';
import {
  backoff,
  bulkhead,
  circuitBreaker,
  healthRegistry,
  keyed,
  pipeline,
  retry,
  timeout,
} from '../../index.js';
import { VirtualClock } from '../../testing/index.js';
import { openTelemetry } from './open-telemetry.js';

describe('openTelemetry metrics: call durations and gauges', () => {
  let otel: Sdk;
  let stop: () => void;

  beforeEach(() => {
    otel = sdk();
    stop = openTelemetry({ meterProvider: otel.meterProvider, tracing: false });
  });

  afterEach(async () => {
    stop();
    await otel.shutdown();
  });

  it('records call and attempt durations in seconds, by outcome and error type', async () => {
    const clock = new VirtualClock();
    const api = pipeline(
      retry({ maxAttempts: 2, backoff: backoff.constant(100), clock }),
      timeout(1_000, { clock }),
      { name: 'api' },
    );
    let runs = 0;
    const slowThenOk = api.execute(async () => {
      runs++;
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 250));
      if (runs === 1) throw new TypeError('reset');
      return 'ok';
    });
    await clock.advance(600); // 250 failing, 100 backoff, 250 succeeding
    await slowThenOk;
    const failing = expect(
      api.execute(() => Promise.reject(new RangeError('bad'))),
    ).rejects.toThrow();
    await clock.advance(100);
    await failing;

    const calls = await otel.points('bulwark.call.duration');
    const shown = calls.map(({ attributes, value }) => {
      const { sum, count } = value as Histogram;
      return { attributes, count, sum };
    });
    expect(shown).toEqual([
      {
        attributes: {
          'bulwark.policy.name': 'api',
          'bulwark.policy.kind': 'pipeline',
          'bulwark.outcome': 'success',
        },
        count: 1,
        sum: 0.6,
      },
      {
        attributes: {
          'bulwark.policy.name': 'api',
          'bulwark.policy.kind': 'pipeline',
          'bulwark.outcome': 'failure',
          'error.type': 'RangeError',
        },
        count: 1,
        sum: 0.1, // the second call failed twice, with one 100 ms backoff between
      },
    ]);
    const attempts = await otel.points('bulwark.attempt.duration');
    const byOutcome = Object.fromEntries(
      attempts.map(({ attributes, value }) => [
        `${attributes['bulwark.outcome']} ${attributes['error.type'] ?? ''}`.trim(),
        (value as Histogram).count,
      ]),
    );
    expect(byOutcome).toEqual({ success: 1, 'failure TypeError': 1, 'failure RangeError': 2 });
    const [first] = attempts;
    expect((first?.value as Histogram | undefined)?.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
  });

  it('reads gauges at collection: breaker state, bulkhead running and queued, health status', async () => {
    const breaker = circuitBreaker({ name: 'db', consecutiveFailures: 1 });
    const pool = bulkhead({ name: 'pool', limit: 1, queue: 5 });
    const health = healthRegistry({ name: 'probes' });
    health.register('db', () => breaker.state !== 'open');
    health.register('disk', () => ({ status: 'warn', output: '85% full' }));
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const running = [pool.execute(() => gate), pool.execute(() => gate), pool.execute(() => gate)];
    await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow();
    await health.run();

    const value = async (name: string) =>
      (await otel.points(name)).map((p) => [p.attributes, p.value]);
    expect(await value('bulwark.circuit_breaker.state')).toEqual([
      [{ 'bulwark.policy.name': 'db', 'bulwark.policy.kind': 'circuit-breaker' }, 2],
    ]);
    expect(await value('bulwark.bulkhead.running_calls')).toEqual([
      [{ 'bulwark.policy.name': 'pool', 'bulwark.policy.kind': 'bulkhead' }, 1],
    ]);
    expect(await value('bulwark.bulkhead.queued_calls')).toEqual([
      [{ 'bulwark.policy.name': 'pool', 'bulwark.policy.kind': 'bulkhead' }, 2],
    ]);
    const probes = { 'bulwark.policy.name': 'probes', 'bulwark.policy.kind': 'health' };
    expect(await value('bulwark.health.status')).toEqual([
      [{ ...probes, 'bulwark.health.check': 'db' }, 0],
      [{ ...probes, 'bulwark.health.check': 'disk' }, 0.5],
    ]);

    breaker.reset();
    release();
    await Promise.all(running);
    expect(await value('bulwark.circuit_breaker.state')).toEqual([
      [{ 'bulwark.policy.name': 'db', 'bulwark.policy.kind': 'circuit-breaker' }, 0],
    ]);
    expect((await value('bulwark.bulkhead.queued_calls'))[0]?.[1]).toBe(0);
  });

  it('keeps cardinality bounded: 100,000 keys through a keyed breaker add no series', async () => {
    // The default maxKeys (10,000) keeps the last 10,000 keys: memory stays bounded too.
    const breakers = keyed(() => circuitBreaker({ name: 'per-host', consecutiveFailures: 1 }), {
      name: 'hosts',
    });
    const fail = () => Promise.reject(new Error('down'));
    const seriesOf = async () => {
      const names = await otel.names();
      const points = await Promise.all(names.map((name) => otel.points(name)));
      return points.flat();
    };
    await breakers.execute(fail, { key: 'host-0' }).catch(() => {});
    const before = (await seriesOf()).length;
    const calls: Promise<unknown>[] = [];
    for (let i = 1; i < 100_000; i++) {
      calls.push(breakers.execute(fail, { key: `host-${i}` }).catch(() => {}));
    }
    await Promise.all(calls);
    const after = await seriesOf();
    expect(after.length).toBe(before);
    const values = after.flatMap((point) => Object.values(point.attributes));
    expect(values.some((value) => String(value).startsWith('host-'))).toBe(false);
    const open = after.find(
      (point) =>
        point.attributes['bulwark.policy.name'] === 'hosts' &&
        point.attributes['bulwark.circuit_breaker.state'] === 'open',
    );
    expect(open?.value).toBe(10_000);
  });

  it('stops observing gauges once disposed', async () => {
    const kept = [circuitBreaker({ name: 'before', consecutiveFailures: 1 })];
    const names = async () =>
      (await otel.points('bulwark.circuit_breaker.state')).map(
        (point) => point.attributes['bulwark.policy.name'],
      );
    expect(await names()).toContain('before');
    stop();
    kept.push(circuitBreaker({ name: 'after', consecutiveFailures: 1 }));
    // The SDK keeps reporting what it last saw; nothing new is observed.
    expect(await names()).not.toContain('after');
    expect(kept).toHaveLength(2); // both stay alive until here
  });
});
