import {
  Counter,
  type OpenMetricsContentType,
  openMetricsContentType,
  Registry,
} from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { adaptiveLimit } from '../../adaptive-limit/index.js';
import { bulkhead } from '../../bulkhead/index.js';
import { cache } from '../../cache/index.js';
import { circuitBreaker } from '../../circuit-breaker/index.js';
import type { Disposer } from '../../core/events.js';
import { pipeline } from '../../core/pipeline.js';
import { feature } from '../../degradation/index.js';
import { fallback } from '../../fallback/index.js';
import { healthRegistry } from '../../health/index.js';
import { keyed } from '../../keyed/index.js';
import { loadShedder } from '../../load-shedder/index.js';
import { rateLimiter } from '../../rate-limiter/index.js';
import { retry } from '../../retry/index.js';
import { retryBudget } from '../../retry-budget/index.js';
import { telemetry } from '../../telemetry.js';
import { VirtualClock } from '../../testing/index.js';
import { timeout } from '../../timeout/index.js';
import { parseExposition } from './exposition.test-support.js';
import { prometheusMetrics } from './index.js';

const boom = () => {
  throw new Error('boom');
};

let detach: Disposer | undefined;
afterEach(() => {
  detach?.();
  detach = undefined;
});

function attach(options: Partial<Parameters<typeof prometheusMetrics>[0]> = {}) {
  const registry = new Registry();
  const clock = new VirtualClock();
  detach = prometheusMetrics({ registry, clock, ...options });
  const scrape = async () => parseExposition(await registry.metrics());
  return { registry, clock, scrape };
}

describe('prometheusMetrics: options', () => {
  it('needs a registry', () => {
    expect(() => prometheusMetrics(undefined as never)).toThrow(
      'prometheusMetrics: options with a "registry" are required (got undefined)',
    );
    expect(() => prometheusMetrics({} as never)).toThrow(
      `prometheusMetrics: option "registry" must be a prom-client Registry (new Registry(), or 'register') (got undefined)`,
    );
  });

  it('refuses a prefix that is not a metric name', () => {
    const registry = new Registry();
    expect(() => prometheusMetrics({ registry, prefix: 'my-app_' })).toThrow(
      'prometheusMetrics: option "prefix" must be \'\' or a metric name prefix matching',
    );
  });

  it('refuses buckets that are empty, unordered or not positive', () => {
    const registry = new Registry();
    for (const buckets of [[], [1, 0.5], [0, 1], [1, Number.NaN]]) {
      expect(() => prometheusMetrics({ registry, buckets })).toThrow(
        /option "buckets" must be a non-empty array of finite numbers > 0, increasing/,
      );
    }
    expect(() => prometheusMetrics({ registry, recoveryBuckets: [5, 5] })).toThrow(
      /option "recoveryBuckets" must be/,
    );
  });

  it('refuses constant labels that clash with its own, or are not labels', () => {
    const registry = new Registry();
    expect(() => prometheusMetrics({ registry, labels: { policy: 'x' } })).toThrow(
      /option "labels" must be .*\("policy" is not\)/,
    );
    expect(() => prometheusMetrics({ registry, labels: { 'my-service': 'x' } })).toThrow(
      /option "labels" must be .*\("my-service" is not\)/,
    );
    expect(() => prometheusMetrics({ registry, labels: { service: 1 as never } })).toThrow(
      'option "labels" must be string values (service is 1)',
    );
    expect(registry.getMetricsAsArray()).toEqual([]);
  });

  it('refuses a registry that already holds its metrics, and registers nothing then', () => {
    const { registry } = attach();
    const before = registry.getMetricsAsArray().length;
    expect(() => prometheusMetrics({ registry })).toThrow(
      'prometheusMetrics: option "registry" already has a metric named "call_duration_seconds"',
    );
    expect(registry.getMetricsAsArray()).toHaveLength(before);
    const second = prometheusMetrics({ registry, prefix: 'second_' });
    expect(registry.getSingleMetric('second_call_duration_seconds')).toBeDefined();
    second();
  });
});

