import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { PressureOptions } from './options.js';

/** One set of process measurements; a field left out is not judged. */
export interface PressureReading {
  /** Mean event-loop delay since the last reading, in milliseconds. */
  readonly eventLoopDelayMs?: number;
  /** Share of the time since the last reading the event loop was busy, 0 to 1. */
  readonly eventLoopUtilization?: number;
  /** Used heap as a share of the heap's limit, 0 to 1. */
  readonly heapUsedRatio?: number;
}

/** A pressure source that holds resources (a histogram) until it is closed. */
export interface ClosablePressureSource {
  read(): PressureReading;
  close(): void;
}

/** How finely the default source measures event-loop delay, in milliseconds. */
const resolutionMs = 10;

/**
 * The process's own pressure: event-loop delay from `monitorEventLoopDelay` (its mean over the
 * period, less the sampling resolution the histogram counts in), event-loop utilization from
 * `performance.eventLoopUtilization()` over the period, and used heap over the heap limit from
 * `v8.getHeapStatistics()`. Each `read()` covers the time since the previous one.
 */
export function processPressure(): ClosablePressureSource {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  let last = performance.eventLoopUtilization();
  return {
    read() {
      const elu = performance.eventLoopUtilization();
      const utilization = performance.eventLoopUtilization(elu, last).utilization;
      last = elu;
      // An empty histogram's mean is NaN: no tick completed since the last reading.
      const mean = histogram.count === 0 ? 0 : histogram.mean / 1e6;
      histogram.reset();
      const heap = getHeapStatistics();
      return {
        eventLoopDelayMs: Math.max(0, mean - resolutionMs),
        eventLoopUtilization: utilization,
        heapUsedRatio: heap.used_heap_size / heap.heap_size_limit,
      };
    },
    close() {
      histogram.disable();
    },
  };
}

/** Which thresholds a reading reaches; none when every field is missing or below. */
export function overThreshold(
  reading: PressureReading,
  limits: Required<PressureOptions>,
): boolean {
  return (
    atOrAbove(reading.eventLoopDelayMs, limits.eventLoopDelayMs) ||
    atOrAbove(reading.eventLoopUtilization, limits.eventLoopUtilization) ||
    atOrAbove(reading.heapUsedRatio, limits.heapUsedRatio)
  );
}

function atOrAbove(value: unknown, limit: number): boolean {
  return typeof value === 'number' && value >= limit;
}

/**
 * Reads a pressure source every `sampleIntervalMs` on an unref'd timer, so a call only reads
 * the cached verdict. A source that throws, or answers something other than an object, counts
 * as no pressure for that period.
 */
export class PressureSampler {
  #underPressure = false;
  #reading: PressureReading = {};
  #timer: TimerHandle | undefined;
  #closed = false;
  readonly #onTimer = (): void => this.#sample();

  constructor(
    readonly limits: Required<PressureOptions>,
    readonly clock: Clock,
    readonly source: ClosablePressureSource,
    /** Told when the verdict changes. */
    readonly onChange: (underPressure: boolean, reading: PressureReading) => void,
  ) {
    this.#arm();
  }

  get underPressure(): boolean {
    return this.#underPressure;
  }

  /** The last reading taken; empty before the first. */
  get reading(): PressureReading {
    return this.#reading;
  }

  /** Stops sampling and releases the source; the verdict goes back to no pressure. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.source.close();
    this.#reading = {};
    if (this.#underPressure) {
      this.#underPressure = false;
      this.onChange(false, this.#reading);
    }
  }

  #sample(): void {
    this.#timer = undefined;
    let reading: PressureReading;
    try {
      const answer = this.source.read();
      reading = typeof answer === 'object' && answer !== null ? answer : {};
    } catch {
      reading = {};
    }
    this.#reading = reading;
    const over = overThreshold(reading, this.limits);
    // Re-arm before telling anyone, so a listener that closes the sampler disarms it for good.
    this.#arm();
    if (over !== this.#underPressure) {
      this.#underPressure = over;
      this.onChange(over, reading);
    }
  }

  #arm(): void {
    if (this.#closed) return;
    this.#timer = this.clock.setTimeout(this.#onTimer, this.limits.sampleIntervalMs);
    // Sampling must never be what keeps the process alive.
    this.clock.unref?.(this.#timer);
  }
}
