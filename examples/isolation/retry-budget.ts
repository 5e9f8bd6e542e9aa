/**
 * Retry budgets and adaptive throttling, against a real HTTP server on 127.0.0.1 that answers
 * 503 to every request for a while (an outage), then recovers.
 * 1. Retry alone (3 attempts): every call makes all 3, so the outage triples the load.
 * 2. Retry with a `retryBudget({ ratio: 0.2 })`: retries may add 20% to the calls, so the
 *    calls give up on the budget and the load grows by 1.2x at most.
 * 3. The same, with an `adaptiveThrottle()` inside the retry: once the server has refused
 *    most requests, the client refuses calls itself with `ThrottledError`, and far fewer
 *    requests reach the server than calls are made.
 * 4. After the outage, with the server healthy again, the budget costs nothing: one request
 *    per call.
 *
 * Run: npx tsx examples/isolation/retry-budget.ts
 */
import {
  adaptiveThrottle,
  backoff,
  type Outcome,
  type Policy,
  pipeline,
  retry,
  retryBudget,
  ThrottledError,
} from 'bulwark';
import { send, startServer } from '../shared/server.js';

/** The server's "overloaded, try later": an HTTP 503. */
class Unavailable extends Error {
  constructor() {
    super('HTTP 503');
  }
}

let down = true;
const server = await startServer((_request, response) => {
  if (down) send(response, 503, { error: 'overloaded' });
  else send(response, 200, { ok: true });
});

async function get(signal: AbortSignal): Promise<string> {
  const response = await fetch(`${server.url}/orders`, { signal });
  await response.text();
  if (response.status === 503) throw new Unavailable();
  return `HTTP ${response.status}`;
}

/** A seeded random source (an LCG), so the throttle's refusals are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Makes `calls` calls one after the other; prints the requests the server saw per call. */
async function run(label: string, policy: Policy, calls: number): Promise<void> {
  const before = server.requests;
  let failed = 0;
  let throttled = 0;
  for (let i = 0; i < calls; i++) {
    try {
      await policy.execute(({ signal }) => get(signal));
    } catch (error) {
      if (error instanceof ThrottledError) throttled++;
      else if (error instanceof Unavailable) failed++;
      else throw error;
    }
  }
  const requests = server.requests - before;
  const refused = throttled > 0 ? `, ${throttled} refused locally` : '';
  console.log(
    `${label}: ${calls} calls -> ${requests} requests (${(requests / calls).toFixed(2)}x); ${failed} failed${refused}`,
  );
}

// No delay between attempts keeps the example quick; use a real backoff in production.
const quick = backoff.constant(0);

try {
  console.log('outage: the server answers 503 to every request');
  await run('1. retry alone', retry({ maxAttempts: 3, backoff: quick }), 100);

  // No floor (minRetriesPerSecond: 0), so the ratio shows on its own.
  const budget = retryBudget({ ratio: 0.2, minRetriesPerSecond: 0 });
  const budgeted = retry({ maxAttempts: 3, backoff: quick, budget });
  const gaveUp = { budget: 0 };
  budgeted.on('giveUp', ({ reason }) => {
    if (reason === 'budget') gaveUp.budget++;
  });
  await run('2. retry + budget', budgeted, 100);
  console.log(`   ${gaveUp.budget} calls gave up on the budget; ${JSON.stringify(budget.stats())}`);

  const throttle = adaptiveThrottle({
    // A 503 is the server saying "overloaded": not an accept.
    acceptedOn: (outcome: Outcome) => outcome.ok || !(outcome.error instanceof Unavailable),
    random: seeded(1),
  });
  const budget2 = retryBudget({ ratio: 0.2, minRetriesPerSecond: 0 });
  const guarded = pipeline(retry({ maxAttempts: 3, backoff: quick, budget: budget2 }), throttle);
  await run('3. retry + budget + throttle', guarded, 100);
  const { requests, accepts, probability } = throttle.stats();
  console.log(
    `   throttle: ${requests} requests, ${accepts} accepts, refusing with probability ${probability.toFixed(3)}`,
  );

  down = false;
  console.log('recovered: the server answers 200 again');
  await run('4. retry + budget', budgeted, 100);
} finally {
  await server.close();
}