describe('prometheusMetrics: metrics from events', () => {
  it('counts retry attempts by result, and give-ups by reason', async () => {
    const { clock, scrape } = attach();
    const budget = retryBudget({ minRetriesPerSecond: 0, ratio: 0, clock });
    const spent = retry({ name: 'budgeted', maxAttempts: 3, budget, clock });
    const plain = retry({ name: 'plain', maxAttempts: 2, backoff: () => 0, clock });
    await expect(spent.execute(boom)).rejects.toThrow('boom');
    let n = 0;
    await plain.execute(() => (++n === 1 ? boom() : 'ok'));
    await expect(plain.execute(boom)).rejects.toThrow('boom');
    const text = await scrape();
    expect(text.types.get('retry_attempts_total')).toBe('counter');
    expect(text.series('retry_attempts_total')).toEqual([
      {
        name: 'retry_attempts_total',
        labels: { policy: 'budgeted', result: 'give_up', reason: 'budget' },
        value: 1,
      },
      { name: 'retry_attempts_total', labels: { policy: 'plain', result: 'retry' }, value: 2 },
      { name: 'retry_attempts_total', labels: { policy: 'plain', result: 'success' }, value: 1 },
      {
        name: 'retry_attempts_total',
        labels: { policy: 'plain', result: 'give_up', reason: 'maxAttempts' },
        value: 1,
      },
    ]);
  });

  it('encodes breaker states 0, 1, 2, isolated as open, and times each recovery', async () => {
    const { clock, scrape } = attach();
    const breaker = circuitBreaker({
      name: 'inventory',
      consecutiveFailures: 1,
      breakDurationMs: 5_000,
      clock,
    });
    const state = async () =>
      (await scrape()).value('circuit_breaker_state', { policy: 'inventory' });
    expect(await state()).toBe(0);
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(await state()).toBe(2);
    await clock.advance(5_000);
    let release!: () => void;
    const probe = breaker.execute(() => new Promise<void>((resolve) => (release = resolve)));
    expect(await state()).toBe(1);
    await clock.advance(1_000);
    release();
    await probe;
    expect(await state()).toBe(0);
    const undo = breaker.isolate();
    expect(await state()).toBe(2);
    await clock.advance(20_000);
    undo();
    expect(await state()).toBe(0);

    const text = await scrape();
    expect(text.types.get('recovery_time_seconds')).toBe('histogram');
    expect(text.value('recovery_time_seconds_count', { policy: 'inventory' })).toBe(2);
    expect(text.value('recovery_time_seconds_sum', { policy: 'inventory' })).toBe(26);
    expect(text.value('recovery_time_seconds_bucket', { policy: 'inventory', le: '5' })).toBe(0);
    expect(text.value('recovery_time_seconds_bucket', { policy: 'inventory', le: '10' })).toBe(1);
    expect(text.value('recovery_time_seconds_bucket', { policy: 'inventory', le: '30' })).toBe(2);
    expect(text.value('recovery_time_seconds_bucket', { policy: 'inventory', le: '+Inf' })).toBe(2);
  });

  it('counts refusals: rate limited, timed out, bulkhead full', async () => {
    const { clock, scrape } = attach();
    const limiter = rateLimiter({ name: 'public-api', limit: 1, intervalMs: 1_000, clock });
    await limiter.execute(() => 1);
    await expect(limiter.execute(() => 1)).rejects.toThrow();
    const deadline = timeout(100, { name: 'search-timeout', clock });
    const slow = deadline.execute(
      ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    slow.catch(() => {});
    await clock.advance(100);
    await expect(slow).rejects.toThrow();
    const pool = bulkhead({ name: 'pool', limit: 1, clock });
    let release!: () => void;
    const held = pool.execute(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(pool.execute(() => 1)).rejects.toThrow();
    release();
    await held;
    const text = await scrape();
    expect(text.value('rate_limited_total', { policy: 'public-api' })).toBe(1);
    expect(text.value('timeouts_total', { policy: 'search-timeout' })).toBe(1);
    expect(text.value('bulkhead_rejected_total', { policy: 'pool', reason: 'full' })).toBe(1);
  });

  it('counts cache lookups by result, and degraded answers by reason', async () => {
    const { clock, scrape } = attach();
    const prices = cache({ name: 'prices', ttlMs: 1_000, staleWhileRevalidateMs: 10_000, clock });
    const lookup = () => prices.execute(() => 42, { key: 'sku-1' });
    await lookup(); // miss
    await lookup(); // hit
    await clock.advance(2_000);
    await lookup(); // stale
    const ranking = feature({ name: 'ranking', enabled: false, fallback: () => [] });
    await ranking.execute(() => ['ml']);
    const quote = fallback({ name: 'quote-fallback', value: 'cached' });
    await quote.execute(boom);
    const text = await scrape();
    for (const result of ['hit', 'miss', 'stale']) {
      expect(text.value('cache_requests_total', { policy: 'prices', result })).toBe(1);
    }
    expect(text.value('degradation_events_total', { policy: 'ranking', reason: 'disabled' })).toBe(
      1,
    );
    expect(
      text.value('degradation_events_total', { policy: 'quote-fallback', reason: 'fallback' }),
    ).toBe(1);
  });

  it('reads each health check when scraped: 1 pass, 0.5 warn, 0 fail, none before a result', async () => {
    const { clock, scrape } = attach();
    let database = true;
    const health = healthRegistry({ name: 'health', clock });
    health.register('database', () => database);
    health.register('cache', () => ({ status: 'warn' }), { critical: false });
    const statuses = async () =>
      (await scrape()).series('health_check_status').filter((s) => s.labels.policy === 'health');
    expect(await statuses()).toEqual([]);
    await health.run({ kind: 'readiness' });
    expect(await statuses()).toEqual([
      { name: 'health_check_status', labels: { policy: 'health', check: 'database' }, value: 1 },
      { name: 'health_check_status', labels: { policy: 'health', check: 'cache' }, value: 0.5 },
    ]);
    database = false;
    await health.run({ kind: 'readiness' });
    expect(await statuses()).toEqual([
      { name: 'health_check_status', labels: { policy: 'health', check: 'database' }, value: 0 },
      { name: 'health_check_status', labels: { policy: 'health', check: 'cache' }, value: 0.5 },
    ]);
  });

  it('times every call by outcome: success, failure, rejected', async () => {
    const { clock, scrape } = attach({ buckets: [0.1, 1] });
    const orders = pipeline(
      circuitBreaker({ consecutiveFailures: 1, breakDurationMs: 10_000, clock }),
      timeout(5_000, { clock }),
      { name: 'orders' },
    );
    const slowly = (ms: number, fail = false) =>
      orders.execute(
        () =>
          new Promise((resolve, reject) =>
            clock.setTimeout(() => (fail ? reject(new Error('boom')) : resolve('ok')), ms),
          ),
      );
    const first = slowly(50);
    await clock.advance(50);
    await first;
    const second = slowly(500, true);
    second.catch(() => {});
    await clock.advance(500);
    await expect(second).rejects.toThrow('boom');
    await expect(orders.execute(() => 'refused')).rejects.toThrow();
    const text = await scrape();
    expect(text.types.get('call_duration_seconds')).toBe('histogram');
    const bucket = (outcome: string, le: string) =>
      text.value('call_duration_seconds_bucket', { policy: 'orders', outcome, le });
    expect([bucket('success', '0.1'), bucket('success', '1'), bucket('success', '+Inf')]).toEqual([
      1, 1, 1,
    ]);
    expect([bucket('failure', '0.1'), bucket('failure', '1')]).toEqual([0, 1]);
    expect(bucket('rejected', '0.1')).toBe(1);
    expect(text.value('call_duration_seconds_sum', { policy: 'orders', outcome: 'failure' })).toBe(
      0.5,
    );
    expect(
      text.value('call_duration_seconds_count', { policy: 'orders', outcome: 'success' }),
    ).toBe(1);
    // The policies inside the pipeline are not timed separately: the pipeline is the call.
    expect(text.series('call_duration_seconds_count').map((s) => s.labels.policy)).not.toContain(
      'circuit-breaker',
    );
  });

  it('reads running, queued and limits when scraped, adaptive limits included', async () => {
    const { clock, scrape } = attach();
    const pool = bulkhead({ name: 'db-pool', limit: 2, queue: 5, clock });
    const shed = loadShedder({ name: 'ingress', limit: 3, clock });
    const limit = adaptiveLimit({ name: 'backend-limit', algorithm: 'aimd', initial: 30, clock });
    const held: (() => void)[] = [];
    const hold = () => new Promise<void>((resolve) => held.push(resolve));
    const calls = [pool.execute(hold), pool.execute(hold), pool.execute(hold), shed.execute(hold)];
    const text = await scrape();
    const value = (name: string, policy: string) => text.value(name, { policy });
    expect(value('bulkhead_running', 'db-pool')).toBe(2);
    expect(value('bulkhead_queued', 'db-pool')).toBe(1);
    expect(value('bulkhead_running', 'ingress')).toBe(1);
    expect(value('bulkhead_queued', 'ingress')).toBe(0);
    expect(value('concurrency_limit', 'db-pool')).toBe(2);
    expect(value('concurrency_limit', 'ingress')).toBe(3);
    expect(value('concurrency_limit', 'backend-limit')).toBe(30);
    expect(limit.current).toBe(30);
    while (held.length > 0) {
      held.shift()!();
      await Promise.resolve();
      await Promise.resolve();
    }
    await Promise.all(calls);
    expect((await scrape()).value('bulkhead_running', { policy: 'db-pool' })).toBe(0);
  });

  it('shows one series for breakers that share a name, and a keyed breaker its worst key', async () => {
    const { clock, scrape } = attach();
    const shared = () =>
      circuitBreaker({ name: 'twins', consecutiveFailures: 1, breakDurationMs: 1_000, clock });
    const [a] = [shared(), shared()];
    await expect(a!.execute(boom)).rejects.toThrow('boom');
    const hosts = keyed(
      () => circuitBreaker({ consecutiveFailures: 1, breakDurationMs: 1_000, clock }),
      { name: 'per-host' },
    );
    await hosts.execute(() => 1, { key: 'alpha' });
    const closed = await scrape();
    expect(
      closed.series('circuit_breaker_state').filter((s) => s.labels.policy === 'twins'),
    ).toEqual([{ name: 'circuit_breaker_state', labels: { policy: 'twins' }, value: 2 }]);
    expect(closed.value('circuit_breaker_state', { policy: 'per-host' })).toBe(0);
    await expect(hosts.execute(boom, { key: 'beta' })).rejects.toThrow('boom');
    expect((await scrape()).value('circuit_breaker_state', { policy: 'per-host' })).toBe(2);
  });
});

describe('prometheusMetrics: series and registry', () => {
  it('puts the prefix on every name and the constant labels on every series', async () => {
    const { scrape } = attach({
      prefix: 'shop_',
      labels: { service: 'checkout', operation: 'pay' },
    });
    const policy = retry({ name: 'pay-retry', maxAttempts: 2, backoff: () => 0 });
    await policy.execute(() => 'ok');
    const text = await scrape();
    expect([...text.types.keys()].every((name) => name.startsWith('shop_'))).toBe(true);
    expect(text.series('shop_retry_attempts_total')).toEqual([
      {
        name: 'shop_retry_attempts_total',
        labels: { policy: 'pay-retry', result: 'success', service: 'checkout', operation: 'pay' },
        value: 1,
      },
    ]);
  });

  it('keeps keys out of the labels: 100,000 keys through a keyed breaker add no series', async () => {
    const { clock, registry } = attach();
    const hosts = keyed(
      () =>
        circuitBreaker({ name: 'hosts', consecutiveFailures: 1, breakDurationMs: 1_000, clock }),
      { name: 'hosts', maxKeys: 1_000 },
    );
    const series = async () =>
      (await registry.metrics()).split('\n').filter((l) => !l.startsWith('#'));
    // One call of each outcome first: a failure opens host-0's breaker, which then refuses.
    await expect(hosts.execute(boom, { key: 'host-0' })).rejects.toThrow('boom');
    await expect(hosts.execute(boom, { key: 'host-0' })).rejects.toThrow('is open');
    await hosts.execute(() => 1, { key: 'host-1' });
    const before = await series();
    for (let i = 0; i < 100_000; i++) {
      await hosts.execute(i % 2 === 0 ? boom : () => 1, { key: `host-${i}` }).catch(() => {});
    }
    const after = await series();
    expect(after.length).toBe(before.length);
    expect(after.join('\n')).not.toContain('host-');
  });

  it("detaches: unsubscribes, removes its metrics and leaves the registry's others alone", async () => {
    const registry = new Registry();
    const own = new Counter({ name: 'orders_total', help: 'Orders taken.', registers: [registry] });
    const stop = prometheusMetrics({ registry });
    expect(telemetry.active).toBe(true);
    expect(registry.getSingleMetric('retry_attempts_total')).toBeDefined();
    stop();
    stop();
    expect(telemetry.active).toBe(false);
    expect(registry.getMetricsAsArray()).toEqual([own]);
  });

  it('detaches cleanly after an OpenMetrics scrape renamed its counters', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(openMetricsContentType);
    const stop = prometheusMetrics({ registry });
    await retry({ name: 'r', maxAttempts: 2 }).execute(() => 1);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE retry_attempts counter');
    expect(text).toContain('retry_attempts_total{policy="r",result="success"} 1');
    stop();
    expect(registry.getMetricsAsArray()).toEqual([]);
  });

  it("answers getMetricsAsJSON and resetMetrics like prom-client's own metrics", async () => {
    const { registry, scrape } = attach();
    await retry({ name: 'r', maxAttempts: 2 }).execute(() => 1);
    const json = await registry.getMetricsAsJSON();
    const attempts = json.find((metric) => metric.name === 'retry_attempts_total');
    expect(attempts).toMatchObject({
      type: 'counter',
      aggregator: 'sum',
      values: [{ value: 1, labels: { policy: 'r', result: 'success' } }],
    });
    registry.resetMetrics();
    expect((await scrape()).value('retry_attempts_total', { policy: 'r', result: 'success' })).toBe(
      0,
    );
  });
});

describe('prometheusMetrics: label values', () => {
  it('escapes policy names and constant labels as the exposition format requires', async () => {
    const { scrape } = attach({ labels: { service: 'shop "eu"\\1' } });
    await retry({ name: 'line\nbreak "quoted"', maxAttempts: 1 }).execute(() => 1);
    const text = await scrape();
    expect(text.series('retry_attempts_total')).toEqual([
      {
        name: 'retry_attempts_total',
        labels: { policy: 'line\nbreak "quoted"', result: 'success', service: 'shop "eu"\\1' },
        value: 1,
      },
    ]);
  });
});
