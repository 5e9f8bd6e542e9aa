/**
 * Health checks behind Kubernetes-style probes, on a real HTTP server on 127.0.0.1:
 * - `healthRegistry()` holds the checks; `healthHandler()` serves /health/ready (readiness) and
 *   /health/live (liveness) as application/health+json, 200 for pass/warn, 503 for fail;
 * - the readiness check pings a dependency (another local server): it passes, fails on a 503,
 *   fails at its 500 ms timeout while the dependency hangs (the request is aborted), and passes
 *   again once it is back; liveness (event-loop delay, heap) never depends on it;
 * - `markNotReady()`, as graceful shutdown calls it, fails readiness whatever the checks say.
 * Every status change is printed from the `statusChange` event.
 *
 * Run: npx tsx examples/availability/health.ts
 */
import { eventLoopDelayCheck, healthHandler, healthRegistry, heapCheck } from 'bulwark';
import { send, sendLater, startServer } from '../shared/server.js';

let dependency: 'up' | 'down' | 'hung' = 'up';
const inventory = await startServer((_request, response) => {
  if (dependency === 'up') send(response, 200, { ok: true });
  else if (dependency === 'down') send(response, 503, { error: 'unavailable' });
  else sendLater(response, 5_000, 200, { ok: true });
});

const registry = healthRegistry({ name: 'shop', timeoutMs: 500 });
registry.register(
  'inventory',
  async (signal) => {
    const response = await fetch(`${inventory.url}/ping`, { signal });
    await response.text();
    return response.ok || { status: 'fail', output: `HTTP ${response.status}` };
  },
  { componentType: 'component' },
);
const eventLoop = eventLoopDelayCheck({ maxMs: 1_000 });
registry.register('event-loop', eventLoop, { kinds: ['liveness'], measurement: 'delay' });
registry.register('heap', heapCheck({ maxUsedRatio: 0.95 }), {
  kinds: ['liveness'],
  measurement: 'utilization',
});
registry.on('statusChange', ({ check, kind, from, to, output }) => {
  const what = check ?? `${kind} (overall)`;
  console.log(`   [health] ${what}: ${from ?? 'none'} -> ${to}${output ? ` (${output})` : ''}`);
});

const ready = healthHandler(registry, { kind: 'readiness' });
const live = healthHandler(registry, { kind: 'liveness' });
const service = await startServer((request, response) => {
  if (request.url === '/health/ready') void ready(request, response);
  else if (request.url === '/health/live') void live(request, response);
  else send(response, 404, { error: 'not found' });
});

/** Probes one path as Kubernetes would, and prints the status code and the report's gist. */
async function probe(path: string): Promise<void> {
  const response = await fetch(`${service.url}${path}`);
  const report = (await response.json()) as {
    status: string;
    output?: string;
    checks: Record<string, { status: string; output?: string }[]>;
  };
  const checks = Object.entries(report.checks)
    .map(([key, [item]]) => `${key}=${item?.status}${item?.output ? ` (${item.output})` : ''}`)
    .join(', ');
  const why = report.output === undefined ? '' : ` output="${report.output}"`;
  console.log(`   GET ${path} -> ${response.status} ${report.status}${why} [${checks}]`);
}

try {
  console.log('1. the dependency is up');
  await probe('/health/ready');
  await probe('/health/live');
  console.log('2. the dependency answers 503');
  dependency = 'down';
  await probe('/health/ready');
  await probe('/health/live');
  console.log('3. the dependency hangs: the check fails at its 500 ms timeout');
  dependency = 'hung';
  await probe('/health/ready');
  console.log('4. the dependency is back');
  dependency = 'up';
  await probe('/health/ready');
  console.log('5. shutdown begins: markNotReady()');
  registry.markNotReady('shutting down');
  await probe('/health/ready');
  await probe('/health/live');
} finally {
  eventLoop.stop();
  await service.close();
  await inventory.close();
}
