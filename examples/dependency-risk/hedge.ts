/**
 * Hedging against a real HTTP server on 127.0.0.1 with a long tail: on every path, every 10th
 * request stalls for 300 ms (a GC pause, a cold cache) and the others take 5 ms.
 * - 100 calls without hedging: the stalls set the p99;
 * - the same 100 calls with `hedge({ delayMs: 100 })`: a call still waiting after 100 ms sends
 *   a second request, which is fast, and wins; the stalled one is cancelled through its signal
 *   (the server sees its connection close).
 * Ten clients make the calls side by side, each on its own path, ten calls each. The delay is
 * well above the fast requests' latency, even on a busy machine, so hedges go to stalls only.
 *
 * Run: npx tsx examples/dependency-risk/hedge.ts
 */
import { hedge, type Policy } from 'bulwark';
import { sendLater, startServer } from '../shared/server.js';

let cancelled = 0;
const server = await startServer((_request, response, n) => {
  response.on('close', () => {
    if (!response.writableEnded) cancelled++;
  });
  sendLater(response, n % 10 === 0 ? 300 : 5, 200, { n });
});

async function get(url: string, signal: AbortSignal): Promise<number> {
  const response = await fetch(url, { signal });
  return ((await response.json()) as { n: number }).n;
}

/** The `p`-th percentile (nearest rank) of `values`. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

/** 10 clients, each making 10 calls one after the other to its own path; the latencies. */
async function run(label: string, policy: Policy | undefined): Promise<number[]> {
  const latencies: number[] = [];
  const client = async (id: number): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      const url = `${server.url}/${label}/client-${id}`;
      const start = performance.now();
      if (policy === undefined) await get(url, new AbortController().signal);
      else await policy.execute(({ signal }) => get(url, signal));
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: 10 }, (_, id) => client(id)));
  return latencies;
}

function report(label: string, latencies: readonly number[], requests: number): void {
  const p50 = Math.round(percentile(latencies, 50));
  const p99 = Math.round(percentile(latencies, 99));
  console.log(
    `${label}: ${latencies.length} calls, ${requests} requests; p50 ${p50} ms, p99 ${p99} ms`,
  );
}

try {
  const before = server.requests;
  const plain = await run('plain', undefined);
  report('without hedging', plain, server.requests - before);

  const reads = hedge({ delayMs: 100 });
  let hedges = 0;
  let wonByHedge = 0;
  reads.on('hedge', () => hedges++);
  reads.on('success', ({ attempt }) => {
    if (attempt > 1) wonByHedge++;
  });
  const start = server.requests;
  const hedged = await run('hedged', reads);
  report('with hedging (100 ms)', hedged, server.requests - start);
  // The losers' connections close a moment after their signals abort.
  await new Promise((resolve) => setTimeout(resolve, 50));
  console.log(`${hedges} hedges sent, ${wonByHedge} won; ${cancelled} stalled requests cancelled`);
  const before99 = Math.round(percentile(plain, 99));
  const after99 = Math.round(percentile(hedged, 99));
  console.log(
    after99 < before99
      ? `hedging cut the p99 from ${before99} ms to ${after99} ms`
      : `hedging did not cut the p99 (${before99} ms -> ${after99} ms): is the machine overloaded?`,
  );
} finally {
  await server.close();
}
