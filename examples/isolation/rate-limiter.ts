/**
 * Rate limiting, per tenant, on both sides of an HTTP call.
 * 1. Server side: one `rateLimiter` keyed by tenant guards an API as middleware would, with
 *    `consume()`. Tenant acme bursts 8 requests at a limit of 5 per 10 s: 5 are served, 3 get
 *    429 with a Retry-After, while tenant globex is served as if nothing happened.
 * 2. Client side: `mode: 'wait'` smooths a burst of 6 calls to 10 per second (burst 2): two
 *    go at once, the others are held until their turn, 100 ms apart, in order.
 *
 * Run: npx tsx examples/isolation/rate-limiter.ts
 */
import { rateLimiter } from 'bulwark';
import { send, startServer } from '../shared/server.js';

const perTenant = rateLimiter({ name: 'api', limit: 5, intervalMs: 10_000 });

// GET /api?tenant=<name>: served while the tenant is within its limit, 429 beyond it.
const server = await startServer(async (request, response) => {
  const tenant = new URL(request.url ?? '/', 'http://x').searchParams.get('tenant') ?? 'anonymous';
  const decision = await perTenant.consume({ key: tenant });
  const headers = { 'ratelimit-remaining': String(decision.remaining) };
  if (decision.allowed) {
    send(response, 200, { tenant }, headers);
    return;
  }
  const retryAfterS = Math.ceil(decision.retryAfterMs / 1000);
  send(
    response,
    429,
    { retryAfterMs: decision.retryAfterMs },
    {
      ...headers,
      'retry-after': String(retryAfterS),
    },
  );
});

async function get(tenant: string): Promise<string> {
  const response = await fetch(`${server.url}/api?tenant=${tenant}`);
  await response.text();
  if (response.status === 429) {
    return `429, retry after ${response.headers.get('retry-after')} s`;
  }
  return `${response.status}, ${response.headers.get('ratelimit-remaining')} left`;
}

try {
  console.log('1. acme bursts 8 requests at 5 per 10 s; globex sends 2');
  const acme = await Promise.all(Array.from({ length: 8 }, () => get('acme')));
  const globex = await Promise.all([get('globex'), get('globex')]);
  const served = acme.filter((answer) => answer.startsWith('200')).length;
  console.log(`   acme: ${served} served, ${acme.length - served} refused`);
  for (const answer of new Set(acme.filter((a) => a.startsWith('429')))) {
    console.log(`   acme refused: ${answer}`);
  }
  for (const [i, answer] of globex.entries()) console.log(`   globex request ${i + 1}: ${answer}`);

  console.log('2. a client smooths a burst of 6 calls to 10 per second (burst 2)');
  const smooth = rateLimiter({ limit: 10, intervalMs: 1000, burst: 2, mode: 'wait' });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      smooth.execute(async () => {
        // Floored to the 100 ms slot it was given: a busy machine only ever fires timers late.
        const after = Math.floor((performance.now() - start) / 100) * 100;
        const answer = await get(`smooth-${i + 1}`);
        console.log(`   call ${i + 1} started after ${after} ms: ${answer}`);
      }),
    ),
  );
} finally {
  await server.close();
}
