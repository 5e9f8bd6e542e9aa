import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const examplesDir = join(root, 'examples');
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');

/**
 * Lines each example must print, by path under examples/. Every example needs an entry, so a
 * new example cannot be added without saying what it should show.
 */
const expected: Record<string, readonly string[]> = {
  'availability/cache.ts': [
    '2. again within ttlMs: sku-1 costs 42; server requests: 1',
    '3. five concurrent calls for sku-2 got 42,42,42,42,42; server requests: 2',
    'served from cache (stale): sku-1, because of Error: HTTP 503',
    'served from cache (stale): sku-1, because of TypeError: fetch failed',
    '5. service drops the connection: sku-1 costs 42; server requests: 4',
    '6. service is back with a new price: sku-1 costs 45; server requests: 5',
    '7. and that is cached now: sku-1 costs 45; server requests: 5',
  ],
  'availability/degradation.ts': [
    'search "boots": doc-1, doc-2, doc-3 by simple ranking (primary-failed)',
    'mode: primary',
    '[ranking] primary -> fallback (unhealthy)',
    'search "scarves": doc-1, doc-2, doc-3 by simple ranking (unhealthy)',
    'ranking requests for those 2 searches: 0',
    'search "gloves": doc-1, doc-2, doc-3 by simple ranking (recovering)',
    '[ranking] fallback -> primary (healthy)',
    'search "coats": doc-3, doc-1, doc-2 by ML ranking',
    'search "belts": doc-1, doc-2, doc-3 by simple ranking (disabled)',
    'status: {"ranking":{"mode":"disabled","reason":"disabled"}}',
  ],
  'availability/health.ts': [
    'GET /health/ready -> 200 pass [inventory=pass]',
    '[health] inventory: pass -> fail (HTTP 503)',
    'GET /health/ready -> 503 fail [inventory=fail (HTTP 503)]',
    'GET /health/ready -> 503 fail [inventory=fail (timed out after 500 ms)]',
    '[health] inventory: fail -> pass',
    '[health] readiness (overall): pass -> fail (shutting down)',
    'GET /health/ready -> 503 fail output="shutting down" [inventory=pass]',
    'GET /health/live -> 200 pass [event-loop:delay=pass',
  ],
  'availability/shutdown.ts': [
    'state: running -> draining (SIGTERM)\nreadiness: failing (SIGTERM)',
    'during the readiness delay: GET /fast -> 200 "answered /fast"',
    'after the delay: GET /fast -> refused (ECONNREFUSED)',
    'after the delay: a guarded job -> refused with ShuttingDownError',
    'hook: flush metrics\nhook: close the database pool\nstate: draining -> stopped (SIGTERM, exit code 0)',
    'the slow request: 200 "answered /slow"',
    'done: exit code 0, state stopped',
  ],
  'chaos/monkey.ts': [
    'results: price 42: 100',
    'injected: dependency-errors: 9, slow-dependency: 3',
    'retries: 12; server requests: 100',
    '[breaker] closed -> open',
    'results: failed: 1, refused by the breaker: 19',
    'injected: dependency-outage: 4, dependency-errors: 1',
    '[breaker] open -> closed',
    'results: price 42: 20',
  ],
  'chaos/redis-proxy.ts': [
    '1. no toxics: GET -> hello after 1 attempt(s)',
    '2. latency 150 ms, under the 500 ms timeout: GET -> hello after 1 attempt(s), slower than 150 ms',
    '   attempt 2 failed (TimeoutError); retrying',
    '3. latency 1000 ms, over the timeout: GET failed with TimeoutError: Timed out after 500 ms',
    '   [ioredis] connection closed; reconnecting\n   attempt 1 failed (MaxRetriesPerRequestError); retrying\n4. connection reset: GET -> hello after 2 attempt(s)',
    'done: proxy closed',
  ],
  'dependency-risk/retry.ts': [
    'accepted the answer of attempt 3',
    'attempt 1 got HTTP 503; retrying in 200 ms',
    'gave up after 4 attempts (reason: maxAttempts)',
  ],
  'dependency-risk/timeout.ts': [
    'caller got TimeoutError: Timed out after 200 ms',
    'server: the client closed the connection',
    "caller got a TimeoutError from the request's budget: 100 ms",
    'cooperative: waited for the task and returned "late answer"',
  ],
  'dependency-risk/circuit-breaker.ts': [
    '[inventory] closed -> open (failures)',
    'call 5: refused with BrokenCircuitError',
    'restored state: open',
    '[inventory] half-open -> open (probe-failed)',
    '[inventory] half-open -> closed (probes-succeeded)',
    'call 10: refused with IsolatedCircuitError',
  ],
  'dependency-risk/fallback.ts': [
    '2. service answers 503: price 42 (stale)',
    'because of TypeError: fetch failed',
    'because of BrokenCircuitError',
    '4. service is back, but the breaker is still open: price 42 (stale); server requests: 3',
  ],
  'dependency-risk/hedge.ts': [
    'without hedging: 100 calls, 100 requests',
    'with hedging (100 ms): 100 calls',
    'hedging cut the p99 from',
  ],
  'http/chain.ts': [
    ": at most 2000 - 20 (gateway's work) - 5 (margin) = 1975",
    ": at most 1975 - 300 (orders' work) - 5 (margin) = 1670",
    '   caller got 200 "3 in stock"',
    ": at most 1000 - 20 (gateway's work) - 5 (margin) = 975",
    '   inventory refused 1 request(s) at once with 504 (budgets ',
    ' ms, under its minBudgetMs of 700); its handler never ran',
    '   caller got 504 "orders answered 504: inventory answered 504: Gateway Timeout: the request arrived with no time budget left"',
    ": at most 250 - 20 (gateway's work) - 5 (margin) = 225",
    '   gateway   its call to orders failed: TimeoutError',
    '   orders    its call to inventory failed: TimeoutError\n   inventory was never asked\n   caller got 504 "orders: TimeoutError"',
  ],
  'http/fastify-service.ts': [
    '   10 served, 2 refused with 429',
    '   one 429: retry-after: 6\n   one 429: ratelimit-policy: "api";q=10;w=60\n   one 429: ratelimit: "api";r=0;t=60',
    '   while they work: 2 running, 2 queued\n   4 served, 2 refused with 503',
    '   one 503: retry-after: 1, body: "Service Unavailable: overloaded"',
    '   GET /readyz -> 200 pass\n   GET /readyz -> 503 fail\n   GET /livez -> 200 pass\n   GET /readyz -> 200 pass',
    '   shutdown began: state draining, readiness fail (deploy)',
    '   a new connection: refused (ECONNREFUSED)',
    '   a request on a connection already open: 503 Service Unavailable (connection: close, retry-after: 1)',
    '   the report in flight: 200 report ready (connection: close)\n   shutdown done: exit code 0, state stopped',
  ],
  'isolation/adaptive-limit.ts': [
    '1. the server holds 16 requests (8 workers, 8 queued); the limit starts at 2',
    '2. the server drops to 4 workers: it holds 8 requests',
    'the limit followed it down: settled at',
  ],
  'isolation/bulkhead.ts': [
    'api call 5: refused: api is full (2 of 2 running, 1 of 1 queued)',
    'api call 3: refused: api timed out in the queue after 200 ms',
    'search call 3: HTTP 200',
    'inventory call 3: refused: the inventory pool is full',
  ],
  'isolation/load-shedder.ts': [
    'sheddable /batch/8: HTTP 503 (capacity)',
    'sheddable /batch/7: HTTP 503 (evicted)',
    'critical /user/4: HTTP 200',
    'critical: shed 0, running 0, queued 0',
    'sheddable: shed 4, running 0, queued 0',
  ],
  'isolation/keyed.ts': [
    'beta.internal: refused, its breaker is open',
    'alpha.internal breaker: closed',
    '[keyed] dropped alpha.internal (capacity)',
  ],
  'isolation/rate-limiter.ts': [
    'acme: 5 served, 3 refused',
    'acme refused: 429, retry after 2 s',
    'globex request 2: 200',
    'call 2 started after 0 ms',
    'call 6 started after 400 ms',
  ],
  'isolation/retry-budget.ts': [
    '1. retry alone: 100 calls -> 300 requests (3.00x); 100 failed',
    '2. retry + budget: 100 calls -> 120 requests (1.20x); 100 failed',
    '100 calls gave up on the budget; {"calls":100,"retries":20,"available":0}',
    '3. retry + budget + throttle: 100 calls -> 14 requests (0.14x); 9 failed, 91 refused locally',
    'throttle: 105 requests, 0 accepts, refusing with probability 0.991',
    '4. retry + budget: 100 calls -> 100 requests (1.00x); 0 failed',
  ],
  'observability/logging.ts': [
    '[warn] bulwark retry "inventory-retry": retry  {"attempt":1,"delayMs":50,',
    '[error] bulwark circuit-breaker "inventory-breaker": stateChange closed -> open (failures)',
    '[warn] bulwark retry "inventory-retry": giveUp (notRetryable)',
    '[warn] bulwark circuit-breaker "inventory-breaker": stateChange open -> half-open (break-ended)',
    '[info] bulwark circuit-breaker "inventory-breaker": stateChange half-open -> closed (probes-succeeded)',
    '   => 18 refused\n[warn] bulwark bulkhead "reports-pool": suppressed 13 records over the limit of 5 a second',
  ],
  'observability/opentelemetry.ts': [
    '1. "Simple is better than complex."',
    '2. "Errors should never pass silently." (the service is down)',
    [
      '  GET /quote-of-the-day',
      '    quotes [bulwark.outcome=success bulwark.call.attempts=2]',
      '      event bulwark.retry 1 0.01',
      '      quotes attempt [bulwark.attempt.number=1 bulwark.outcome=failure error.type=Error]',
      '        GET /quote',
      '      quotes attempt [bulwark.attempt.number=2 http.request.resend_count=1 bulwark.outcome=success]',
      '        GET /quote',
    ].join('\n'),
    [
      '      event bulwark.circuit_breaker.state_change closed open failures',
      '      event bulwark.fallback',
    ].join('\n'),
    'bulwark.call.duration{bulwark.policy.name=quotes,bulwark.outcome=success} count 2',
    'bulwark.retry.attempts{bulwark.policy.name=quotes-retry,bulwark.retry.result=retry} 2',
    'bulwark.circuit_breaker.state{bulwark.policy.name=quotes-breaker} 2',
  ],
  'observability/prometheus.ts': [
    '1. 40 requests, 20% of inventory calls fail: {"200":40}',
    '2. inventory down, 10 requests: {"503":10}',
    'chaos failed 23 calls to the inventory',
    'call_duration_seconds_count{policy="inventory-calls",outcome="success",service="shop"} 40',
    'call_duration_seconds_count{policy="inventory-calls",outcome="failure",service="shop"} 1',
    'call_duration_seconds_count{policy="inventory-calls",outcome="rejected",service="shop"} 9',
    'circuit_breaker_state{policy="inventory",service="shop"} 2',
    'retry_attempts_total{policy="inventory-retry",result="retry",service="shop"} 22',
    'retry_attempts_total{policy="inventory-retry",result="success",service="shop"} 40',
    'retry_attempts_total{policy="inventory-retry",result="give_up",reason="notRetryable",service="shop"} 9',
    'CircuitBreakerOpen (circuit_breaker_state == 2 for 1m): state 2, pending',
    'HighRetryRate (retried share of attempts > 0.1 for 5m): 0.31, pending',
  ],
  'observability/telemetry.ts': [
    'quote-breaker [circuit-breaker] stateChange from=closed to=open reason=failures',
    'quote-fallback [fallback] fallback key=quotes-api outcome=BrokenCircuitError',
    'events per policy: quote-breaker 7, quote-retry 6, quote-timeout 3, quote-fallback 2',
  ],
};

