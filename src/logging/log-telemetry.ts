import { type Clock, systemClock, type TimerHandle } from '../core/clock.js';
import { type AnyTelemetryEvent, type Disposer, telemetry } from '../core/events.js';
import { describe } from '../core/policy.js';
import { checkClock, checkInteger, checkOneOf, checkOptions, invalid } from '../core/validate.js';
import { renderDetail } from './render.js';
import { type LogLevel, logLevels, severityOf } from './severity.js';

/** Any logger with a method per level: pino, bunyan, winston, `console`, ... */
export type TelemetryLogger = { readonly [L in LogLevel]?: (...args: never[]) => unknown };

type LogMethod = (this: TelemetryLogger, ...args: unknown[]) => unknown;

/**
 * How the logger takes a record: 'object-first' as pino and bunyan do, `logger.warn(record,
 * message)`; 'message-first' as `console` and winston do, `logger.warn(message, record)`.
 */
export type LogStyle = 'object-first' | 'message-first';

export interface LogTelemetryOptions {
  /** The least severe level written. Default: 'info'. */
  level?: LogLevel;
  /** How the logger is called. Default: 'object-first' for a pino logger, else 'message-first'. */
  style?: LogStyle;
  /**
   * Records written per policy per second at most; beyond it, records are counted, and one
   * summary record per policy says how many were suppressed once the second ends. An integer
   * >= 1, or Infinity for no limit. Default: 10.
   */
  maxPerSecond?: number;
  /**
   * Whether records show the call's `key` (a tenant, a host, a cache key). Keys can be
   * personal data, so they are left out unless asked for. Default: false.
   */
  includeKeys?: boolean;
  /** Where time comes from, for the per-second limit. Default: the system clock. */
  clock?: Clock;
}

/** What each record carries, besides its message. */
export interface TelemetryLogRecord {
  /** The policy's name. */
  readonly policy: string;
  readonly kind: string;
  /** The event's type, or 'suppressed' for a summary of records the limit held back. */
  readonly event: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

const SECOND_MS = 1_000;

/** What one policy has written in the current second, and what it held back. */
interface Quota {
  readonly policy: string;
  readonly kind: string;
  written: number;
  suppressed: number;
  /** The most severe level held back: the summary is written at it. */
  loudest: number;
  readonly byEvent: Record<string, number>;
}

class TelemetryLog {
  readonly #logger: TelemetryLogger;
  readonly #objectFirst: boolean;
  readonly #rank: number;
  readonly #max: number;
  readonly #includeKeys: boolean;
  readonly #clock: Clock;
  /** The policies that wrote in the current second; cleared when it ends. */
  readonly #quotas = new Map<string, Quota>();
  #second = Number.NEGATIVE_INFINITY;
  /** Armed only while a summary is owed: one timer for every policy. */
  #timer: TimerHandle | undefined;

  constructor(logger: TelemetryLogger, options: Required<LogTelemetryOptions>) {
    this.#logger = logger;
    this.#objectFirst = options.style === 'object-first';
    this.#rank = logLevels.indexOf(options.level);
    this.#max = options.maxPerSecond;
    this.#includeKeys = options.includeKeys;
    this.#clock = options.clock;
  }

