import { describe, expect, it } from 'vitest';
import { telemetry } from '../telemetry.js';
import { VirtualClock } from '../testing/index.js';
import { defaultThresholds, type LoadShedderEvents, loadShedder } from './index.js';
import { flush, harness } from './test-helpers.js';

describe('loadShedder options', () => {
  it.each([
    [{}, 'load-shedder: option "limit" must be an integer >= 1 (got undefined)'],
    [{ limit: 0 }, 'option "limit" must be an integer >= 1 (got 0)'],
    [{ limit: { current: 1 } }, 'option "limit" must be an integer >= 1 (got {"current":1})'],
    [{ limit: 1, queue: -1 }, 'option "queue" must be an integer >= 0 (got -1)'],
    [{ limit: 1, queue: Infinity }, 'option "queue" must be an integer >= 0 (got Infinity)'],
    [{ limit: 1, queueTimeoutMs: -5 }, 'option "queueTimeoutMs" must be a number of milliseconds'],
    [{ limit: 1, codel: 'on' }, 'option "codel" must be a boolean or { targetMs, intervalMs }'],
    [{ limit: 1, codel: { targetMs: 0 } }, 'option "codel.targetMs" must be a finite number'],
    [{ limit: 1, codel: { intervalMs: Infinity } }, 'option "codel.intervalMs" must be a finite'],
    [{ limit: 1, lifo: 1 }, 'option "lifo" must be a boolean (got 1)'],
    [{ limit: 1, thresholds: 0.5 }, 'option "thresholds" must be an object of priority'],
    [{ limit: 1, thresholds: { urgent: 1 } }, 'option "thresholds" must be keyed by priorities'],
    [
      { limit: 1, thresholds: { sheddable: 1.5 } },
      'option "thresholds.sheddable" must be a number from 0 to 1 (got 1.5)',
    ],
    [{ limit: 1, pressure: {} }, 'option "pressure" must be an object with at least one of'],
    [{ limit: 1, pressure: { eventLoopDelayMs: -1 } }, 'option "pressure.eventLoopDelayMs"'],
    [
      { limit: 1, pressure: { eventLoopUtilization: 2 } },
      'option "pressure.eventLoopUtilization" must be a number from 0 to 1',
    ],
    [
      { limit: 1, pressure: { heapUsedRatio: 0.9, sampleIntervalMs: 0 } },
      'option "pressure.sampleIntervalMs"',
    ],
    [
      { limit: 1, pressureSource: () => ({}) },
      'option "pressure" must be set when "pressureSource" is',
    ],
    [
      { limit: 1, pressure: { heapUsedRatio: 0.9 }, pressureSource: 5 },
      'option "pressureSource" must be a function (got 5)',
    ],
    [{ limit: 1, clock: {} }, 'option "clock" must be a Clock'],
    [{ limit: 1, name: '' }, 'option "name" must be a non-empty string'],
  ])('refuses %j', (options, message) => {
    expect(() => loadShedder(options as never)).toThrow(TypeError);
    expect(() => loadShedder(options as never)).toThrow(message);
  });

  it('refuses a non-object', () => {
    expect(() => loadShedder(3 as never)).toThrow('loadShedder: options must be an object (got 3)');
  });

  it('names the policy in its option errors', () => {
    expect(() => loadShedder({ name: 'api', limit: 1.5 })).toThrow(
      'api: option "limit" must be an integer >= 1 (got 1.5)',
    );
  });

  it('has documented defaults and never changes the options object', () => {
    const options = Object.freeze({ limit: 3, thresholds: Object.freeze({ sheddable: 0.5 }) });
    const policy = loadShedder(options);
    expect(policy.name).toBe('load-shedder');
    expect(policy.queueLimit).toBe(0);
    expect(policy.queueTimeoutMs).toBe(Number.POSITIVE_INFINITY);
    expect(policy.limit).toBe(3);
    expect(defaultThresholds).toEqual({
      'critical-plus': 1,
      critical: 1,
      'sheddable-plus': 0.9,
      sheddable: 0.8,
    });
    expect(options).toEqual({ limit: 3, thresholds: { sheddable: 0.5 } });
  });
});

describe('loadShedder events', () => {
  it('emits queued, dequeued and shed with the key and priority, also on the telemetry bus', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ name: 'api', limit: 1, queue: 1, queueTimeoutMs: 50, clock });
    const seen: unknown[] = [];
    for (const type of ['queued', 'dequeued', 'shed'] as const) {
      policy.on(type, (detail: LoadShedderEvents[typeof type]) => seen.push({ type, ...detail }));
    }
    const bus: string[] = [];
    const off = telemetry.subscribe((event) => {
      if (event.kind === 'load-shedder' && event.policy === 'api') bus.push(event.type);
    });
    const { call, open } = harness(policy);
    const a = call('a');
    const b = call('b', 'sheddable-plus').catch((e: { reason: string }) => e.reason);
    const c = call('c');
    expect(await b).toBe('evicted');
    await clock.advance(20);
    open('a');
    await a;
    await flush();
    open('c');
    await expect(c).resolves.toBe('c');
    off();
    expect(seen).toEqual([
      { type: 'queued', key: 'b', priority: 'sheddable-plus', running: 1, queued: 1 },
      { type: 'dequeued', key: 'b', priority: 'sheddable-plus', waitedMs: 0, result: 'evicted' },
      {
        type: 'shed',
        key: 'b',
        priority: 'sheddable-plus',
        reason: 'evicted',
        running: 1,
        queued: 0,
        retryAfterMs: undefined,
      },
      { type: 'queued', key: 'c', priority: 'critical', running: 1, queued: 1 },
      { type: 'dequeued', key: 'c', priority: 'critical', waitedMs: 20, result: 'started' },
    ]);
    expect(bus).toEqual(['queued', 'dequeued', 'shed', 'queued', 'dequeued']);
  });
});