/** Every example program: examples/**\/*.ts except the demo and the shared helpers. */
function discover(): string[] {
  return readdirSync(examplesDir, { recursive: true, encoding: 'utf8' })
    .map((path) => path.split(sep).join('/'))
    .filter((path) => path.endsWith('.ts'))
    .filter((path) => path !== 'demo.ts' && !/^(demo|shared)\//.test(path))
    .sort();
}

interface Run {
  /** The exit code; a string such as 'ENOENT' if the process could not start. */
  readonly code: number | string | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runExample(path: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsx, join('examples', path)],
      { cwd: root, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : (error.code ?? null);
        resolve({ code, signal: error?.signal ?? null, stdout, stderr });
      },
    );
  });
}

const examples = discover();
const runs = new Map<string, Promise<Run>>();

/**
 * Examples measure real time (timeouts, hedges, rate limits), so a machine flooded by every
 * example at once (each starting tsx) makes their timers late and their lines wrong. A few run
 * side by side: most of their time is spent waiting on timers and sockets anyway.
 */
const SIDE_BY_SIDE = 3;

function runAll(paths: readonly string[]): void {
  const lanes: Promise<unknown>[] = Array.from({ length: SIDE_BY_SIDE }, () => Promise.resolve());
  paths.forEach((path, at) => {
    const run = lanes[at % SIDE_BY_SIDE]!.then(() => runExample(path));
    runs.set(path, run);
    lanes[at % SIDE_BY_SIDE] = run;
  });
}

describe('examples', () => {
  beforeAll(() => {
    runAll(examples);
  });

  it('lists what every example must print, and nothing else', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(examples.filter((path) => !(path in expected))).toEqual([]);
    expect(Object.keys(expected).filter((path) => !examples.includes(path))).toEqual([]);
  });

  it.each(examples)('%s exits cleanly and prints what it shows', async (path) => {
    const run = await runs.get(path)!;
    expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    for (const line of expected[path] ?? []) expect(run.stdout).toContain(line);
  });
});
