import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Sdk, sdk } from '../../../test/otel/sdk-harness.js';
import {
  backoff,
  bulkhead,
  cache,
  circuitBreaker,
  feature,
  loadShedder,
  pipeline,
  rateLimiter,
  retry,
  timeout,
} from '../../index.js';
import { VirtualClock } from '../../testing/index.js';
import { openTelemetry } from './open-telemetry.js';

const fail = (): Promise<never> => Promise.reject(new Error('down'));
const ok = (): Promise<string> => Promise.resolve('ok');

/** Data points as `attribute=value,... => value`, sorted, without the policy's kind. */
async function readings(otel: Sdk, name: string): Promise<string[]> {
  return (await otel.points(name))
    .map(({ attributes, value }) => {
      const shown = Object.entries(attributes)
        .filter(([key]) => key !== 'bulwark.policy.kind')
        .map(([key, item]) => `${key}=${item}`)
        .sort()
        .join(',');
      return `${shown} => ${typeof value === 'number' ? value : value.count}`;
    })
    .sort();
}

describe('openTelemetry metrics from policy events', () => {
  let otel: Sdk;
  let stop: () => void;
  let clock: VirtualClock;

  beforeEach(() => {
    otel = sdk();
    clock = new VirtualClock();
    stop = openTelemetry({ meterProvider: otel.meterProvider, tracing: false, clock });
  });

  afterEach(async () => {
    stop();
    await otel.shutdown();
  });

  it('counts retry attempts by what followed them, and give-ups by reason', async () => {
    const policy = retry({ name: 'api', maxAttempts: 3, backoff: backoff.constant(0), clock });
    await expect(policy.execute(fail)).rejects.toThrow('down');
    await policy.execute(ok);
    expect(await readings(otel, 'bulwark.retry.attempts')).toEqual([
      'bulwark.policy.name=api,bulwark.retry.reason=maxAttempts,bulwark.retry.result=give_up => 1',
      'bulwark.policy.name=api,bulwark.retry.result=retry => 2',
      'bulwark.policy.name=api,bulwark.retry.result=success => 1',
    ]);
  });

  it("times a breaker's recovery from opening to closing, on the given clock", async () => {
    const breaker = circuitBreaker({
      name: 'db',
      consecutiveFailures: 1,
      breakDurationMs: 5_000,
      clock,
    });
    await expect(breaker.execute(fail, { key: 'tenant-a' })).rejects.toThrow('down');
    await clock.advance(5_000);
    await expect(breaker.execute(fail, { key: 'tenant-b' })).rejects.toThrow('down'); // reopens
    await clock.advance(7_000);
    await breaker.execute(ok, { key: 'tenant-c' }); // the probe closes it
    const [point] = await otel.points('bulwark.circuit_breaker.recovery.duration');
    expect(point?.value).toMatchObject({ count: 1, sum: 12 });
    expect(point?.attributes).toEqual({
      'bulwark.policy.name': 'db',
      'bulwark.policy.kind': 'circuit-breaker',
    });
  });

  it('counts refusals: timeouts, rate limiting, full bulkheads and sheds by reason', async () => {
    const timed = timeout(100, { name: 'slow-api', clock });
    const timedOut = timed.execute(
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', reject)),
    );
    const timedOutSeen = expect(timedOut).rejects.toThrow('Timed out');
    await clock.advance(100);
    await timedOutSeen;

    const limiter = rateLimiter({ name: 'quota', limit: 1, clock });
    await limiter.execute(ok);
    await expect(limiter.execute(ok)).rejects.toThrow();

    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const pool = bulkhead({ name: 'pool', limit: 1 });
    const held = pool.execute(() => gate);
    await expect(pool.execute(ok)).rejects.toThrow();
    const shedder = loadShedder({ name: 'front', limit: 1 });
    const busy = shedder.execute(() => gate);
    await expect(shedder.execute(ok)).rejects.toThrow();
    release();
    await Promise.all([held, busy]);

    expect(await readings(otel, 'bulwark.timeout.timed_out_calls')).toEqual([
      'bulwark.policy.name=slow-api => 1',
    ]);
    expect(await readings(otel, 'bulwark.rate_limiter.limited_calls')).toEqual([
      'bulwark.policy.name=quota => 1',
    ]);
    expect(await readings(otel, 'bulwark.bulkhead.rejected_calls')).toEqual([
      'bulwark.bulkhead.reason=full,bulwark.policy.name=pool => 1',
    ]);
    expect(await readings(otel, 'bulwark.load_shedder.shed_calls')).toEqual([
      'bulwark.load_shedder.reason=capacity,bulwark.policy.name=front => 1',
    ]);
  });

  it('counts cache requests by result and degraded calls by reason', async () => {
    const prices = cache({ name: 'prices', ttlMs: 1_000, staleWhileRevalidateMs: 1_000, clock });
    await prices.execute(ok, { key: 'sku-1' }); // miss
    await prices.execute(ok, { key: 'sku-1' }); // hit
    await clock.advance(1_500);
    await prices.execute(ok, { key: 'sku-1' }); // stale
    const search = feature({ name: 'search', enabled: false, fallback: () => 'basic' });
    await search.execute(ok);
    expect(await readings(otel, 'bulwark.cache.requests')).toEqual([
      'bulwark.cache.result=hit,bulwark.policy.name=prices => 1',
      'bulwark.cache.result=miss,bulwark.policy.name=prices => 1',
      'bulwark.cache.result=stale,bulwark.policy.name=prices => 1',
    ]);
    expect(await readings(otel, 'bulwark.degradation.degraded_calls')).toEqual([
      'bulwark.degradation.reason=disabled,bulwark.policy.name=search => 1',
    ]);
  });

  it('adds the constant attributes to every measurement', async () => {
    stop();
    stop = openTelemetry({
      meterProvider: otel.meterProvider,
      tracing: false,
      attributes: { 'service.name': 'checkout' },
    });
    const policy = pipeline(retry({ name: 'api', maxAttempts: 1 }));
    await policy.execute(ok);
    const [point] = await otel.points('bulwark.retry.attempts');
    expect(point?.attributes).toMatchObject({ 'service.name': 'checkout' });
  });

  it('records nothing once disposed, and disposing twice is harmless', async () => {
    stop();
    stop();
    const policy = retry({ name: 'api', maxAttempts: 1 });
    await policy.execute(ok);
    expect(await otel.points('bulwark.retry.attempts')).toEqual([]);
  });
});
