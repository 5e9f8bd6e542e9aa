/**
 * `npm start`: a flaky HTTP service on loopback, called once bare and once through a
 * fallback + retry + circuit breaker + timeout pipeline, with the two runs side by side.
 */
import {
  backoff,
  circuitBreaker,
  type ExecutionContext,
  fallback,
  pipeline,
  retry,
  timeout,
} from 'bulwark';
import { type Phase, startFlakyService } from './demo/flaky-service.js';

const RATE_PER_S = 60;
const RUN_S = 6;
const STALL_MS = 2_500;
const PHASES: Phase[] = [
  { label: 'healthy', untilS: 1.5, failRate: 0.02, stallRate: 0.01 },
  { label: 'outage', untilS: 3.75, failRate: 0.6, stallRate: 0.35 },
  { label: 'recovered', untilS: RUN_S, failRate: 0.02, stallRate: 0.01 },
];

type Answer = { source: 'service' | 'fallback' };
type Call = (url: string) => Promise<Answer>;

interface RunResult {
  served: number;
  fromFallback: number;
  failed: number;
  latenciesMs: number[];
  reachedService: number;
}

async function getJson(url: string, signal?: AbortSignal): Promise<Answer> {
  const response = await fetch(url, { signal });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return { source: 'service' };
}

/** Open loop: calls start on schedule whatever the earlier ones are doing, as real traffic does. */
async function run(
  call: Call,
  service: Awaited<ReturnType<typeof startFlakyService>>,
): Promise<RunResult> {
  service.startRun();
  const result: RunResult = {
    served: 0,
    fromFallback: 0,
    failed: 0,
    latenciesMs: [],
    reachedService: 0,
  };
  const calls: Promise<void>[] = [];
  const total = RATE_PER_S * RUN_S;
  const begin = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = begin + (i * 1_000) / RATE_PER_S - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const started = performance.now();
    calls.push(
      call(`${service.url}/items/${i}`).then(
        (answer) => {
          result.latenciesMs.push(performance.now() - started);
          if (answer.source === 'service') result.served++;
          else result.fromFallback++;
        },
        () => {
          result.latenciesMs.push(performance.now() - started);
          result.failed++;
        },
      ),
    );
  }
  await Promise.all(calls);
  result.reachedService = service.received;
  return result;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function report(bare: RunResult, guarded: RunResult): void {
  const rows: [string, (r: RunResult) => string][] = [
    ['answered by the service', (r) => pct(r.served, r)],
    ['answered by the fallback', (r) => pct(r.fromFallback, r)],
    ['failed', (r) => pct(r.failed, r)],
    ['p50 latency', (r) => ms(percentile(sortedOf(r), 50))],
    ['p99 latency', (r) => ms(percentile(sortedOf(r), 99))],
    ['requests reaching the service', (r) => String(r.reachedService)],
  ];
  const pad = (text: string, width: number) => text.padEnd(width);
  console.log(`\n${pad('', 32)}${pad('bare', 14)}with bulwark`);
  for (const [label, show] of rows)
    console.log(`${pad(label, 32)}${pad(show(bare), 14)}${show(guarded)}`);
}

const sortedOf = (r: RunResult) => [...r.latenciesMs].sort((a, b) => a - b);
const pct = (n: number, r: RunResult) => `${((100 * n) / r.latenciesMs.length).toFixed(1)}%`;
const ms = (value: number) => `${value.toFixed(0)} ms`;

async function main(): Promise<void> {
  const service = await startFlakyService(PHASES, STALL_MS);
  console.log(
    `A flaky service is listening on ${service.url}. Each run sends ${RATE_PER_S} calls/s for ${RUN_S} s:`,
  );
  console.log(
    PHASES.map(
      (p) =>
        `  until ${p.untilS} s: ${p.label} (${p.failRate * 100}% 503, ${p.stallRate * 100}% hang ${STALL_MS} ms)`,
    ).join('\n'),
  );

  const breaker = circuitBreaker({
    name: 'items-breaker',
    window: { type: 'count', size: 20 },
    failureRate: 0.5,
    minimumCalls: 10,
    breakDurationMs: 500,
    halfOpen: { probes: 2, maxMs: 1_000 },
  });
  const guarded = pipeline(
    fallback<Answer>({ value: () => ({ source: 'fallback' }) }),
    retry({
      maxAttempts: 3,
      backoff: backoff.exponential({ initialMs: 25, factor: 2, maxMs: 200, jitter: 'full' }),
    }),
    breaker,
    timeout(250),
  );
  const runStart = { at: 0 };
  breaker.on('stateChange', ({ from, to }) => {
    const at = ((performance.now() - runStart.at) / 1_000).toFixed(2);
    console.log(`  [${at} s] circuit breaker ${from} -> ${to}`);
  });

  console.log('\nRun 1: bare fetch, no protection...');
  const bare = await run((url) => getJson(url), service);
  console.log('Run 2: fallback + retry + circuit breaker + timeout...');
  runStart.at = performance.now();
  const protectedRun = await run(
    (url) =>
      guarded.execute((ctx: ExecutionContext) => getJson(url, ctx.signal)) as Promise<Answer>,
    service,
  );
  report(bare, protectedRun);
  await service.close();
  console.log(
    '\nThe breaker stops sending traffic into the outage, the timeout caps every wait, retries',
  );
  console.log('absorb the scattered 503s, and the fallback answers when the service cannot.');
}

await main();
