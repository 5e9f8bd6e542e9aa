/**
 * A cache in front of a price service that goes down for a while:
 * - fresh answers come from the cache without a request;
 * - five concurrent misses share one request (coalescing);
 * - during the outage (503s, then dropped connections) stale-if-error keeps the last good price
 *   flowing, and says so;
 * - once the service is back, the next miss fetches the new price.
 *
 * Run: npx tsx examples/availability/cache.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cache } from 'bulwark';
import { send, startServer } from '../shared/server.js';

interface Price {
  readonly sku: string;
  readonly price: number;
}

let mode: 'up' | 'overloaded' | 'crashing' = 'up';
let price = 42;
const server = await startServer((request, response) => {
  if (mode === 'up') send(response, 200, { sku: request.url?.slice(1), price });
  else if (mode === 'overloaded') send(response, 503, { error: 'overloaded' });
  else request.socket.destroy(); // the connection drops without an answer
});

const prices = cache<Price>({ name: 'prices', ttlMs: 500, staleIfErrorMs: 10_000 });
prices.on('hit', ({ key }) => console.log(`   served from cache (fresh): ${key}`));
prices.on('coalesced', ({ key, waiters }) => {
  if (waiters === 5) console.log(`   ${key}: 5 callers share one request`);
});
prices.on('staleIfError', ({ key, error }) =>
  console.log(`   served from cache (stale): ${key}, because of ${describe(error)}`),
);

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function getPrice(sku: string): Promise<Price> {
  return prices.execute(
    async ({ signal }) => {
      const response = await fetch(`${server.url}/${sku}`, { signal });
      if (!response.ok) {
        await response.text();
        throw new Error(`HTTP ${response.status}`);
      }
      return (await response.json()) as Price;
    },
    { key: sku },
  );
}

async function show(step: string, sku = 'sku-1'): Promise<void> {
  const answer = await getPrice(sku);
  console.log(`${step}: ${answer.sku} costs ${answer.price}; server requests: ${server.requests}`);
}

try {
  await show('1. first call, a miss');
  await show('2. again within ttlMs');
  const five = await Promise.all([1, 2, 3, 4, 5].map(() => getPrice('sku-2')));
  console.log(
    `3. five concurrent calls for sku-2 got ${five.map((p) => p.price).join(',')}; server requests: ${server.requests}`,
  );
  await sleep(550);
  mode = 'overloaded';
  await show('4. service answers 503');
  mode = 'crashing';
  await show('5. service drops the connection');
  mode = 'up';
  price = 45;
  await show('6. service is back with a new price');
  await show('7. and that is cached now');
} finally {
  await server.close();
}
