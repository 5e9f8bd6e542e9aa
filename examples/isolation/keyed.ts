/**
 * One circuit breaker per downstream host with `keyed()`: the host that fails opens its own
 * breaker, while calls to the healthy host keep flowing. `maxKeys` bounds how many hosts'
 * breakers are kept; past it, the least recently used one is evicted, and an evicted breaker
 * forgets that it was open.
 * (Both "hosts" are real HTTP servers on 127.0.0.1; the host names are only labels.)
 *
 * Run: npx tsx examples/isolation/keyed.ts
 */
import { BrokenCircuitError, circuitBreaker, keyed, pipeline, timeout } from 'bulwark';
import { type LocalServer, send, startServer } from '../shared/server.js';

const healthy = await startServer((_request, response) => send(response, 200, { ok: true }));
const failing = await startServer((_request, response) => send(response, 503, { error: 'down' }));
const hosts: Record<string, LocalServer> = {
  'alpha.internal': healthy,
  'beta.internal': failing,
  'gamma.internal': healthy,
};

const perHost = keyed(
  (host) =>
    circuitBreaker({ name: `breaker:${host}`, consecutiveFailures: 2, breakDurationMs: 5_000 }),
  { maxKeys: 2 },
);
perHost.on('created', ({ key }) => console.log(`   [keyed] new breaker for ${key}`));
perHost.on('evicted', ({ key, reason }) => console.log(`   [keyed] dropped ${key} (${reason})`));
const client = pipeline(perHost, timeout(1_000));

async function call(host: string): Promise<void> {
  try {
    const status = await client.execute(
      async ({ signal, key }) => {
        const response = await fetch(`${hosts[key!]!.url}/health`, { signal });
        await response.text();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.status;
      },
      { key: host },
    );
    console.log(`   ${host}: HTTP ${status}`);
  } catch (error) {
    const what = error instanceof BrokenCircuitError ? 'refused, its breaker is open' : 'failed';
    console.log(`   ${host}: ${what} (${(error as Error).message})`);
  }
}

try {
  console.log('1. Three rounds of calls to both hosts; beta fails every time');
  for (let round = 1; round <= 3; round++) {
    await call('alpha.internal');
    await call('beta.internal');
  }
  for (const host of ['alpha.internal', 'beta.internal']) {
    console.log(`   ${host} breaker: ${perHost.peek(host)?.state}`);
  }
  console.log(`   beta's server saw ${failing.requests} requests; alpha's saw ${healthy.requests}`);

  console.log('2. maxKeys is 2: a third host evicts the least recently used breaker');
  await call('gamma.internal');
  console.log(
    `   breakers kept: ${perHost.size}; beta's is still ${perHost.peek('beta.internal')?.state}`,
  );

  console.log('3. alpha again: now beta is the least recently used, and its open breaker is lost');
  await call('alpha.internal');
  await call('beta.internal');
  console.log('   so size maxKeys above the number of hosts in use');
} finally {
  await Promise.all([healthy.close(), failing.close()]);
}
