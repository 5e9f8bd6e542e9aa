/**
 * `openTelemetry()` from 'bulwark/otel': a pipeline's calls as spans (a span per call, a child
 * per attempt, the user's own HTTP span under the attempt that made it, retries and breaker
 * changes as span events) and its metrics as OpenTelemetry instruments. The SDK here keeps
 * everything in memory so the program can print it; a service would export it instead.
 *
 * Run: npx tsx examples/observability/opentelemetry.ts
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { backoff, circuitBreaker, fallback, pipeline, retry, timeout } from 'bulwark';
import { openTelemetry } from 'bulwark/otel';
import { send, startServer } from '../shared/server.js';

// What an SDK setup does: a context manager (so the active span survives awaits), a meter
// provider with a reader, a tracer provider with a span processor.
const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);
class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}
const reader = new OnDemandReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(spans)],
});
const stop = openTelemetry({ meterProvider, tracerProvider });
const tracer = tracerProvider.getTracer('quote-service');

let down = false;
const server = await startServer((_request, response, n) => {
  if (down || n === 1) send(response, 503, { error: 'unavailable' });
  else send(response, 200, { quote: 'Simple is better than complex.' });
});

const quotes = pipeline(
  fallback({ value: 'Errors should never pass silently.' }),
  retry({ name: 'quotes-retry', maxAttempts: 2, backoff: backoff.constant(10) }),
  circuitBreaker({ name: 'quotes-breaker', consecutiveFailures: 2, breakDurationMs: 60_000 }),
  timeout(1_000),
  { name: 'quotes' },
);

/** One request handled by the service: a server span, and the pipeline's call inside it. */
function handle(route: string): Promise<string> {
  return tracer.startActiveSpan(route, async (span) => {
    const quote = await quotes.execute(({ signal }) =>
      // An instrumented HTTP client makes its span under whatever span is active: the attempt.
      tracer.startActiveSpan('GET /quote', async (client) => {
        try {
          const response = await fetch(`${server.url}/quote`, { signal });
          const body = await response.text();
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return (JSON.parse(body) as { quote: string }).quote;
        } finally {
          client.end();
        }
      }),
    );
    span.end();
    return quote;
  });
}

/** Prints a trace as a tree: each span with its bulwark attributes and events. */
function printTree(all: ReadableSpan[], parent: string | undefined, depth: number): void {
  const children = all.filter((span) => span.parentSpanContext?.spanId === parent);
  children.sort(
    (a, b) =>
      Number(a.attributes['bulwark.attempt.number'] ?? 0) -
      Number(b.attributes['bulwark.attempt.number'] ?? 0),
  );
  for (const span of children) {
    const shown = Object.entries(span.attributes)
      .filter(([key]) => key !== 'bulwark.policy.name' && key !== 'bulwark.policy.kind')
      .map(([key, value]) => `${key}=${value}`)
      .join(' ');
    console.log(`${'  '.repeat(depth)}${span.name}${shown ? ` [${shown}]` : ''}`);
    for (const event of span.events) {
      const detail = Object.values(event.attributes ?? {}).join(' ');
      console.log(`${'  '.repeat(depth + 1)}event ${event.name}${detail ? ` ${detail}` : ''}`);
    }
    printTree(all, span.spanContext().spanId, depth + 1);
  }
}

async function metric(name: string): Promise<string[]> {
  const { resourceMetrics } = await reader.collect();
  const found = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  return found
    .filter((m) => m.descriptor.name === name)
    .flatMap((m) => m.dataPoints as DataPoint<number | Histogram>[])
    .map(({ attributes, value }) => {
      const labels = Object.entries(attributes)
        .filter(([key]) => key !== 'bulwark.policy.kind')
        .map(([key, item]) => `${key}=${item}`)
        .join(',');
      const shown = typeof value === 'number' ? value : `count ${(value as Histogram).count}`;
      return `${name}{${labels}} ${shown}`;
    })
    .sort();
}

try {
  console.log(`1. "${await handle('GET /quote-of-the-day')}"`);
  down = true;
  console.log(`2. "${await handle('GET /quote-of-the-day')}" (the service is down)`);
  console.log('traces:');
  printTree(spans.getFinishedSpans(), undefined, 1);
  for (const name of [
    'bulwark.call.duration',
    'bulwark.retry.attempts',
    'bulwark.circuit_breaker.state',
  ]) {
    for (const line of await metric(name)) console.log(line);
  }
} finally {
  stop();
  await server.close();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
  contextManager.disable();
}
