import { describe, expect, it } from 'vitest';
import { circuitBreaker } from '../circuit-breaker/index.js';
import { VirtualClock } from '../testing/index.js';
import {
  breakerCheck,
  type DelayHistogram,
  delayCheck,
  eventLoopDelayCheck,
  heapCheck,
  heapRatioCheck,
} from './checks.js';
import { healthRegistry } from './registry.js';

const signal = new AbortController().signal;

describe('breakerCheck', () => {
  it('passes closed, warns half-open, fails open and isolated', () => {
    const breaker = { state: 'closed', name: 'payments' };
    const check = breakerCheck(breaker);
    expect(check(signal)).toEqual({ status: 'pass', observedValue: 'closed' });
    breaker.state = 'half-open';
    expect(check(signal)).toEqual({
      status: 'warn',
      observedValue: 'half-open',
      output: 'circuit breaker "payments" is half-open',
    });
    breaker.state = 'open';
    expect(check(signal)).toMatchObject({
      status: 'fail',
      output: 'circuit breaker "payments" is open',
    });
    breaker.state = 'isolated';
    expect(check(signal)).toMatchObject({
      status: 'fail',
      output: 'circuit breaker "payments" is isolated',
    });
    expect(breakerCheck({ state: 'open' })(signal)).toMatchObject({
      output: 'circuit breaker is open',
    });
    expect(() => breakerCheck({} as never)).toThrow(TypeError);
    expect(() => breakerCheck(null as never)).toThrow(/must be an object with a string "state"/);
  });

  it('reads a real circuit breaker through its state', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ name: 'inventory', clock, consecutiveFailures: 2 });
    const registry = healthRegistry({ clock });
    registry.register('inventory', breakerCheck(breaker), { critical: false });
    expect((await registry.run()).status).toBe('pass');
    const isolation = breaker.isolate();
    const report = await registry.run();
    expect(report.status).toBe('warn');
    expect(report.checks.inventory![0]).toMatchObject({
      status: 'fail',
      output: 'circuit breaker "inventory" is isolated',
    });
    isolation();
    expect((await registry.run()).status).toBe('pass');
  });
});

/** A histogram whose numbers the test sets. */
function fakeHistogram() {
  const state = { enabled: false, created: 0, count: 0, p: 0, asked: 0, resets: 0 };
  const create = (resolutionMs: number): DelayHistogram => {
    state.created++;
    expect(resolutionMs).toBe(20);
    return {
      enable: () => {
        state.enabled = true;
        return true;
      },
      disable: () => {
        state.enabled = false;
        return true;
      },
      reset: () => {
        state.resets++;
        state.count = 0;
      },
      percentile: (p) => {
        state.asked = p;
        return state.p;
      },
      get count() {
        return state.count;
      },
    };
  };
  return { state, create };
}

describe('eventLoopDelayCheck', () => {
  it('starts the monitor lazily, judges the percentile since the last run, and stops', () => {
    const fake = fakeHistogram();
    const check = delayCheck(
      { maxMs: 100, warnMs: 50, percentile: 90, resolutionMs: 20 },
      fake.create,
    );
    expect(fake.state.created).toBe(0);
    expect(check(signal)).toEqual({ status: 'pass', observedUnit: 'ms', output: 'no samples yet' });
    expect(fake.state.enabled).toBe(true);
    fake.state.count = 10;
    fake.state.p = 12.345e6;
    expect(check(signal)).toEqual({ status: 'pass', observedValue: 12.35, observedUnit: 'ms' });
    expect([fake.state.asked, fake.state.resets]).toEqual([90, 1]);
    fake.state.count = 10;
    fake.state.p = 60e6;
    expect(check(signal)).toMatchObject({
      status: 'warn',
      output: 'event loop delay p90 over 50 ms',
    });
    fake.state.count = 10;
    fake.state.p = 150e6;
    expect(check(signal)).toMatchObject({ status: 'fail', observedValue: 150 });
    check.stop();
    expect(fake.state.enabled).toBe(false);
    check.stop();
    check(signal);
    expect([fake.state.created, fake.state.enabled]).toEqual([2, true]);
    check.stop();
  });

  it('validates its options', () => {
    expect(() => eventLoopDelayCheck({} as never)).toThrow(/option "maxMs"/);
    expect(() => eventLoopDelayCheck({ maxMs: 10, warnMs: 20 })).toThrow(/option "warnMs"/);
    expect(() => eventLoopDelayCheck({ maxMs: 10, percentile: 0 })).toThrow(/option "percentile"/);
    expect(() => eventLoopDelayCheck({ maxMs: 10, resolutionMs: 0.5 })).toThrow(/"resolutionMs"/);
  });

  it('runs on the real perf_hooks monitor', () => {
    const check = eventLoopDelayCheck({ maxMs: 60_000 });
    expect(check(signal)).toMatchObject({ status: 'pass' });
    check.stop();
  });
});

describe('heapCheck', () => {
  it('judges used heap over the heap limit', () => {
    const stats = { used_heap_size: 50, heap_size_limit: 100 };
    const check = heapRatioCheck({ maxUsedRatio: 0.9, warnUsedRatio: 0.7 }, () => stats);
    expect(check(signal)).toEqual({ status: 'pass', observedValue: 0.5, observedUnit: 'ratio' });
    stats.used_heap_size = 80;
    expect(check(signal)).toMatchObject({
      status: 'warn',
      output: 'heap use over 0.7 of its limit',
    });
    stats.used_heap_size = 95;
    expect(check(signal)).toMatchObject({ status: 'fail', observedValue: 0.95 });
  });

  it('reads v8 heap statistics, and validates its options', () => {
    expect(heapCheck({ maxUsedRatio: 1 })(signal)).toMatchObject({ status: 'pass' });
    expect(heapCheck({ maxUsedRatio: 0 })(signal)).toMatchObject({ status: 'fail' });
    expect(() => heapCheck({ maxUsedRatio: 2 })).toThrow(/option "maxUsedRatio"/);
    expect(() => heapCheck({ maxUsedRatio: 0.5, warnUsedRatio: 0.6 })).toThrow(/"warnUsedRatio"/);
  });
});
