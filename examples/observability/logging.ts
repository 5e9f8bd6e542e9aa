/**
 * Logs from the telemetry bus: `logTelemetry(logger)` writes the state changes, refusals and
 * retries of every policy as structured records `{ policy, kind, event, detail }`, at Polly's
 * severities (a breaker opening is an error, half-opening a warning, closing info), and at most
 * `maxPerSecond` records per policy per second, then one summary of what it held back.
 *
 * A real HTTP server on 127.0.0.1 fails until the breaker opens, then recovers; then a burst of
 * calls overflows a bulkhead. The logger here is console-shaped and prints one line a record;
 * pass a pino logger instead and it gets the same records, object first.
 *
 * Run: npx tsx examples/observability/logging.ts
 */
import {
  backoff,
  bulkhead,
  circuitBreaker,
  logTelemetry,
  pipeline,
  retry,
  systemClock,
  type TelemetryLogRecord,
  timeout,
} from 'bulwark';
import { send, startServer } from '../shared/server.js';

let failing = true;
const server = await startServer((_request, response) => {
  if (failing) send(response, 503, { error: 'overloaded' });
  else send(response, 200, { items: 3 });
});

function print(level: string, message: string, record: TelemetryLogRecord): void {
  console.log(`[${level}] ${message}  ${JSON.stringify(record.detail)}`);
}

// Any object with error/warn/info/debug methods will do: console, pino, winston, ...
const logger = {
  error: (message: string, record: TelemetryLogRecord) => print('error', message, record),
  warn: (message: string, record: TelemetryLogRecord) => print('warn', message, record),
  info: (message: string, record: TelemetryLogRecord) => print('info', message, record),
  debug: (message: string, record: TelemetryLogRecord) => print('debug', message, record),
};
const stop = logTelemetry(logger, { level: 'info', maxPerSecond: 5 });

const inventory = pipeline(
  retry({ name: 'inventory-retry', maxAttempts: 2, backoff: backoff.constant(50) }),
  circuitBreaker({ name: 'inventory-breaker', consecutiveFailures: 2, breakDurationMs: 300 }),
  timeout(1_000, { name: 'inventory-timeout' }),
  { name: 'inventory' },
);

async function fetchInventory(label: string): Promise<void> {
  console.log(label);
  try {
    const body = await inventory.execute(
      async ({ signal }) => {
        const response = await fetch(`${server.url}/inventory`, { signal });
        const text = await response.text();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return text;
      },
      { key: 'warehouse-7' },
    );
    console.log(`   => ${body}`);
  } catch (error) {
    console.log(`   => failed: ${(error as Error).name}`);
  }
}

/** Waits for the start of the next second of the log's clock, where its per-second limit resets. */
async function nextSecond(): Promise<void> {
  const ms = 1_000 - (systemClock.now() % 1_000) + 5;
  await new Promise((resolve) => setTimeout(resolve, ms));
}

try {
  await fetchInventory('1. the server answers 503: a retry, then the breaker opens');
  await fetchInventory('2. the breaker is open: refused at once, not retried');
  failing = false;
  await new Promise((resolve) => setTimeout(resolve, 350));
  await fetchInventory('3. the break is over and the server is back: a probe closes the breaker');

  console.log(
    '4. twenty reports at once into a bulkhead of two slots: five records, then a summary',
  );
  const reports = bulkhead({ name: 'reports-pool', limit: 2 });
  await nextSecond(); // so the burst falls within one second, and the counts are the same each run
  let release = (): void => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const burst = Array.from({ length: 20 }, () => reports.execute(() => held));
  release();
  const refused = (await Promise.allSettled(burst)).filter((r) => r.status === 'rejected');
  console.log(`   => ${refused.length} refused`);
} finally {
  stop(); // writes the summary still owed
  await server.close();
}
