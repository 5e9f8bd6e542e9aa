import type { Priority } from '../core/context.js';
import { priorities } from '../core/context.js';
import type { ConcurrencyLimit } from '../core/limit.js';
import { isConcurrencyLimit } from '../core/limit.js';
import type { PolicyOptions } from '../core/policy.js';
import { checkFraction, checkFunction, checkInteger, checkMs, invalid } from '../core/validate.js';
import type { PressureReading } from './pressure.js';

/** CoDel on the queue; see {@link LoadShedderOptions.codel}. */
export interface CodelOptions {
  /** The queueing delay a standing queue may keep, in milliseconds (> 0). Default: 5. */
  targetMs?: number;
  /** How long the shortest delay must stay above target to count as overload (> 0). Default: 100. */
  intervalMs?: number;
}

/** When the process counts as under pressure; see {@link LoadShedderOptions.pressure}. */
export interface PressureOptions {
  /** Mean event-loop delay over a sampling period, in milliseconds (> 0). Default: not checked. */
  eventLoopDelayMs?: number;
  /** Share of a sampling period the event loop was busy, 0 to 1. Default: not checked. */
  eventLoopUtilization?: number;
  /** Used heap as a share of the heap's limit, 0 to 1. Default: not checked. */
  heapUsedRatio?: number;
  /** How often the measurements are taken, in milliseconds (> 0). Default: 1000. */
  sampleIntervalMs?: number;
}

export interface LoadShedderOptions extends PolicyOptions {
  /**
   * Most calls running at once: an integer >= 1, or a `ConcurrencyLimit` (an adaptive limit),
   * read at every admission and release and told how each call went. Required.
   */
  limit: number | ConcurrencyLimit;
  /** Most calls waiting for a slot: an integer >= 0. Default: 0 (no queue). */
  queue?: number;
  /** Longest a call may wait in the queue, in milliseconds (>= 0, or Infinity). Default: Infinity. */
  queueTimeoutMs?: number;
  /**
   * CoDel on the queue: once the shortest queueing delay over an interval stays above
   * `targetMs`, waiters older than twice the target are shed (reason 'codel') when a slot
   * frees. `false` turns it off. Default: on, `{ targetMs: 5, intervalMs: 100 }`.
   */
  codel?: boolean | CodelOptions;
  /**
   * Adaptive LIFO: serve each priority first in, first out while the queue keeps emptying, and
   * newest first once it has not been empty for a whole CoDel interval. Default: false.
   */
  lifo?: boolean;
  /**
   * Per priority, the occupancy `(running + queued) / (limit + queue)` at or above which its
   * new calls are refused (reason 'capacity'), each from 0 to 1. Missing priorities keep their
   * default: `{ 'critical-plus': 1, critical: 1, 'sheddable-plus': 0.9, sheddable: 0.8 }`.
   */
  thresholds?: Partial<Record<Priority, number>>;
  /**
   * Thresholds of process pressure; while any measurement is at or above its threshold, new
   * 'sheddable-plus' and 'sheddable' calls are refused (reason 'pressure'). Default: none (no
   * sampling at all).
   */
  pressure?: PressureOptions;
  /**
   * Where pressure measurements come from, called once per `sampleIntervalMs`. Default: the
   * process's own event-loop delay, event-loop utilization and heap use.
   */
  pressureSource?: () => PressureReading;
}

export const defaultThresholds: Readonly<Record<Priority, number>> = {
  'critical-plus': 1,
  critical: 1,
  'sheddable-plus': 0.9,
  sheddable: 0.8,
};

/** The options of one shedder, checked, with defaults filled in. */
export interface Settings {
  readonly limit: number | ConcurrencyLimit;
  readonly queue: number;
  readonly queueTimeoutMs: number;
  readonly codel: { readonly targetMs: number; readonly intervalMs: number } | undefined;
  readonly lifo: boolean;
  /** By priority rank, most critical first. */
  readonly thresholds: readonly number[];
  readonly pressure: Required<PressureOptions> | undefined;
  readonly pressureSource: (() => PressureReading) | undefined;
}

