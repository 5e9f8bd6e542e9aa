import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Sdk, sdk } from '../../../test/otel/sdk-harness.js';
import { backoff, pipeline, retry } from '../../index.js';
import { openTelemetry } from './open-telemetry.js';

describe('openTelemetry tracing with no context manager registered', () => {
  let otel: Sdk;
  let stop: () => void;

  beforeEach(() => {
    otel = sdk();
    stop = openTelemetry({ tracerProvider: otel.tracerProvider, metrics: false });
  });

  afterEach(async () => {
    stop();
    await otel.shutdown();
  });

  it('still links each attempt to its call: the parent is passed, not looked up', async () => {
    const policy = pipeline(retry({ maxAttempts: 2, backoff: backoff.constant(0) }), {
      name: 'jobs',
    });
    let runs = 0;
    await policy.execute(async () => {
      await Promise.resolve();
      if (++runs === 1) throw new Error('once');
      return 'done';
    });
    const [call] = otel.spans().filter((span) => span.name === 'jobs');
    const attempts = otel.spans().filter((span) => span.name === 'jobs attempt');
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(attempt.parentSpanContext?.spanId).toBe(call?.spanContext().spanId);
      expect(attempt.spanContext().traceId).toBe(call?.spanContext().traceId);
    }
    // Without a context manager nothing is active after an await: the retry event is lost.
    expect(call?.events).toEqual([]);
  });
});
