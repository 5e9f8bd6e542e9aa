import type { Priority } from '../core/context.js';
import { priorities } from '../core/context.js';
import { invalid } from '../core/validate.js';
import { type Distribution, isDistribution, latency } from './distributions.js';
import { type RateSchedule, rate } from './rate.js';

/** Shares of calls by priority, e.g. `{ critical: 0.2, sheddable: 0.8 }`; weights, not sums. */
export type PriorityMix = Partial<Record<Priority, number>>;

/** Shares of calls by key (a tenant, a host), e.g. `{ a: 3, b: 1 }`. */
export type KeyMix = Readonly<Record<string, number>>;

interface MixOptions {
  /** The calls' priorities. Default: every call 'critical'. */
  priorities?: PriorityMix;
  /** The calls' keys. Default: none (`key` undefined). */
  keys?: KeyMix;
}

export interface OpenLoopOptions extends MixOptions {
  /** Calls per second: a number or a schedule from `rate` (steps, ramps). Required. */
  rps: number | RateSchedule;
  /** 'poisson' (default): random arrivals, as from many independent users; 'uniform': evenly spaced. */
  arrivals?: 'poisson' | 'uniform';
}

export interface ClosedLoopOptions extends MixOptions {
  /** Clients, each with one call outstanding at a time. Required: an integer >= 1. */
  clients: number;
  /** Pause between a call's end and the client's next call: ms or a distribution. Default 0. */
  thinkTime?: number | Distribution;
  /** Client i starts at i * startSpreadMs / clients, so they do not all start at once. Default 0. */
  startSpreadMs?: number;
}

/** A weighted choice, drawn with one random number. */
export interface Mix<T> {
  readonly values: readonly T[];
  /** Cumulative weights, normalised so the last is 1. */
  readonly cumulative: Float64Array;
}

export interface OpenLoop extends Mixes {
  readonly kind: 'open';
  readonly rate: RateSchedule;
  readonly arrivals: 'poisson' | 'uniform';
  readonly label: string;
}

export interface ClosedLoop extends Mixes {
  readonly kind: 'closed';
  readonly clients: number;
  readonly thinkTime: Distribution;
  readonly startSpreadMs: number;
  readonly label: string;
}

export interface Mixes {
  readonly priorities: Mix<Priority> | undefined;
  readonly keys: Mix<string> | undefined;
}

/** The offered load of a simulation. */
export type Load = OpenLoop | ClosedLoop;

function mixOf<T extends string>(
  name: string,
  option: string,
  value: unknown,
  allowed?: readonly T[],
): Mix<T> | undefined {
  if (value === undefined) return undefined;
  const entries =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.entries(value)
      : [];
  const ok =
    entries.length > 0 &&
    entries.every(
      ([k, w]) =>
        (allowed === undefined || allowed.includes(k as T)) &&
        typeof w === 'number' &&
        Number.isFinite(w) &&
        w >= 0,
    ) &&
    entries.some(([, w]) => (w as number) > 0);
  if (!ok) {
    const keys = allowed === undefined ? 'keys' : `keys among ${allowed.join(', ')}`;
    throw invalid(name, option, value, `an object of ${keys} to weights >= 0, one of them > 0`);
  }
  // Keep a fixed order (the allowed list's, else insertion), so a seed always means the same.
  const ordered =
    allowed === undefined
      ? entries
      : entries.sort((x, y) => allowed.indexOf(x[0] as T) - allowed.indexOf(y[0] as T));
  const total = ordered.reduce((sum, [, w]) => sum + (w as number), 0);
  const cumulative = new Float64Array(ordered.length);
  let running = 0;
  ordered.forEach(([, w], i) => {
    running += w as number;
    cumulative[i] = running / total;
  });
  cumulative[ordered.length - 1] = 1;
  return { values: ordered.map(([k]) => k as T), cumulative };
}

/** Picks from a mix with one random number in [0, 1). */
export function pick<T>(mix: Mix<T>, u: number): T {
  const { cumulative, values } = mix;
  let i = 0;
  while (u >= cumulative[i]!) i++;
  return values[i]!;
}

function mixes(name: string, options: MixOptions): Mixes {
  return {
    priorities: mixOf(name, 'priorities', options.priorities, priorities),
    keys: mixOf(name, 'keys', options.keys),
  };
}

function checkObject(name: string, options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${name}: options must be an object (got ${String(options)})`);
  }
}

/**
 * Open-loop load: calls arrive at a rate whatever happens to earlier ones, as from many users.
 * This is the load that overloads a service: slow answers do not slow the arrivals.
 */
export function openLoop(options: OpenLoopOptions): OpenLoop {
  checkObject('openLoop', options);
  const { rps, arrivals = 'poisson' } = options;
  const schedule =
    typeof rps === 'number'
      ? rate.constant(rps)
      : typeof rps === 'object' && rps !== null && 'timeOf' in rps
        ? rps
        : undefined;
  if (schedule === undefined) {
    throw invalid('openLoop', 'rps', rps, 'a number >= 0 or a schedule from rate');
  }
  if (arrivals !== 'poisson' && arrivals !== 'uniform') {
    throw invalid('openLoop', 'arrivals', arrivals, "'poisson' or 'uniform'");
  }
  return {
    kind: 'open',
    rate: schedule,
    arrivals,
    label: `open loop ${schedule.label}`,
    ...mixes('openLoop', options),
  };
}

/**
 * Closed-loop load: `clients` callers, each issuing its next call when the previous one ends
 * (after a think time). Slow answers slow the load down, so it finds a service's throughput.
 */
export function closedLoop(options: ClosedLoopOptions): ClosedLoop {
  checkObject('closedLoop', options);
  const { clients, thinkTime = 0, startSpreadMs = 0 } = options;
  if (typeof clients !== 'number' || !Number.isSafeInteger(clients) || clients < 1) {
    throw invalid('closedLoop', 'clients', clients, 'an integer >= 1');
  }
  let think: Distribution;
  if (typeof thinkTime === 'number' && Number.isFinite(thinkTime) && thinkTime >= 0) {
    think = latency.constant(thinkTime);
  } else if (isDistribution(thinkTime)) {
    think = thinkTime;
  } else {
    throw invalid(
      'closedLoop',
      'thinkTime',
      thinkTime,
      'a number of milliseconds >= 0 or a distribution from latency',
    );
  }
  if (typeof startSpreadMs !== 'number' || !Number.isFinite(startSpreadMs) || startSpreadMs < 0) {
    throw invalid(
      'closedLoop',
      'startSpreadMs',
      startSpreadMs,
      'a finite number of milliseconds >= 0',
    );
  }
  return {
    kind: 'closed',
    clients,
    thinkTime: think,
    startSpreadMs,
    label: `closed loop ${clients} clients`,
    ...mixes('closedLoop', options),
  };
}
