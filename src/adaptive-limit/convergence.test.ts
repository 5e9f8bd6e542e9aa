import { describe, expect, it } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import { LoadShedError } from '../core/errors.js';
import { VirtualClock } from '../testing/index.js';
import { type AdaptiveLimitOptions, adaptiveLimit } from './index.js';

/**
 * Proof 5 of issue #8, in a small model: `clients` callers each call a dependency through a
 * bulkhead with an adaptive limit, one call after another, in virtual time. The dependency
 * serves `capacity` calls at once in `BASE_MS`; beyond that every call slows in proportion, as
 * behind a queue inside it: rtt = BASE_MS * max(1, inflight / capacity), fixed when the call
 * starts. Its throughput tops out at capacity / BASE_MS and only latency grows past it. With
 * `refuseAbove`, it also refuses (LoadShedError, a drop) any call that finds that many running.
 *
 * The capacity starts at 100, halves to 50, then doubles back to 100, each phase 20 000 samples
 * long. For each phase the run records after how many samples the limit first came within 20%
 * of the capacity, and the share of the phase's samples it spent there.
 */
const BASE_MS = 10;
const PHASE = 20_000;
const CAPACITIES = [100, 50, 100];

interface Phase {
  /** Samples into the phase when the limit first came within 20% of the capacity. */
  readonly reached: number | undefined;
  /** Share of the phase's samples taken while the limit was within 20% of the capacity. */
  readonly held: number;
  /** The limit at the end of the phase. */
  readonly end: number;
}

async function run(options: AdaptiveLimitOptions, refuseAbove?: number): Promise<Phase[]> {
  const clock = new VirtualClock();
  const limit = adaptiveLimit(options);
  const pool = bulkhead({ limit, queue: Number.POSITIVE_INFINITY, clock });
  let capacity = CAPACITIES[0] as number;
  let inflight = 0;
  let samples = 0;
  let stopped = false;
  const reached: (number | undefined)[] = [];
  const inside: number[] = [];
  const ends: number[] = [];

  const call = (): Promise<void> => {
    if (refuseAbove !== undefined && inflight >= refuseAbove * capacity) {
      return Promise.reject(new LoadShedError('dependency full', 'capacity', 'critical'));
    }
    inflight++;
    const rtt = BASE_MS * Math.max(1, inflight / capacity);
    return new Promise((resolve) => {
      clock.setTimeout(() => {
        inflight--;
        resolve();
      }, rtt);
    });
  };
  const settled = (): void => {
    const phase = Math.floor(samples / PHASE);
    if (phase >= CAPACITIES.length) return;
    capacity = CAPACITIES[phase] as number;
    samples++;
    if (Math.abs(limit.current - capacity) <= 0.2 * capacity) {
      inside[phase] = (inside[phase] ?? 0) + 1;
      reached[phase] ??= samples - phase * PHASE;
    }
    if (samples % PHASE === 0) ends[phase] = limit.current;
  };
  const client = async (): Promise<void> => {
    while (!stopped) await pool.execute(call).then(settled, settled);
  };
  for (let i = 0; i < 300; i++) void client();

  while (samples < CAPACITIES.length * PHASE) await clock.next();
  stopped = true;
  const phases = CAPACITIES.map((_, i) => ({
    reached: reached[i],
    held: (inside[i] ?? 0) / PHASE,
    end: ends[i] as number,
  }));
  await clock.runAll();
  return phases;
}

const wide = { initial: 20, min: 1, max: 400 } as const;

describe('adaptive limits in a closed loop whose capacity halves, then doubles', () => {
  it('aimd, with a dependency that refuses what it cannot hold: reaches each capacity within 100 samples and holds it', async () => {
    const phases = await run({ algorithm: 'aimd', ...wide }, 1.1);
    for (const phase of phases) {
      expect(phase.reached).toBeLessThanOrEqual(100);
      expect(phase.held).toBeGreaterThan(0.99);
    }
  });

  it('aimd, with timeouts as its only signal: sweeps through each capacity within 200 samples but spends under a fifth of the time near it', async () => {
    const phases = await run({ algorithm: 'aimd', ...wide, timeoutMs: 1.5 * BASE_MS });
    for (const phase of phases) {
      expect(phase.reached).toBeLessThanOrEqual(200);
      expect(phase.held).toBeLessThan(0.2);
    }
  });

  it('vegas: reaches each capacity within 100 samples, then oscillates around it', async () => {
    const phases = await run({ algorithm: 'vegas', ...wide, random: () => 0.5 });
    for (const phase of phases) {
      expect(phase.reached).toBeLessThanOrEqual(100);
      expect(phase.held).toBeGreaterThan(0.05);
      expect(phase.held).toBeLessThan(0.5);
    }
  });

  it('gradient2: latency that stays high reads as normal, so the limit climbs to max and stays', async () => {
    const phases = await run({ algorithm: 'gradient2', ...wide });
    expect(phases.map((phase) => phase.end)).toEqual([400, 400, 400]);
    expect(phases[2]?.reached).toBeUndefined();
  });
});
