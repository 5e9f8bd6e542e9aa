import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { describe } from '../core/policy.js';
import { checkFraction, checkInteger, checkMs, checkOptions, invalid } from '../core/validate.js';
import type { CheckResult, HealthCheck } from './types.js';

/** What `breakerCheck` reads of a circuit breaker: its state, and its name for the output. */
export interface BreakerStateSource {
  readonly state: string;
  readonly name?: string;
}

/**
 * A check that reads a circuit breaker: closed passes, half-open warns (a probe is testing the
 * dependency), open or isolated fails. It never calls the dependency.
 */
export function breakerCheck(breaker: BreakerStateSource): HealthCheck {
  if (
    typeof breaker !== 'object' ||
    breaker === null ||
    typeof (breaker as { state?: unknown }).state !== 'string'
  ) {
    throw new TypeError(
      `breakerCheck: breaker must be an object with a string "state" (got ${describe(breaker)})`,
    );
  }
  return () => {
    const state = breaker.state;
    const label = `circuit breaker${breaker.name === undefined ? '' : ` "${breaker.name}"`}`;
    if (state === 'closed') return { status: 'pass', observedValue: state };
    if (state === 'half-open') {
      return { status: 'warn', observedValue: state, output: `${label} is half-open` };
    }
    return { status: 'fail', observedValue: state, output: `${label} is ${state}` };
  };
}

/** The part of Node's `IntervalHistogram` the event-loop check uses. */
export interface DelayHistogram {
  enable(): boolean;
  disable(): boolean;
  reset(): void;
  percentile(percentile: number): number;
  readonly count: number;
}

export interface EventLoopDelayCheckOptions {
  /** Delay above which the check fails, in milliseconds. Required. */
  maxMs: number;
  /** Delay above which it warns, in milliseconds. Default: none. */
  warnMs?: number;
  /** The percentile of the delays since the last check it judges. Default: 99. */
  percentile?: number;
  /** How often the monitor samples, in milliseconds (an integer >= 1). Default: 10. */
  resolutionMs?: number;
}

/** A health check that can release what it holds. */
export type StoppableCheck = HealthCheck & {
  /** Stops the monitor; the next run starts it again. */
  stop(): void;
};

/**
 * A check of the event loop's delay (perf_hooks `monitorEventLoopDelay`): the chosen percentile
 * of the delays seen since the previous run, in milliseconds. The monitor starts at the first
 * run (which passes with no samples yet) and runs until `stop()`.
 */
export function eventLoopDelayCheck(options: EventLoopDelayCheckOptions): StoppableCheck {
  return delayCheck(options, (resolution) => monitorEventLoopDelay({ resolution }));
}

/** `eventLoopDelayCheck` with the histogram's source injected, for tests. @internal */
export function delayCheck(
  options: EventLoopDelayCheckOptions,
  create: (resolutionMs: number) => DelayHistogram,
): StoppableCheck {
  const policy = 'eventLoopDelayCheck';
  const o = checkOptions<EventLoopDelayCheckOptions>(policy, options);
  const maxMs = checkMs(policy, 'maxMs', o.maxMs);
  const warnMs = o.warnMs === undefined ? undefined : checkMs(policy, 'warnMs', o.warnMs);
  if (warnMs !== undefined && warnMs > maxMs) {
    throw invalid(policy, 'warnMs', warnMs, `at most maxMs (${maxMs})`);
  }
  const percentile = o.percentile ?? 99;
  if (typeof percentile !== 'number' || !(percentile > 0 && percentile <= 100)) {
    throw invalid(policy, 'percentile', percentile, 'a number > 0 and <= 100');
  }
  const resolutionMs =
    o.resolutionMs === undefined ? 10 : checkInteger(policy, 'resolutionMs', o.resolutionMs, 1);
  let histogram: DelayHistogram | undefined;
  const check = (): CheckResult => {
    if (histogram === undefined) {
      histogram = create(resolutionMs);
      histogram.enable();
    }
    if (histogram.count === 0) {
      return { status: 'pass', observedUnit: 'ms', output: 'no samples yet' };
    }
    const delayMs = histogram.percentile(percentile) / 1e6;
    histogram.reset();
    const observed = { observedValue: Math.round(delayMs * 100) / 100, observedUnit: 'ms' };
    if (delayMs > maxMs) {
      return {
        status: 'fail',
        ...observed,
        output: `event loop delay p${percentile} over ${maxMs} ms`,
      };
    }
    if (warnMs !== undefined && delayMs > warnMs) {
      return {
        status: 'warn',
        ...observed,
        output: `event loop delay p${percentile} over ${warnMs} ms`,
      };
    }
    return { status: 'pass', ...observed };
  };
  return Object.assign(check, {
    stop(): void {
      histogram?.disable();
      histogram = undefined;
    },
  });
}

export interface HeapCheckOptions {
  /** Used heap over the heap limit above which the check fails (0 to 1). Required. */
  maxUsedRatio: number;
  /** Ratio above which it warns. Default: none. */
  warnUsedRatio?: number;
}

/** The two fields of `v8.getHeapStatistics()` the heap check reads. */
export interface HeapNumbers {
  readonly used_heap_size: number;
  readonly heap_size_limit: number;
}

/** A check of V8's used heap against its limit (`v8.getHeapStatistics()`), as a ratio. */
export function heapCheck(options: HeapCheckOptions): HealthCheck {
  return heapRatioCheck(options, getHeapStatistics);
}

/** `heapCheck` with the statistics' source injected, for tests. @internal */
export function heapRatioCheck(options: HeapCheckOptions, read: () => HeapNumbers): HealthCheck {
  const policy = 'heapCheck';
  const o = checkOptions<HeapCheckOptions>(policy, options);
  const max = checkFraction(policy, 'maxUsedRatio', o.maxUsedRatio);
  const warn =
    o.warnUsedRatio === undefined
      ? undefined
      : checkFraction(policy, 'warnUsedRatio', o.warnUsedRatio);
  if (warn !== undefined && warn > max) {
    throw invalid(policy, 'warnUsedRatio', warn, `at most maxUsedRatio (${max})`);
  }
  return () => {
    const stats = read();
    const ratio = stats.used_heap_size / stats.heap_size_limit;
    const observed = { observedValue: Math.round(ratio * 1000) / 1000, observedUnit: 'ratio' };
    if (ratio > max)
      return { status: 'fail', ...observed, output: `heap use over ${max} of its limit` };
    if (warn !== undefined && ratio > warn) {
      return { status: 'warn', ...observed, output: `heap use over ${warn} of its limit` };
    }
    return { status: 'pass', ...observed };
  };
}