export function settings(name: string, opts: Partial<LoadShedderOptions>): Settings {
  const limit = opts.limit;
  if (!isConcurrencyLimit(limit)) checkInteger(name, 'limit', limit, 1);
  const codel = opts.codel ?? true;
  if (typeof codel !== 'boolean' && (typeof codel !== 'object' || codel === null)) {
    throw invalid(name, 'codel', codel, 'a boolean or { targetMs, intervalMs }');
  }
  const lifo = opts.lifo ?? false;
  if (typeof lifo !== 'boolean') throw invalid(name, 'lifo', lifo, 'a boolean');
  const pressureSource =
    opts.pressureSource === undefined
      ? undefined
      : checkFunction<() => PressureReading>(name, 'pressureSource', opts.pressureSource);
  const pressure = opts.pressure === undefined ? undefined : pressureSettings(name, opts.pressure);
  if (pressureSource !== undefined && pressure === undefined) {
    throw invalid(name, 'pressure', undefined, 'set when "pressureSource" is (its thresholds)');
  }
  return {
    limit: limit as number | ConcurrencyLimit,
    queue: checkInteger(name, 'queue', opts.queue ?? 0, 0),
    queueTimeoutMs: checkMs(
      name,
      'queueTimeoutMs',
      opts.queueTimeoutMs ?? Number.POSITIVE_INFINITY,
      0,
      true,
    ),
    codel:
      codel === false
        ? undefined
        : {
            targetMs: positiveMs(
              name,
              'codel.targetMs',
              codel === true ? 5 : (codel.targetMs ?? 5),
            ),
            intervalMs: positiveMs(
              name,
              'codel.intervalMs',
              codel === true ? 100 : (codel.intervalMs ?? 100),
            ),
          },
    lifo,
    thresholds: thresholdSettings(name, opts.thresholds),
    pressure,
    pressureSource,
  };
}

function positiveMs(name: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw invalid(name, option, value, 'a finite number of milliseconds > 0');
  }
  return value;
}

function thresholdSettings(name: string, given: unknown): number[] {
  if (given === undefined) return priorities.map((p) => defaultThresholds[p]);
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw invalid(name, 'thresholds', given, 'an object of priority to occupancy (0 to 1)');
  }
  for (const key of Object.keys(given)) {
    if (!priorities.includes(key as Priority)) {
      const allowed = priorities.map((p) => `'${p}'`).join(', ');
      throw invalid(name, 'thresholds', given, `keyed by priorities only (${allowed})`);
    }
  }
  const record = given as Partial<Record<Priority, unknown>>;
  return priorities.map((p) =>
    record[p] === undefined
      ? defaultThresholds[p]
      : checkFraction(name, `thresholds.${p}`, record[p]),
  );
}

function pressureSettings(name: string, given: unknown): Required<PressureOptions> {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw invalid(name, 'pressure', given, 'an object of thresholds');
  }
  const p = given as PressureOptions;
  const none = Number.POSITIVE_INFINITY;
  const result: Required<PressureOptions> = {
    eventLoopDelayMs:
      p.eventLoopDelayMs === undefined
        ? none
        : positiveMs(name, 'pressure.eventLoopDelayMs', p.eventLoopDelayMs),
    eventLoopUtilization:
      p.eventLoopUtilization === undefined
        ? none
        : checkFraction(name, 'pressure.eventLoopUtilization', p.eventLoopUtilization),
    heapUsedRatio:
      p.heapUsedRatio === undefined
        ? none
        : checkFraction(name, 'pressure.heapUsedRatio', p.heapUsedRatio),
    sampleIntervalMs: positiveMs(name, 'pressure.sampleIntervalMs', p.sampleIntervalMs ?? 1000),
  };
  if (
    result.eventLoopDelayMs === none &&
    result.eventLoopUtilization === none &&
    result.heapUsedRatio === none
  ) {
    throw invalid(
      name,
      'pressure',
      given,
      'an object with at least one of eventLoopDelayMs, eventLoopUtilization, heapUsedRatio',
    );
  }
  return result;
}
