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

/** A reader whose only job is to be collected from on demand. */
class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export type Point = DataPoint<number | Histogram>;

/** The SDK's in-memory pieces: a meter provider read on demand, and a span exporter. */
export interface Sdk {
  readonly meterProvider: MeterProvider;
  readonly tracerProvider: BasicTracerProvider;
  /** Every data point of the instrument named `name`, as the SDK aggregated them now. */
  points(name: string): Promise<Point[]>;
  /** The names of every instrument with at least one data point. */
  names(): Promise<string[]>;
  /** Spans ended so far. */
  spans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

export function sdk(): Sdk {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const collect = async () => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw errors[0];
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  };
  return {
    meterProvider,
    tracerProvider,
    async points(name) {
      const found = (await collect()).filter((metric) => metric.descriptor.name === name);
      return found.flatMap((metric) => metric.dataPoints as Point[]);
    },
    async names() {
      const found = await collect();
      return found.filter((metric) => metric.dataPoints.length > 0).map((m) => m.descriptor.name);
    },
    spans: () => exporter.getFinishedSpans(),
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/**
 * Registers the AsyncLocalStorage context manager, the one Node's SDK setups register, so a
 * span made active stays active across awaits; returns the function that removes it.
 */
export function useAsyncContext(): () => void {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  return () => {
    manager.disable();
    context.disable();
  };
}
