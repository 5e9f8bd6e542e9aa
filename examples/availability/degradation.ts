/**
 * Graceful degradation: a search service ranks results with an ML ranking service, and falls
 * back to a simple keyword ranking of its own when the ranking service is unhealthy.
 * 1. The ranking service is healthy: searches are ranked by it.
 * 2. One ranking request fails while its health check still passes: the simple ranking answers
 *    that search, and the feature stays on the primary.
 * 3. The ranking service reports itself unhealthy on /health: the health checker (polling every
 *    50 ms) notices, and searches switch to the simple ranking without calling it.
 * 4. It recovers: searches stay on the simple ranking until `minDegradedMs` (800 ms) has passed
 *    since they switched, then go back to the ML ranking.
 * 5. An operator turns the feature off from a flags object: `features.load({ ranking: false })`.
 *
 * Run: npx tsx examples/availability/degradation.ts
 */
import { featureManager } from 'bulwark';
import { send, startServer } from '../shared/server.js';

let healthy = true;
let failNext = false;
let rankRequests = 0;
const ranking = await startServer((request, response) => {
  if (request.url === '/health') {
    send(response, healthy ? 200 : 503, { healthy });
    return;
  }
  rankRequests++;
  if (failNext) {
    failNext = false;
    send(response, 500, { error: 'model crashed' });
  } else send(response, 200, { order: ['doc-3', 'doc-1', 'doc-2'] });
});

/** Polls the ranking service's /health; `up` is the last answer (a failed poll is down). */
class HealthChecker {
  up = true;
  #waiting: (() => void) | undefined;
  readonly #timer = setInterval(() => void this.#poll(), 50);

  async #poll(): Promise<void> {
    let up: boolean;
    try {
      const response = await fetch(`${ranking.url}/health`, { signal: AbortSignal.timeout(200) });
      await response.text();
      up = response.ok;
    } catch {
      up = false;
    }
    if (up === this.up) return;
    this.up = up;
    console.log(`   health check: ranking is ${up ? 'healthy' : 'unhealthy'}`);
    this.#waiting?.();
  }

  /** Resolves when the next poll finds a change. */
  changed(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

const docs = ['doc-1', 'doc-2', 'doc-3'];
const checker = new HealthChecker();
const features = featureManager({ name: 'search' });
const feature = features.register('ranking', {
  healthy: () => checker.up,
  minDegradedMs: 800,
  fallback: (_ctx, reason) => ({ order: docs, by: `simple ranking (${reason})` }),
});
feature.on('modeChange', ({ from, to, reason }) => {
  console.log(`   [ranking] ${from} -> ${to} (${reason})`);
});

async function search(query: string): Promise<void> {
  const result = await features.execute('ranking', async ({ signal }) => {
    const response = await fetch(`${ranking.url}/rank?q=${query}`, { signal });
    if (!response.ok) throw new Error(`ranking: HTTP ${response.status}`);
    const { order } = (await response.json()) as { order: string[] };
    return { order, by: 'ML ranking' };
  });
  console.log(`   search "${query}": ${result.order.join(', ')} by ${result.by}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  console.log('1. the ranking service is healthy');
  await search('shoes');
  console.log('2. one ranking request fails; its health check still passes');
  failNext = true;
  await search('boots');
  console.log(`   mode: ${features.status().ranking?.mode}`);
  await search('socks');

  console.log('3. the ranking service becomes unhealthy');
  healthy = false;
  await checker.changed();
  const before = rankRequests;
  await search('hats');
  await search('scarves');
  console.log(`   ranking requests for those 2 searches: ${rankRequests - before}`);

  console.log('4. it recovers');
  healthy = true;
  await checker.changed();
  await search('gloves');
  console.log(`   status: ${JSON.stringify(features.status())}`);
  await sleep(800);
  await search('coats');

  console.log('5. an operator turns ranking off from the flags');
  features.load({ ranking: false });
  await search('belts');
  console.log(`   status: ${JSON.stringify(features.status())}`);
} finally {
  checker.stop();
  await ranking.close();
}
