import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { bulkhead } from '../../bulkhead/index.js';
import { circuitBreaker } from '../../circuit-breaker/index.js';
import type { Disposer } from '../../core/events.js';
import { pipeline } from '../../core/pipeline.js';
import { loadShedder } from '../../load-shedder/index.js';
import { backoff, retry } from '../../retry/index.js';
import { VirtualClock } from '../../testing/index.js';
import { timeout } from '../../timeout/index.js';
import { parseExposition } from './exposition.test-support.js';
import { prometheusMetrics } from './index.js';

let detach: Disposer | undefined;
afterEach(() => detach?.());

/** A promise and the functions that settle it, for calls that end when the test says. */
function later<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

it('scrapes a live pipeline: names, types, label sets and values after a known sequence', async () => {
  const clock = new VirtualClock();
  const registry = new Registry();
  detach = prometheusMetrics({ registry, clock, labels: { service: 'shop' } });

  const inventory = pipeline(
    bulkhead({ name: 'inventory-pool', limit: 1, clock }),
    retry({ name: 'inventory-retry', maxAttempts: 3, backoff: backoff.constant(100), clock }),
    circuitBreaker({ name: 'inventory', consecutiveFailures: 2, breakDurationMs: 1_000, clock }),
    timeout(500, { name: 'inventory-timeout', clock }),
    { name: 'inventory-calls' },
  );
  const shedder = loadShedder({ name: 'api', limit: 1, clock });

  // 1. Fails once, then succeeds on the retry 100 ms later.
  let calls = 0;
  const first = inventory.execute(() => {
    calls++;
    if (calls === 1) throw new Error('flaky');
    return 'ok';
  });
  await clock.advance(100);
  expect(await first).toBe('ok');

  // 2. From t = 100: the first attempt stalls until the timeout at t = 600, the retry at
  // t = 700 fails and opens the breaker, and the third attempt (t = 800) is refused by it.
  const stalled = inventory.execute(({ attempt, signal }) =>
    attempt === 1
      ? new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
      : Promise.reject(new Error('down')),
  );
  stalled.catch(() => {});
  await clock.advance(700);
  await expect(stalled).rejects.toMatchObject({ name: 'BrokenCircuitError' });

  // 3. While it is open, a second caller finds the pool taken and is refused.
  const held = later<string>();
  const holding = inventory.execute(() => held.promise);
  holding.catch(() => {});
  await expect(inventory.execute(() => 'x')).rejects.toMatchObject({
    name: 'BulkheadRejectedError',
  });
  await expect(holding).rejects.toMatchObject({ name: 'BrokenCircuitError' });

  const open = parseExposition(await registry.metrics());
  expect(open.value('circuit_breaker_state', { policy: 'inventory', service: 'shop' })).toBe(2);

  // 4. The break ends at t = 1_700; a call at t = 1_800 probes and closes it: 1.1 s open.
  await clock.advance(1_000);
  expect(await inventory.execute(() => 'back')).toBe('back');

  // 5. A shed: the shedder's one slot is taken.
  const slot = later<void>();
  const busy = shedder.execute(() => slot.promise);
  await expect(shedder.execute(() => 1, { priority: 'sheddable' })).rejects.toMatchObject({
    name: 'LoadShedError',
    reason: 'capacity',
  });
  slot.resolve();
  await busy;

  const text = parseExposition(await registry.metrics());
  const shop = { service: 'shop' };
  expect(Object.fromEntries(text.types)).toMatchObject({
    circuit_breaker_state: 'gauge',
    recovery_time_seconds: 'histogram',
    retry_attempts_total: 'counter',
    load_shed_total: 'counter',
    timeouts_total: 'counter',
    bulkhead_rejected_total: 'counter',
    bulkhead_running: 'gauge',
    bulkhead_queued: 'gauge',
    concurrency_limit: 'gauge',
    call_duration_seconds: 'histogram',
  });
  // Calls: a success after 100 ms; a refusal (the open breaker) after 700 ms; two refusals at
  // once (the open breaker, the full pool); a success at once, after the break.
  const piped = { policy: 'inventory-calls', ...shop };
  const count = (outcome: string) =>
    text.value('call_duration_seconds_count', { ...piped, outcome });
  const sum = (outcome: string) => text.value('call_duration_seconds_sum', { ...piped, outcome });
  expect([count('success'), sum('success')]).toEqual([2, 0.1]);
  expect([count('rejected'), sum('rejected')]).toEqual([3, 0.7]);
  expect(count('failure')).toBeUndefined();
  expect(
    text.value('call_duration_seconds_bucket', { ...piped, outcome: 'rejected', le: '0.5' }),
  ).toBe(2);
  expect(
    text.value('call_duration_seconds_bucket', { ...piped, outcome: 'rejected', le: '0.75' }),
  ).toBe(3);
  expect(
    text.value('call_duration_seconds_count', { policy: 'api', outcome: 'rejected', ...shop }),
  ).toBe(1);
  const pool = { policy: 'inventory-pool', ...shop };
  expect(text.value('bulkhead_running', pool)).toBe(0);
  expect(text.value('bulkhead_queued', pool)).toBe(0);
  expect(text.value('concurrency_limit', pool)).toBe(1);
  expect(text.value('concurrency_limit', { policy: 'api', ...shop })).toBe(1);
  expect(text.value('circuit_breaker_state', { policy: 'inventory', ...shop })).toBe(0);
  expect(text.value('recovery_time_seconds_count', { policy: 'inventory', ...shop })).toBe(1);
  expect(text.value('recovery_time_seconds_sum', { policy: 'inventory', ...shop })).toBe(1.1);
  expect(text.series('retry_attempts_total')).toEqual([
    {
      name: 'retry_attempts_total',
      labels: { policy: 'inventory-retry', result: 'retry', ...shop },
      value: 3,
    },
    {
      name: 'retry_attempts_total',
      labels: { policy: 'inventory-retry', result: 'success', ...shop },
      value: 2,
    },
    {
      name: 'retry_attempts_total',
      labels: { policy: 'inventory-retry', result: 'give_up', reason: 'notRetryable', ...shop },
      value: 2,
    },
  ]);
  expect(text.value('timeouts_total', { policy: 'inventory-timeout', ...shop })).toBe(1);
  expect(
    text.value('bulkhead_rejected_total', { policy: 'inventory-pool', reason: 'full', ...shop }),
  ).toBe(1);
  expect(text.series('load_shed_total')).toEqual([
    {
      name: 'load_shed_total',
      labels: { policy: 'api', reason: 'capacity', priority: 'sheddable', ...shop },
      value: 1,
    },
  ]);
});
