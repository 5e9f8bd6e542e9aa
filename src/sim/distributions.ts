import { invalid } from '../core/validate.js';
import { exponential, normal, type Random } from './random.js';

/** A distribution of durations in milliseconds, sampled with the simulation's random source. */
export interface Distribution {
  /** One duration in milliseconds, >= 0 and finite. */
  sample(random: Random): number;
  /** The distribution's mean, in milliseconds: how capacity in calls per second is derived. */
  readonly meanMs: number;
  /** A short description for tables, e.g. 'logNormal(median 20, p99 80)'. */
  readonly label: string;
}

/** The 99th percentile of the standard normal distribution. */
const Z99 = 2.3263478740408408;

function checkPositive(name: string, option: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > min)) {
    throw invalid(name, option, value, `a finite number of milliseconds > ${min}`);
  }
  return value;
}

/** Builders of latency (or think-time) distributions. */
export const latency = {
  /** Always `ms` (>= 0). */
  constant(ms: number): Distribution {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw invalid('latency.constant', 'ms', ms, 'a finite number of milliseconds >= 0');
    }
    return { sample: () => ms, meanMs: ms, label: `constant(${ms})` };
  },

  /** Exponential with mean `meanMs`: memoryless service times, as in an M/M/c queue. */
  exponential(options: { meanMs: number }): Distribution {
    const meanMs = checkPositive('latency.exponential', 'meanMs', options?.meanMs);
    return {
      sample: (random) => meanMs * exponential(random),
      meanMs,
      label: `exponential(mean ${meanMs})`,
    };
  },

  /**
   * Log-normal with the given median and 99th percentile (`p99Ms` > `medianMs`): the long right
   * tail that most services' latencies show.
   */
  logNormal(options: { medianMs: number; p99Ms: number }): Distribution {
    const medianMs = checkPositive('latency.logNormal', 'medianMs', options?.medianMs);
    const p99Ms = checkPositive('latency.logNormal', 'p99Ms', options?.p99Ms, medianMs);
    const mu = Math.log(medianMs);
    const sigma = (Math.log(p99Ms) - mu) / Z99;
    return {
      sample: (random) => Math.exp(mu + sigma * normal(random)),
      meanMs: Math.exp(mu + (sigma * sigma) / 2),
      label: `logNormal(median ${medianMs}, p99 ${p99Ms})`,
    };
  },

  /** One of `samplesMs`, each equally likely: replays latencies measured on a real service. */
  empirical(samplesMs: readonly number[]): Distribution {
    if (
      !Array.isArray(samplesMs) ||
      samplesMs.length === 0 ||
      !samplesMs.every((ms) => typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)
    ) {
      throw invalid(
        'latency.empirical',
        'samplesMs',
        samplesMs,
        'a non-empty array of finite numbers of milliseconds >= 0',
      );
    }
    const samples = Float64Array.from(samplesMs);
    let sum = 0;
    for (const ms of samples) sum += ms;
    return {
      sample: (random) => samples[Math.floor(random() * samples.length)]!,
      meanMs: sum / samples.length,
      label: `empirical(${samples.length} samples)`,
    };
  },
};

/** Whether `value` looks like a {@link Distribution}. */
export function isDistribution(value: unknown): value is Distribution {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Distribution).sample === 'function' &&
    typeof (value as Distribution).meanMs === 'number'
  );
}
