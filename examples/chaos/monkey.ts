/**
 * A chaos monkey inside the process, proving that a pipeline copes, against a real HTTP server
 * on 127.0.0.1:
 * - a seeded monkey fails 10% of calls and delays 3% by 5 s, at most one per call;
 * - retry, a circuit breaker and a 500 ms timeout absorb all of it: every call succeeds, and
 *   the server sees one request per call, since injected failures never reach it;
 * - the monkey's events count what it injected, each named by its experiment;
 * - an outage experiment, off at first, is switched on at run time and opens the breaker,
 *   then switched off again.
 * The same seed injects into the same calls on every run, so the counts below never change.
 *
 * Run: npx tsx examples/chaos/monkey.ts
 */
import { BrokenCircuitError, backoff, circuitBreaker, pipeline, retry, timeout } from 'bulwark';
import { chaos, chaosMonkey } from 'bulwark/chaos';
import { send, startServer } from '../shared/server.js';

const server = await startServer((_request, response) => send(response, 200, { price: 42 }));

const monkey = chaosMonkey({
  random: chaos.seeded(42),
  experiments: [
    {
      name: 'dependency-errors',
      probability: 0.1,
      impact: chaos.fault({ error: () => new Error('injected: connection reset') }),
    },
    { name: 'slow-dependency', probability: 0.03, impact: chaos.latency({ ms: 5_000 }) },
    {
      name: 'dependency-outage',
      probability: 0.85,
      impact: chaos.fault({ error: () => new Error('injected: outage') }),
      enabled: false,
    },
  ],
});
const injected = new Map<string, number>();
const count = ({ experiment }: { experiment: string | undefined }) =>
  injected.set(experiment!, (injected.get(experiment!) ?? 0) + 1);
monkey.on('fault', count);
monkey.on('latency', count);

const breaker = circuitBreaker({ consecutiveFailures: 5, breakDurationMs: 30_000 });
const tries = retry({ maxAttempts: 3, backoff: backoff.constant(10) });
let retries = 0;
tries.on('retry', () => retries++);
breaker.on('stateChange', ({ from, to }) => console.log(`   [breaker] ${from} -> ${to}`));

// The monkey goes innermost, where the dependency's failures would appear.
const policy = pipeline(tries, breaker, timeout(500), monkey);

async function getPrice(): Promise<number> {
  return policy.execute(async ({ signal }) => {
    const response = await fetch(`${server.url}/price`, { signal });
    return ((await response.json()) as { price: number }).price;
  });
}

/** Makes `calls` calls one after another; returns how each ended. */
async function run(calls: number): Promise<Map<string, number>> {
  const results = new Map<string, number>();
  for (let i = 0; i < calls; i++) {
    const result = await getPrice().then(
      (price) => `price ${price}`,
      (error: Error) => (error instanceof BrokenCircuitError ? 'refused by the breaker' : 'failed'),
    );
    results.set(result, (results.get(result) ?? 0) + 1);
  }
  return results;
}

const show = (counts: Map<string, number>) =>
  [...counts].map(([what, n]) => `${what}: ${n}`).join(', ');

try {
  console.log('1. 100 calls while the monkey injects faults (10%) and 5 s latency (3%)');
  const first = await run(100);
  console.log(`   results: ${show(first)}`);
  console.log(`   injected: ${show(injected)}`);
  console.log(`   retries: ${retries}; server requests: ${server.requests}`);

  console.log('2. the outage experiment is switched on: 85% of calls fail');
  monkey.enable('dependency-outage');
  injected.clear();
  console.log(`   results: ${show(await run(20))}`);
  console.log(`   injected: ${show(injected)}`);

  console.log('3. switched off again; the breaker is reset by hand');
  monkey.disable('dependency-outage');
  breaker.reset();
  injected.clear();
  console.log(`   results: ${show(await run(20))}`);
  console.log(`   injected: ${show(injected)}`);
} finally {
  await server.close();
}
