/**
 * A fallback that serves the last good (stale) price when the price service cannot answer:
 * - a 503 *response* is replaced through `handle`, without being thrown;
 * - a failed call (the server drops the connection) is replaced too;
 * - once the circuit breaker inside it opens, its `BrokenCircuitError` is replaced as well, and
 *   the struggling service gets no more requests.
 *
 * Run: npx tsx examples/dependency-risk/fallback.ts
 */
import { BrokenCircuitError, circuitBreaker, fallback, type Outcome, pipeline } from 'bulwark';
import { send, startServer } from '../shared/server.js';

interface Price {
  readonly status: number;
  readonly price?: number;
  readonly stale?: boolean;
}

let mode: 'up' | 'overloaded' | 'crashing' = 'up';
const server = await startServer((request, response) => {
  if (mode === 'up') send(response, 200, { price: 42 });
  else if (mode === 'overloaded') send(response, 503, { error: 'overloaded' });
  else request.socket.destroy(); // the connection drops without an answer
});

/** A thrown error or a 5xx answer; the breaker counts it and the fallback replaces it. */
const isBad = (outcome: Outcome) => !outcome.ok || (outcome.value as Price).status >= 500;
let lastGood: Price | undefined;

const getPrice = pipeline(
  fallback<Price>({
    handle: isBad,
    value: (outcome) => {
      const why = outcome.ok ? `HTTP ${(outcome.value as Price).status}` : errorName(outcome.error);
      console.log(`   fallback: serving the last good price because of ${why}`);
      if (lastGood === undefined) return { status: 503 };
      return { ...lastGood, stale: true };
    },
  }),
  // Two bad answers in a row (503s or errors) open the breaker for a second.
  circuitBreaker({
    name: 'prices',
    consecutiveFailures: 2,
    breakDurationMs: 1_000,
    failureOn: isBad,
  }),
);

function errorName(error: unknown): string {
  if (error instanceof BrokenCircuitError) return 'BrokenCircuitError (the breaker is open)';
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function show(step: string): Promise<void> {
  const answer = await getPrice.execute(async ({ signal }): Promise<Price> => {
    const response = await fetch(`${server.url}/price`, { signal });
    if (!response.ok) {
      await response.text();
      return { status: response.status };
    }
    const fresh: Price = { status: response.status, ...((await response.json()) as object) };
    lastGood = fresh;
    return fresh;
  });
  const freshness = answer.stale ? 'stale' : 'fresh';
  console.log(`${step}: price ${answer.price} (${freshness}); server requests: ${server.requests}`);
}

try {
  await show('1. service up');
  mode = 'overloaded';
  await show('2. service answers 503');
  mode = 'crashing';
  await show('3. service drops the connection');
  mode = 'up';
  await show('4. service is back, but the breaker is still open');
} finally {
  await server.close();
}
