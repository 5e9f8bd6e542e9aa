/**
 * One telemetry stream for every policy: `telemetry.subscribe` receives each event of each
 * policy in a pipeline, tagged with the policy's name and kind. This prints every event as one
 * log line (policy, kind, event type, detail) and counts the events per policy, while a real
 * HTTP server on 127.0.0.1 fails once, then stalls until the breaker opens.
 *
 * Run: npx tsx examples/observability/telemetry.ts
 */
import {
  backoff,
  circuitBreaker,
  fallback,
  type Outcome,
  pipeline,
  ResilienceError,
  retry,
  type TelemetryEvent,
  telemetry,
  timeout,
} from 'bulwark';
import { send, startServer } from '../shared/server.js';

let stalling = false;
const server = await startServer((_request, response, n) => {
  if (stalling) return; // never answers; the timeout gives up on it
  if (n === 1) send(response, 503, { error: 'warming up' });
  else send(response, 200, { quote: 'Simple is better than complex.' });
});

/** Renders an event's detail as `field=value` pairs; outcomes show what they hold. */
function render(detail: object): string {
  return Object.entries(detail)
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => `${field}=${show(value)}`)
    .join(' ');
}

function isOutcome(value: unknown): value is Outcome {
  return typeof value === 'object' && value !== null && 'ok' in value;
}

function show(value: unknown): string {
  if (typeof value === 'number') return String(Math.round(value));
  if (value instanceof ResilienceError) return value.name; // bulwark's own: the name says it
  if (value instanceof Error) return `${value.name}(${JSON.stringify(value.message)})`;
  if (isOutcome(value)) return value.ok ? `ok(${show(value.value)})` : show(value.error);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const counts = new Map<string, number>();
const stop = telemetry.subscribe(({ policy, kind, type, detail }: TelemetryEvent) => {
  counts.set(policy, (counts.get(policy) ?? 0) + 1);
  console.log(`   ${policy} [${kind}] ${type} ${render(detail)}`);
});

const getQuote = pipeline(
  fallback({ name: 'quote-fallback', value: 'Errors should never pass silently.' }),
  retry({ name: 'quote-retry', maxAttempts: 3, backoff: backoff.constant(10) }),
  circuitBreaker({ name: 'quote-breaker', consecutiveFailures: 3, breakDurationMs: 1_000 }),
  timeout(200, { name: 'quote-timeout' }),
);

async function quote(label: string): Promise<void> {
  console.log(label);
  // The key names the call's target; every event about the call carries it.
  const text = await getQuote.execute(
    async ({ signal }) => {
      const response = await fetch(`${server.url}/quote`, { signal });
      const body = await response.text();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return (JSON.parse(body) as { quote: string }).quote;
    },
    { key: 'quotes-api' },
  );
  console.log(`   => "${text}"`);
}

try {
  await quote('1. the server answers 503 once, then 200');
  stalling = true;
  await quote('2. the server stalls: three attempts time out and the breaker opens');
  await quote('3. the breaker is open: refused at once, not retried, replaced by the fallback');
  console.log(`events per policy: ${[...counts].map(([p, n]) => `${p} ${n}`).join(', ')}`);
} finally {
  stop();
  await server.close();
}
