/**
 * A circuit breaker over a real HTTP server on 127.0.0.1 that goes down, then recovers:
 * - 3 failures in a row open the breaker; while open, calls are refused at once with
 *   `BrokenCircuitError` (its `retryAfterMs` says when a probe will be let through);
 * - after the break, one half-open probe tests the service; it reopens or closes the breaker;
 * - `toJSON()` / `initialState` carry an open breaker across a restart;
 * - `isolate()` holds the breaker open by hand (maintenance), until released.
 * Every state change is printed from the `stateChange` event.
 *
 * Run: npx tsx examples/dependency-risk/circuit-breaker.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  circuitBreaker,
  IsolatedCircuitError,
} from 'bulwark';
import { send, startServer } from '../shared/server.js';

let healthy = true;
const server = await startServer((_request, response) => {
  if (healthy) send(response, 200, { stock: 7 });
  else send(response, 503, { error: 'unavailable' });
});

const options = { name: 'inventory', consecutiveFailures: 3, breakDurationMs: 100 };
const breaker = circuitBreaker(options);
breaker.on('stateChange', ({ from, to, reason }) => {
  console.log(`   [${breaker.name}] ${from} -> ${to} (${reason})`);
});

let calls = 0;
async function call(policy: CircuitBreakerPolicy = breaker): Promise<void> {
  const label = `call ${++calls}`;
  try {
    await policy.execute(async ({ signal }) => {
      const response = await fetch(`${server.url}/stock`, { signal });
      await response.text();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    });
    console.log(`   ${label}: ok`);
  } catch (error) {
    if (error instanceof BrokenCircuitError) {
      const probeIn = Math.round((error.retryAfterMs ?? 0) / 10) * 10;
      console.log(`   ${label}: refused with BrokenCircuitError (a probe in about ${probeIn} ms)`);
    } else if (error instanceof IsolatedCircuitError) {
      console.log(`   ${label}: refused with IsolatedCircuitError`);
    } else {
      console.log(`   ${label}: failed (${(error as Error).message})`);
    }
  }
}

try {
  console.log('1. The service is healthy');
  await call();

  console.log('2. The service goes down: 3 failures in a row open the breaker');
  healthy = false;
  for (let i = 0; i < 4; i++) await call();
  console.log(`   the server saw ${server.requests} requests: the refused call never reached it`);

  console.log('3. Save the open breaker; a "restarted" process restores it still open');
  const saved = JSON.stringify(breaker);
  const restored = circuitBreaker({ ...options, initialState: JSON.parse(saved) });
  console.log(`   restored state: ${restored.state}`);
  await call(restored);

  console.log('4. After the 100 ms break, one probe goes through; the service is still down');
  await sleep(110);
  await call();

  console.log('5. The service recovers; the next probe closes the breaker');
  healthy = true;
  await sleep(110);
  await call();
  await call();

  console.log('6. isolate() refuses every call until it is released');
  const release = breaker.isolate();
  await call();
  release();
  await call();
} finally {
  await server.close();
}
