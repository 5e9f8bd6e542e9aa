/**
 * Bulkheads: caps on concurrent calls, so one slow dependency cannot take every connection.
 * 1. `bulkhead({ limit: 2, queue: 1, queueTimeoutMs: 200 })`: five calls arrive at once; two
 *    run, one waits in the queue, two are refused at once with `BulkheadRejectedError`
 *    (which carries the running and queued counts); the queued one gets a slot if one frees
 *    within 200 ms, and is refused otherwise.
 * 2. `bulkheadGroup`: one pool per dependency. A slow inventory service fills its own pool,
 *    while the search pool keeps serving.
 *
 * Run: npx tsx examples/isolation/bulkhead.ts
 */
import { type BulkheadPolicy, BulkheadRejectedError, bulkhead, bulkheadGroup } from 'bulwark';
import { sendLater, startServer } from '../shared/server.js';

// /slow/<ms> answers after <ms> milliseconds.
const server = await startServer((request, response) => {
  const ms = Number(request.url?.split('/')[2] ?? 0);
  sendLater(response, ms, 200, { ok: true });
});

async function get(path: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(`${server.url}${path}`, { signal });
  await response.text();
  return `HTTP ${response.status}`;
}

/** Starts `count` calls to `path` at once, and prints how each one ended, in order. */
async function burst(policy: BulkheadPolicy, count: number, path: string): Promise<void> {
  const calls = Array.from({ length: count }, () =>
    policy.execute(({ signal }) => get(path, signal)),
  );
  console.log(`   right after the burst: ${policy.running} running, ${policy.queued} queued`);
  const results = await Promise.allSettled(calls);
  results.forEach((result, i) => {
    const label = `   ${policy.name} call ${i + 1}`;
    if (result.status === 'fulfilled') console.log(`${label}: ${result.value}`);
    else if (result.reason instanceof BulkheadRejectedError) {
      console.log(`${label}: refused: ${result.reason.message}`);
    } else throw result.reason;
  });
}

try {
  const pool = bulkhead({ name: 'api', limit: 2, queue: 1, queueTimeoutMs: 200 });
  console.log('1a. five calls that take 10 ms: the queued call gets a slot in time');
  await burst(pool, 5, '/slow/10');
  console.log('1b. five calls that take 300 ms: the queued call times out after 200 ms');
  await burst(pool, 5, '/slow/300');

  console.log('2. a group: inventory (limit 2) hangs for 200 ms, search (limit 2) stays fast');
  const pools = bulkheadGroup({ inventory: { limit: 2 }, search: { limit: 2 } });
  const inventory = Array.from({ length: 3 }, () =>
    pools
      .execute('inventory', ({ signal }) => get('/slow/200', signal))
      .catch((error) => {
        if (!(error instanceof BulkheadRejectedError)) throw error;
        return 'refused: the inventory pool is full';
      }),
  );
  const stats = pools.stats();
  console.log(`   inventory: ${stats.inventory?.running} of 2 slots taken`);
  for (let i = 1; i <= 3; i++) {
    const answer = await pools.execute('search', ({ signal }) => get('/slow/5', signal));
    const busy = pools.pool('inventory').running;
    console.log(`   search call ${i}: ${answer} while inventory still has ${busy} running`);
  }
  for (const [i, answer] of (await Promise.all(inventory)).entries()) {
    console.log(`   inventory call ${i + 1}: ${answer}`);
  }
} finally {
  await server.close();
}
