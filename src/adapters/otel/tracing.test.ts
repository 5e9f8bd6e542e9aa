import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Sdk, sdk, useAsyncContext } from '../../../test/otel/sdk-harness.js';
import { systemClock } from '../../core/clock.js';
import {
  backoff,
  circuitBreaker,
  fallback,
  hedge,
  loadShedder,
  pipeline,
  retry,
  timeout,
} from '../../index.js';
import { VirtualClock } from '../../testing/index.js';
import { openTelemetry } from './open-telemetry.js';

let stopContext: () => void;
beforeAll(() => {
  stopContext = useAsyncContext();
});
afterAll(() => stopContext());

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan): string => span.spanContext().spanId;
const eventsOf = (span: ReadableSpan | undefined) =>
  (span?.events ?? []).map(({ name, attributes }) => ({ name, attributes }));

describe('openTelemetry tracing', () => {
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

  /** Finished spans by name; a name seen several times keeps every span, in end order. */
  function spansNamed(name: string): ReadableSpan[] {
    return otel.spans().filter((span) => span.name === name);
  }

  it('makes a span per call and a child per attempt; the user’s own span is the attempt’s child', async () => {
    const tracer = otel.tracerProvider.getTracer('app');
    const payments = pipeline(
      retry({ maxAttempts: 3, backoff: backoff.constant(0) }),
      timeout(1_000),
      { name: 'payments' },
    );
    let runs = 0;
    await tracer.startActiveSpan('POST /checkout', async (root) => {
      await payments.execute(
        async () => {
          runs++;
          // The user's instrumented I/O: whatever span is active becomes its parent.
          const io = tracer.startSpan('GET /charge');
          io.end();
          if (runs < 3) throw new TypeError('connection reset');
          return 'charged';
        },
        { key: 'tenant-42' },
      ); // never an attribute: the exact attribute sets below prove it
      root.end();
    });

    const [root] = spansNamed('POST /checkout');
    const [call] = spansNamed('payments');
    const attempts = spansNamed('payments attempt');
    const io = spansNamed('GET /charge');
    expect(call && root && parentOf(call)).toBe(root && idOf(root));
    expect(attempts.map((span) => parentOf(span))).toEqual([1, 2, 3].map(() => idOf(call!)));
    expect(io.map((span) => parentOf(span))).toEqual(attempts.map(idOf));

    expect(attempts.map((span) => span.attributes)).toEqual([
      {
        'bulwark.policy.name': 'payments',
        'bulwark.policy.kind': 'pipeline',
        'bulwark.attempt.number': 1,
        'bulwark.outcome': 'failure',
        'error.type': 'TypeError',
      },
      {
        'bulwark.policy.name': 'payments',
        'bulwark.policy.kind': 'pipeline',
        'bulwark.attempt.number': 2,
        'http.request.resend_count': 1,
        'bulwark.outcome': 'failure',
        'error.type': 'TypeError',
      },
      {
        'bulwark.policy.name': 'payments',
        'bulwark.policy.kind': 'pipeline',
        'bulwark.attempt.number': 3,
        'http.request.resend_count': 2,
        'bulwark.outcome': 'success',
      },
    ]);
    expect(attempts.map((span) => span.status)).toEqual([
      { code: SpanStatusCode.ERROR, message: 'connection reset' },
      { code: SpanStatusCode.ERROR, message: 'connection reset' },
      { code: SpanStatusCode.UNSET },
    ]);
    expect(call?.attributes).toEqual({
      'bulwark.policy.name': 'payments',
      'bulwark.policy.kind': 'pipeline',
      'bulwark.outcome': 'success',
      'bulwark.call.attempts': 3,
    });
    expect(call?.status.code).toBe(SpanStatusCode.UNSET);
    expect(eventsOf(call)).toEqual([
      {
        name: 'bulwark.retry',
        attributes: { 'bulwark.attempt.number': 1, 'bulwark.retry.delay': 0 },
      },
      {
        name: 'bulwark.retry',
        attributes: { 'bulwark.attempt.number': 2, 'bulwark.retry.delay': 0 },
      },
    ]);
  });

  it('puts breaker transitions, refusals and fallbacks on the call they happened in', async () => {
    const breaker = circuitBreaker({ name: 'db', consecutiveFailures: 1 });
    const reads = pipeline(fallback({ value: 'cached' }), breaker, { name: 'reads' });
    await reads.execute(() => Promise.reject(new Error('down')));
    await reads.execute(() => 'fresh');

    const [first, second] = spansNamed('reads');
    expect(eventsOf(first)).toEqual([
      {
        name: 'bulwark.circuit_breaker.state_change',
        attributes: {
          'bulwark.circuit_breaker.from': 'closed',
          'bulwark.circuit_breaker.to': 'open',
          'bulwark.circuit_breaker.reason': 'failures',
        },
      },
      { name: 'bulwark.fallback', attributes: {} },
    ]);
    expect(eventsOf(second)).toEqual([
      {
        name: 'bulwark.circuit_breaker.rejected',
        attributes: {
          'bulwark.circuit_breaker.state': 'open',
          'bulwark.circuit_breaker.enforced': true,
        },
      },
      { name: 'bulwark.fallback', attributes: {} },
    ]);
    // Refused before the task could run: no attempt span for the second call.
    expect(spansNamed('reads attempt')).toHaveLength(1);
    expect(second?.attributes['bulwark.call.attempts']).toBe(0);
    expect(second?.attributes['bulwark.outcome']).toBe('success');
  });

  it('marks a refused call: outcome rejected, error.type, status ERROR, and the shed as an event', async () => {
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const front = loadShedder({ name: 'front', limit: 1 });
    const held = front.execute(() => gate);
    await expect(front.execute(() => 'never')).rejects.toThrow();
    release();
    await held;

    const refused = spansNamed('front').find(
      (span) => span.attributes['bulwark.outcome'] === 'rejected',
    );
    expect(refused?.attributes['error.type']).toBe('LoadShedError');
    expect(refused?.status.code).toBe(SpanStatusCode.ERROR);
    expect(eventsOf(refused)).toEqual([
      {
        name: 'bulwark.load_shedder.shed',
        attributes: {
          'bulwark.load_shedder.reason': 'capacity',
          'bulwark.load_shedder.priority': 'critical',
        },
      },
    ]);
  });

  it('shows a timeout as an event with its budget on the span it ended', async () => {
    const clock = new VirtualClock();
    const slow = timeout(250, { name: 'slow', clock });
    const call = slow.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    const seen = expect(call).rejects.toThrow('Timed out');
    await clock.advance(250);
    await seen;

    const [span] = spansNamed('slow');
    const [attempt] = spansNamed('slow attempt');
    expect(span?.attributes['bulwark.outcome']).toBe('rejected');
    expect(span?.attributes['error.type']).toBe('TimeoutError');
    expect(eventsOf(span)).toEqual([
      { name: 'bulwark.timeout', attributes: { 'bulwark.timeout.duration': 0.25 } },
    ]);
    expect(eventsOf(attempt)).toEqual([
      { name: 'bulwark.timeout', attributes: { 'bulwark.timeout.duration': 0.25 } },
    ]);
  });

  it('shows a hedge as an event, and its attempts as overlapping children', async () => {
    const clock = new VirtualClock();
    const reads = hedge({ name: 'reads', delayMs: 50, clock });
    let runs = 0;
    const call = reads.execute(({ signal }) => {
      runs++;
      if (runs === 1) {
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        );
      }
      return 'fast';
    });
    await clock.advance(50);
    await expect(call).resolves.toBe('fast');

    const [span] = spansNamed('reads');
    const attempts = spansNamed('reads attempt');
    expect(eventsOf(span)).toEqual([
      { name: 'bulwark.hedge', attributes: { 'bulwark.attempt.number': 2 } },
    ]);
    expect(attempts.map((a) => a.attributes['bulwark.attempt.number']).sort()).toEqual([1, 2]);
    expect(attempts.every((a) => parentOf(a) === idOf(span!))).toBe(true);
  });

  it('runs bulwark’s own timers outside every call’s context', async () => {
    const tracer = otel.tracerProvider.getTracer('app');
    const activeInTimer = await tracer.startActiveSpan('armed here', async (span) => {
      const seen = await new Promise<unknown>((resolve) => {
        systemClock.setTimeout(() => resolve(trace.getSpan(context.active())), 0);
      });
      span.end();
      return seen;
    });
    expect(activeInTimer).toBeUndefined();
  });

  it('waits for the attempts of at most 1,000 ended calls: a task that never settles is not kept for good', async () => {
    const clock = new VirtualClock();
    const impatient = timeout(10, { name: 'stuck', strategy: 'aggressive', clock });
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 1_001; i++) {
      calls.push(impatient.execute(() => new Promise(() => {})).catch(() => {}));
    }
    await clock.advance(10);
    await Promise.all(calls);
    expect(spansNamed('stuck')).toHaveLength(1_001);
    // The oldest call's attempt is ended when the 1,001st call leaves one open too.
    expect(spansNamed('stuck attempt')).toHaveLength(1);
  });

  it('stops when disposed: ends the spans still open, and makes no more', async () => {
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const policy = retry({ name: 'jobs', maxAttempts: 1 });
    const running = policy.execute(() => gate);
    stop();
    expect(spansNamed('jobs').length + spansNamed('jobs attempt').length).toBe(2);
    release();
    await running;
    await policy.execute(() => 'again');
    expect(otel.spans()).toHaveLength(2);
  });
});
