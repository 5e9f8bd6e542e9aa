/**
 * Retry with exponential backoff and jitter, against a real HTTP server on 127.0.0.1:
 * - a 503 *response* is retried through `retryOn`, without ever being thrown;
 * - the policy's `retry` event shows each failed attempt and the wait before the next one;
 * - a `Retry-After` header becomes a `retryAfterMs` hint, which lengthens the wait;
 * - when the attempts run out on a response, that last response is returned.
 *
 * Run: npx tsx examples/dependency-risk/retry.ts
 */
import { backoff, type Outcome, retry } from 'bulwark';
import { send, startServer } from '../shared/server.js';

/** What a call returns. A numeric `retryAfterMs` on it is a delay hint retry honours. */
interface Reply {
  readonly status: number;
  readonly body: string;
  readonly retryAfterMs?: number;
}

/** `Retry-After` is seconds or an HTTP date; this returns milliseconds, if there is one. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function get(url: string, signal: AbortSignal): Promise<Reply> {
  const response = await fetch(url, { signal });
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  return { status: response.status, body: await response.text(), retryAfterMs };
}

const server = await startServer((request, response, n) => {
  if (request.url === '/flaky' && n <= 2) send(response, 503, { error: 'warming up' });
  // Real servers send whole seconds; 0.2 keeps this example quick.
  else if (request.url === '/busy' && n === 1) send(response, 503, {}, { 'retry-after': '0.2' });
  else if (request.url === '/down') send(response, 503, { error: 'down for maintenance' });
  else send(response, 200, { price: 42 });
});

function describe(outcome: Outcome): string {
  return outcome.ok ? `HTTP ${(outcome.value as Reply).status}` : String(outcome.error);
}

const policy = retry<Reply>({
  maxAttempts: 4,
  backoff: backoff.exponential({ initialMs: 20, maxMs: 200, jitter: 'full' }),
  // Retry thrown errors (connection refused, reset) and 503 responses; accept anything else.
  retryOn: (outcome) => !outcome.ok || outcome.value.status === 503,
});
policy.on('retry', ({ attempt, delayMs, outcome }) => {
  console.log(
    `   attempt ${attempt} got ${describe(outcome)}; retrying in ${Math.round(delayMs)} ms`,
  );
});
policy.on('success', ({ attempts }) =>
  console.log(`   accepted the answer of attempt ${attempts}`),
);
policy.on('giveUp', ({ attempts, reason }) => {
  console.log(`   gave up after ${attempts} attempts (reason: ${reason})`);
});

try {
  console.log('1. /flaky answers 503 twice, then 200 (backoff: 20 ms doubling, full jitter)');
  const flaky = await policy.execute(({ signal }) => get(`${server.url}/flaky`, signal));
  console.log(`   result: HTTP ${flaky.status} ${flaky.body}`);

  console.log('2. /busy answers 503 with "Retry-After: 0.2": the wait becomes 200 ms');
  const busy = await policy.execute(({ signal }) => get(`${server.url}/busy`, signal));
  console.log(`   result: HTTP ${busy.status} ${busy.body}`);

  console.log('3. /down always answers 503: execute returns the last response, it does not throw');
  const down = await policy.execute(({ signal }) => get(`${server.url}/down`, signal));
  console.log(`   result: HTTP ${down.status} ${down.body}`);
  console.log(`server saw ${server.requests} requests in all`);
} finally {
  await server.close();
}
