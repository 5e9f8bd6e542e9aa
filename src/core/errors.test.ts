import { describe, expect, it } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ExecutionRejectedError,
  FeatureDegradedError,
  HedgeLostError,
  IsolatedCircuitError,
  LoadShedError,
  RateLimitedError,
  ResilienceError,
  ThrottledError,
  TimeoutError,
} from './errors.js';

describe('errors', () => {
  it.each([
    [new ResilienceError('r'), 'ResilienceError', 'RESILIENCE', false],
    [new ExecutionRejectedError('e'), 'ExecutionRejectedError', 'EXECUTION_REJECTED', true],
    [new BrokenCircuitError('open', 250), 'BrokenCircuitError', 'CIRCUIT_OPEN', true],
    [new IsolatedCircuitError(), 'IsolatedCircuitError', 'CIRCUIT_ISOLATED', true],
    [new TimeoutError(100), 'TimeoutError', 'TIMEOUT', true],
    [new BulkheadRejectedError('full', 2, 3), 'BulkheadRejectedError', 'BULKHEAD_FULL', true],
    [new RateLimitedError('limited', 10, 5, 0, 'k'), 'RateLimitedError', 'RATE_LIMITED', true],
    [new LoadShedError('shed', 'codel', 'sheddable', 5), 'LoadShedError', 'LOAD_SHED', true],
    [new ThrottledError('throttled', 0.5), 'ThrottledError', 'THROTTLED', true],
    [
      new FeatureDegradedError('off', 'ranking', 'disabled'),
      'FeatureDegradedError',
      'FEATURE_DEGRADED',
      true,
    ],
    [new HedgeLostError(2), 'HedgeLostError', 'HEDGE_LOST', false],
  ] as const)(
    '%s has its name, a stable code and its place in the hierarchy',
    (error, name, code, rejection) => {
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(ResilienceError);
      expect(error instanceof ExecutionRejectedError).toBe(rejection);
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(error.stack?.startsWith(`${name}: `)).toBe(true);
    },
  );

  it('carries each refusal detail', () => {
    expect(new BrokenCircuitError('open', 250).retryAfterMs).toBe(250);
    expect(new BrokenCircuitError().message).toBe('Circuit breaker is open');
    expect(new IsolatedCircuitError().retryAfterMs).toBeUndefined();
    const cause = new Error('socket hang up');
    const timeout = new TimeoutError(100, { cause });
    expect(timeout).toMatchObject({ timeoutMs: 100, message: 'Timed out after 100 ms', cause });
    expect(new BulkheadRejectedError('full', 2, 3)).toMatchObject({ running: 2, queued: 3 });
    const degraded = new FeatureDegradedError('off', 'ranking', 'disabled');
    expect(degraded).toMatchObject({ feature: 'ranking', reason: 'disabled', retryable: false });
    const cut = new TimeoutError(99.968017578125);
    expect(cut.message).toBe('Timed out after 100 ms');
    expect(cut.timeoutMs).toBe(99.968017578125);
    expect(new TimeoutError(12.34).message).toBe('Timed out after 12.3 ms');
  });

  it('keeps code read-only', () => {
    const error = new TimeoutError(1) as { code: string };
    expect(() => {
      error.code = 'OTHER';
    }).toThrow(TypeError);
  });
});