  readonly record = (event: AnyTelemetryEvent): void => {
    const level = severityOf(event);
    const rank = logLevels.indexOf(level);
    if (rank > this.#rank) return;
    const second = Math.floor(this.#clock.now() / SECOND_MS);
    if (second !== this.#second) {
      this.#summarize();
      this.#second = second;
    }
    const id = `${event.kind}\n${event.policy}`;
    let quota = this.#quotas.get(id);
    if (quota === undefined) {
      quota = {
        policy: event.policy,
        kind: event.kind,
        written: 0,
        suppressed: 0,
        loudest: logLevels.length,
        byEvent: {},
      };
      this.#quotas.set(id, quota);
    }
    if (quota.written < this.#max) {
      quota.written++;
      const detail = renderDetail(event.detail, this.#includeKeys);
      this.#write(level, { policy: event.policy, kind: event.kind, event: event.type, detail });
      return;
    }
    quota.suppressed++;
    quota.byEvent[event.type] = (quota.byEvent[event.type] ?? 0) + 1;
    if (rank < quota.loudest) quota.loudest = rank;
    this.#timer ??= this.#arm(second);
  };

  /** Writes what is owed and stops the timer. */
  close(): void {
    this.#summarize();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(second: number): TimerHandle {
    const timer = this.#clock.setTimeout(
      this.#onSecondEnd,
      (second + 1) * SECOND_MS - this.#clock.now(),
    );
    // A summary owed must not keep the process alive on its own.
    this.#clock.unref?.(timer);
    return timer;
  }

  readonly #onSecondEnd = (): void => {
    this.#timer = undefined;
    this.#summarize();
    this.#second = Math.floor(this.#clock.now() / SECOND_MS);
  };

  /** One summary per policy that held records back in the second now over; then a fresh one. */
  #summarize(): void {
    for (const quota of this.#quotas.values()) {
      if (quota.suppressed === 0) continue;
      this.#write(logLevels[quota.loudest]!, {
        policy: quota.policy,
        kind: quota.kind,
        event: 'suppressed',
        detail: {
          suppressed: quota.suppressed,
          byEvent: quota.byEvent,
          maxPerSecond: this.#max,
        },
      });
    }
    this.#quotas.clear();
  }

  #write(level: LogLevel, record: TelemetryLogRecord): void {
    const method = this.#logger[level] as LogMethod;
    const message = messageOf(record);
    if (this.#objectFirst) method.call(this.#logger, record, message);
    else method.call(this.#logger, message, record);
  }
}

/**
 * A line a person can read: who, what, of what part (a health check, a shutdown hook), and for
 * a change, from what to what.
 */
function messageOf({ policy, kind, event, detail }: TelemetryLogRecord): string {
  if (event === 'suppressed') {
    return `bulwark ${kind} "${policy}": suppressed ${detail.suppressed} records over the limit of ${detail.maxPerSecond} a second`;
  }
  const part = detail.check ?? detail.hook ?? (kind === 'health' ? detail.kind : undefined);
  const of = typeof part === 'string' ? ` ${part}` : '';
  const from = detail.from === undefined ? '' : ` ${detail.from}`;
  const change = 'to' in detail ? `${from} -> ${detail.to}` : '';
  const reason = typeof detail.reason === 'string' ? ` (${detail.reason})` : '';
  return `bulwark ${kind} "${policy}": ${event}${of}${change}${reason}`;
}

/** pino loggers have `bindings()`; console, winston and most others take the message first. */
function styleOf(logger: object): LogStyle {
  return typeof (logger as { bindings?: unknown }).bindings === 'function'
    ? 'object-first'
    : 'message-first';
}

/**
 * Writes the state changes, refusals and retries of every policy to `logger` as structured
 * records `{ policy, kind, event, detail }`, at a severity per event (a breaker opening is an
 * error, half-opening a warning, closing info; see docs/telemetry.md), at most `maxPerSecond`
 * records per policy per second. Returns the function that stops it.
 */
export function logTelemetry(logger: TelemetryLogger, options?: LogTelemetryOptions): Disposer {
  const name = 'logTelemetry';
  const opts = checkOptions<LogTelemetryOptions>(name, options);
  if (typeof logger !== 'object' || logger === null) {
    throw new TypeError(
      `${name}: logger must be an object such as console or a pino logger (got ${describe(logger)})`,
    );
  }
  const level = checkOneOf(name, 'level', opts.level ?? 'info', logLevels);
  for (const needed of logLevels.slice(0, logLevels.indexOf(level) + 1)) {
    if (typeof logger[needed] !== 'function') {
      throw new TypeError(
        `${name}: logger must have a ${needed}() method to write level '${level}' (got ${describe(logger[needed])})`,
      );
    }
  }
  const style = checkOneOf(name, 'style', opts.style ?? styleOf(logger), [
    'object-first',
    'message-first',
  ]);
  const maxPerSecond = checkInteger(name, 'maxPerSecond', opts.maxPerSecond ?? 10, 1, true);
  const includeKeys = opts.includeKeys ?? false;
  if (typeof includeKeys !== 'boolean')
    throw invalid(name, 'includeKeys', includeKeys, 'a boolean');
  const clock = checkClock(name, opts.clock, systemClock);
  const log = new TelemetryLog(logger, { level, style, maxPerSecond, includeKeys, clock });
  const unsubscribe = telemetry.subscribe(log.record);
  let open = true;
  return () => {
    if (!open) return;
    open = false;
    unsubscribe();
    log.close();
  };
}
