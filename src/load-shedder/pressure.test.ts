import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import {
  type LoadShedderEvents,
  loadShedder,
  type PressureReading,
  processPressure,
} from './index.js';

function setup(reading: { current: PressureReading | (() => PressureReading) }) {
  const clock = new VirtualClock();
  let reads = 0;
  const policy = loadShedder({
    limit: 4,
    pressure: { eventLoopDelayMs: 50, heapUsedRatio: 0.9, sampleIntervalMs: 100 },
    pressureSource: () => {
      reads++;
      const r = reading.current;
      return typeof r === 'function' ? r() : r;
    },
    clock,
  });
  const changes: LoadShedderEvents['pressure'][] = [];
  policy.on('pressure', (detail) => changes.push(detail));
  return { clock, policy, changes, reads: () => reads };
}

describe('loadShedder: pressure', () => {
  it('samples on one unref-ed timer and sheds sheddable calls while a threshold is reached', async () => {
    const reading: { current: PressureReading } = { current: { eventLoopDelayMs: 10 } };
    const { clock, policy, changes, reads } = setup(reading);
    expect(clock.armedTimers).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(100);
    expect(reads()).toBe(1);
    expect(policy.underPressure).toBe(false);
    await expect(policy.execute(() => 'ok', { priority: 'sheddable' })).resolves.toBe('ok');

    reading.current = { eventLoopDelayMs: 50, heapUsedRatio: 0.5 };
    await clock.advance(100);
    expect(policy.underPressure).toBe(true);
    expect(changes).toEqual([{ underPressure: true, reading: reading.current }]);
    for (const priority of ['sheddable', 'sheddable-plus'] as const) {
      await expect(policy.execute(() => 'no', { priority, key: 'k' })).rejects.toMatchObject({
        code: 'LOAD_SHED',
        reason: 'pressure',
        priority,
        retryAfterMs: 100,
        message: `load-shedder shed a ${priority} call: the process is under pressure (0 of 4 running, 0 of 0 queued)`,
      });
    }
    await expect(policy.execute(() => 'yes')).resolves.toBe('yes');
    await expect(policy.execute(() => 'yes', { priority: 'critical-plus' })).resolves.toBe('yes');
    expect(policy.stats()).toMatchObject({
      underPressure: true,
      byPriority: { sheddable: { shed: 1 }, 'sheddable-plus': { shed: 1 } },
    });

    // The heap alone is enough too; below every threshold, pressure is off again.
    reading.current = { heapUsedRatio: 0.95 };
    await clock.advance(100);
    expect(changes).toHaveLength(1);
    reading.current = { eventLoopDelayMs: 49.9, heapUsedRatio: 0.2, eventLoopUtilization: 1 };
    await clock.advance(100);
    expect(policy.underPressure).toBe(false);
    expect(changes.at(-1)).toEqual({ underPressure: false, reading: reading.current });
    await expect(policy.execute(() => 'ok', { priority: 'sheddable' })).resolves.toBe('ok');
    expect(clock.armedTimers).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('close() stops sampling for good and lifts the pressure', async () => {
    const reading = { current: { eventLoopDelayMs: 500 } as PressureReading };
    const { clock, policy, changes, reads } = setup(reading);
    await clock.advance(100);
    expect(policy.underPressure).toBe(true);
    policy.close();
    expect(clock.armedTimers).toBe(0);
    expect(policy.underPressure).toBe(false);
    expect(changes.map((c) => c.underPressure)).toEqual([true, false]);
    await clock.advance(1_000);
    expect(reads()).toBe(1);
    await expect(policy.execute(() => 'ok', { priority: 'sheddable' })).resolves.toBe('ok');
    policy.close();
  });

  it('counts a source that throws or answers nonsense as no pressure, and keeps sampling', async () => {
    const reading: { current: () => PressureReading } = {
      current: () => ({ eventLoopDelayMs: 80 }),
    };
    const { clock, policy } = setup(reading);
    await clock.advance(100);
    expect(policy.underPressure).toBe(true);
    reading.current = () => {
      throw new Error('sensor down');
    };
    await clock.advance(100);
    expect(policy.underPressure).toBe(false);
    reading.current = () => null as unknown as PressureReading;
    await clock.advance(100);
    expect(policy.underPressure).toBe(false);
    reading.current = () => ({ eventLoopDelayMs: Number.NaN, heapUsedRatio: '1' as never });
    await clock.advance(100);
    expect(policy.underPressure).toBe(false);
    reading.current = () => ({ eventLoopDelayMs: 80 });
    await clock.advance(100);
    expect(policy.underPressure).toBe(true);
    policy.close();
  });

  it('closes through Symbol.dispose too', async () => {
    const clock = new VirtualClock();
    {
      using policy = loadShedder({
        limit: 1,
        pressure: { eventLoopUtilization: 0.9 },
        pressureSource: () => ({ eventLoopUtilization: 1 }),
        clock,
      });
      await clock.advance(1_000);
      expect(policy.underPressure).toBe(true);
      expect(clock.armedTimers).toBe(1);
    }
    expect(clock.armedTimers).toBe(0);
  });

  it('arms nothing without `pressure`', () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, queue: 1, clock });
    expect(clock.armedTimers).toBe(0);
    expect(policy.underPressure).toBe(false);
    policy.close();
  });

  it("reads the process's own event loop and heap by default", () => {
    const source = processPressure();
    try {
      const reading = source.read();
      expect(reading.eventLoopDelayMs).toBeGreaterThanOrEqual(0);
      expect(reading.eventLoopUtilization).toBeGreaterThanOrEqual(0);
      expect(reading.eventLoopUtilization).toBeLessThanOrEqual(1);
      expect(reading.heapUsedRatio).toBeGreaterThan(0);
      expect(reading.heapUsedRatio).toBeLessThan(1);
    } finally {
      source.close();
    }
  });

  it('samples the default source through the policy clock, unref-ed, until closed', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, pressure: { heapUsedRatio: 0.99 }, clock });
    expect([clock.armedTimers, clock.pendingTimers]).toEqual([1, 0]);
    await clock.advance(1_000);
    expect(policy.underPressure).toBe(false);
    expect(clock.armedTimers).toBe(1);
    policy.close();
    expect(clock.armedTimers).toBe(0);
  });
});
