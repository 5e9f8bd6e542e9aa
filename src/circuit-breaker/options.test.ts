import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { type CircuitBreakerOptions, circuitBreaker } from './index.js';

const build = (options: unknown) => () => circuitBreaker(options as CircuitBreakerOptions);

describe('circuitBreaker: option validation', () => {
  it('needs an options object with exactly one opening rule', () => {
    expect(build(5)).toThrow(/circuit-breaker: options must be an object \(got 5\)/);
    expect(build(null)).toThrow(/options must be an object/);
    expect(build(undefined)).toThrow(
      /an opening rule is required: set option "consecutiveFailures" or option "window"/,
    );
    expect(build({})).toThrow(TypeError);
    expect(build({ consecutiveFailures: 3, window: { type: 'count', size: 10 } })).toThrow(
      /options "consecutiveFailures" and "window" cannot be combined/,
    );
  });

  it.each([
    [{ consecutiveFailures: 0 }, /option "consecutiveFailures" must be an integer >= 1 \(got 0\)/],
    [{ consecutiveFailures: 1.5 }, /"consecutiveFailures" must be an integer >= 1/],
    [
      { consecutiveFailures: 2, failureRate: 0.5 },
      /option "failureRate" applies to a sliding window/,
    ],
    [
      { consecutiveFailures: 2, minimumCalls: 3 },
      /option "minimumCalls" applies to a sliding window/,
    ],
    [
      { consecutiveFailures: 2, slowCall: { ms: 1, rate: 1 } },
      /option "slowCall" applies to a sliding window/,
    ],
    [{ window: 'count' }, /option "window" must be an object \(got "count"\)/],
    [{ window: { type: 'sliding' } }, /option "window.type" must be one of 'count', 'time'/],
    [
      { window: { type: 'count', size: 0 } },
      /option "window.size" must be an integer from 1 to 1000000 \(got 0\)/,
    ],
    // Used to pass, then made every call reject with a RangeError (array allocation).
    [
      { window: { type: 'count', size: 2 ** 36 } },
      /option "window.size" must be an integer from 1 to 1000000/,
    ],
    [
      { window: { type: 'time', ms: 0 } },
      /option "window.ms" must be a finite number of milliseconds >= 1 \(got 0\)/,
    ],
    // Used to pass, then spun at 100% CPU for ever on the first call.
    [
      { window: { type: 'time', ms: 0.001 } },
      /option "window.ms" must be a finite number of milliseconds >= 1/,
    ],
    [{ window: { type: 'time', ms: Number.POSITIVE_INFINITY } }, /option "window.ms"/],
    [
      { window: { type: 'time', ms: 1000, buckets: 0 } },
      /option "window.buckets" must be an integer from 1 to 1000 \(got 0\)/,
    ],
    [
      { window: { type: 'time', ms: 60_000, buckets: 2 ** 31 } },
      /option "window.buckets" must be an integer from 1 to 1000/,
    ],
    [
      { window: { type: 'time', ms: 50, buckets: 51 } },
      /option "window.buckets" must be an integer from 1 to 50 \(each bucket must span at least 1 ms of window.ms\) \(got 51\)/,
    ],
    [
      { window: { type: 'count', size: 10 }, failureRate: 0 },
      /option "failureRate" must be a number greater than 0 and at most 1 \(got 0\)/,
    ],
    [{ window: { type: 'count', size: 10 }, failureRate: 1.2 }, /option "failureRate"/],
    [
      { window: { type: 'count', size: 10 }, minimumCalls: 11 },
      /option "minimumCalls" must be an integer from 1 to the window size 10 \(got 11\)/,
    ],
    [
      { window: { type: 'time', ms: 1000 }, minimumCalls: 0 },
      /option "minimumCalls" must be an integer >= 1/,
    ],
    [{ window: { type: 'count', size: 10 }, slowCall: 100 }, /option "slowCall" must be an object/],
    [
      { window: { type: 'count', size: 10 }, slowCall: { ms: -1, rate: 0.5 } },
      /option "slowCall.ms" must be a finite number of milliseconds > 0/,
    ],
    [
      { window: { type: 'count', size: 10 }, slowCall: { ms: 100 } },
      /option "slowCall.rate" must be a number greater than 0 and at most 1 \(got undefined\)/,
    ],
    [
      { consecutiveFailures: 1, breakDurationMs: -5 },
      /option "breakDurationMs" must be a number of milliseconds >= 0/,
    ],
    [{ consecutiveFailures: 1, breakDurationMs: '1s' }, /option "breakDurationMs"/],
    [
      { consecutiveFailures: 1, halfOpen: { probes: 0 } },
      /option "halfOpen.probes" must be an integer >= 1/,
    ],
    [
      { consecutiveFailures: 1, halfOpen: { maxMs: Number.POSITIVE_INFINITY } },
      /option "halfOpen.maxMs" must be a finite number of milliseconds > 0/,
    ],
    [{ consecutiveFailures: 1, halfOpen: [] }, /option "halfOpen" must be an object/],
    [
      { consecutiveFailures: 1, halfOpen: { probes: 5, failureRate: 0 } },
      /option "halfOpen.failureRate" must be a number greater than 0 and at most 1 \(got 0\)/,
    ],
    [{ consecutiveFailures: 1, halfOpen: { failureRate: 1.5 } }, /option "halfOpen.failureRate"/],
    [{ consecutiveFailures: 1, halfOpen: { failureRate: '0.5' } }, /option "halfOpen.failureRate"/],
    [
      { consecutiveFailures: 1, mode: 'off' },
      /option "mode" must be one of 'enforcing', 'metrics-only' \(got "off"\)/,
    ],
    [{ consecutiveFailures: 1, mode: 'disabled' }, /option "mode" must be one of/],
    [
      { consecutiveFailures: 1, failureOn: true },
      /option "failureOn" must be a function \(got true\)/,
    ],
    [{ consecutiveFailures: 1, clock: {} }, /option "clock" must be a Clock/],
    [{ consecutiveFailures: 1, name: '' }, /option "name" must be a non-empty string/],
  ])('refuses %j', (options, message) => {
    expect(build(options)).toThrow(TypeError);
    expect(build(options)).toThrow(message);
  });

  it('accepts the bounds of a window', async () => {
    const clock = new VirtualClock();
    const largest = circuitBreaker({ window: { type: 'count', size: 1_000_000 }, clock });
    await expect(largest.execute(() => 'ok')).resolves.toBe('ok');
    const finest = circuitBreaker({ window: { type: 'time', ms: 1_000, buckets: 1_000 }, clock });
    await expect(finest.execute(() => 'ok')).resolves.toBe('ok');
    const shortest = circuitBreaker({ window: { type: 'time', ms: 1 }, minimumCalls: 1, clock });
    await expect(shortest.execute(() => 'ok')).resolves.toBe('ok');
    // The default of 10 buckets shrinks to fit a window shorter than 10 ms.
    const short = circuitBreaker({ window: { type: 'time', ms: 5.5 }, clock });
    expect(short.toJSON().window).toEqual({ type: 'time', ms: 5.5, buckets: 5, slots: [] });
  });

  it('names the breaker in its messages', () => {
    expect(build({ name: 'payments', consecutiveFailures: -1 })).toThrow(
      /^payments: option "consecutiveFailures"/,
    );
  });

  it('does not mutate the options and accepts frozen ones', () => {
    const options = Object.freeze({
      window: Object.freeze({ type: 'time', ms: 1_000 } as const),
      slowCall: Object.freeze({ ms: 10, rate: 0.5 }),
      halfOpen: Object.freeze({ probes: 2 }),
      clock: new VirtualClock(),
    });
    const copy = JSON.stringify(options);
    const breaker = circuitBreaker(options);
    expect(JSON.stringify(options)).toBe(copy);
    expect(breaker.state).toBe('closed');
  });

  it('breakers with the same settings behave independently', async () => {
    const options = { consecutiveFailures: 1 };
    const a = circuitBreaker(options);
    const b = circuitBreaker({ consecutiveFailures: 1 });
    await a
      .execute(() => {
        throw new Error('boom');
      })
      .catch(() => {});
    expect(a.state).toBe('open');
    expect(b.state).toBe('closed');
  });
});
