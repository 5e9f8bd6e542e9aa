/**
 * Prometheus metrics for a service's pipeline, served on /metrics. A real HTTP server on
 * 127.0.0.1 answers /stock/<sku> through retry + circuit breaker + timeout around an inventory
 * dependency, while a seeded chaos fault injector (`chaos.fault` from 'bulwark/chaos') fails
 * 20% of the dependency's calls, then all of them: the same seed fails the same calls on every
 * run. The program then scrapes its own /metrics once, prints the bulwark series, and checks
 * them against two of the shipped alert rules (alerts/bulwark.rules.yml).
 *
 * Run: npx tsx examples/observability/prometheus.ts
 */
import { backoff, circuitBreaker, pipeline, retry, timeout } from 'bulwark';
import { chaos } from 'bulwark/chaos';
import { prometheusMetrics } from 'bulwark/prometheus';
import { Registry } from 'prom-client';
import { send, startServer } from '../shared/server.js';

const registry = new Registry();
const detach = prometheusMetrics({ registry, labels: { service: 'shop' } });

/** The dependency, healthy; chaos fails a `faultRate` share of the calls made to it. */
async function readStock(sku: string): Promise<number> {
  return sku.length * 7;
}
let faultRate = 0.2;
const faults = chaos.fault({
  name: 'inventory-chaos',
  rate: () => faultRate,
  error: () => new Error('injected: connection reset'),
  random: chaos.seeded(7),
});
let injected = 0;
faults.on('fault', () => injected++);

const inventory = pipeline(
  retry({ name: 'inventory-retry', maxAttempts: 3, backoff: backoff.constant(1) }),
  circuitBreaker({ name: 'inventory', consecutiveFailures: 5, breakDurationMs: 30_000 }),
  timeout(1_000, { name: 'inventory-timeout' }),
  faults, // innermost: in place of the dependency, so everything above meets its failures
  { name: 'inventory-calls' },
);

const server = await startServer((request, response) => {
  const url = request.url ?? '/';
  if (url === '/metrics') {
    registry.metrics().then((text) => {
      response.writeHead(200, { 'content-type': registry.contentType }).end(text);
    });
    return;
  }
  const sku = url.slice('/stock/'.length);
  inventory
    .execute(() => readStock(sku))
    .then(
      (stock) => send(response, 200, { sku, stock }),
      (error: Error) => send(response, 503, { error: error.name }),
    );
});

async function requestStock(count: number): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${server.url}/stock/sku-${i}`);
    await response.text();
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
  }
  return statuses;
}

try {
  console.log(
    `1. 40 requests, 20% of inventory calls fail: ${JSON.stringify(await requestStock(40))}`,
  );
  faultRate = 1;
  console.log(`2. inventory down, 10 requests: ${JSON.stringify(await requestStock(10))}`);
  console.log(`   chaos failed ${injected} calls to the inventory`);

  const scrape = await (await fetch(`${server.url}/metrics`)).text();
  console.log('3. GET /metrics (the bulwark series; of the histogram, its counts):');
  const series = scrape.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  for (const line of series) {
    if (!/_(bucket|sum)\{/.test(line)) console.log(`   ${line}`);
  }

  // Two of the shipped alert rules, evaluated on this one scrape.
  const value = (selector: string) =>
    Number(
      series
        .find((line) => line.startsWith(selector))
        ?.split(' ')
        .at(-1) ?? Number.NaN,
    );
  const state = value('circuit_breaker_state{policy="inventory"');
  console.log(
    `CircuitBreakerOpen (circuit_breaker_state == 2 for 1m): state ${state}, ${state === 2 ? 'pending' : 'quiet'}`,
  );
  const retried = value('retry_attempts_total{policy="inventory-retry",result="retry"');
  const attempts = series
    .filter((line) => line.startsWith('retry_attempts_total{policy="inventory-retry"'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  const share = retried / attempts;
  console.log(
    `HighRetryRate (retried share of attempts > 0.1 for 5m): ${share.toFixed(2)}, ${share > 0.1 ? 'pending' : 'quiet'}`,
  );
} finally {
  detach();
  await server.close();
}
