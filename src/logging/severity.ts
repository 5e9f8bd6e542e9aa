import type { AnyTelemetryEvent } from '../core/events.js';

/** A log record's severity, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Every level, most severe first: a level's index is its rank. */
export const logLevels: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

type Rule = LogLevel | ((detail: Record<string, unknown>) => LogLevel);

/** Where a state change leads decides how loud it is. */
const byTarget =
  (levels: Readonly<Record<string, LogLevel>>, otherwise: LogLevel) =>
  (detail: Record<string, unknown>): LogLevel =>
    levels[String(detail.to)] ?? otherwise;

/**
 * The severity of each event, by kind and type, in the spirit of Polly's: a breaker opening is
 * an error, half-opening a warning, closing news; refusals, retries and fallbacks are
 * warnings; what happens on every healthy call is debug.
 */
const severities: Readonly<Record<string, Readonly<Record<string, Rule>>>> = {
  'circuit-breaker': {
    stateChange: byTarget({ open: 'error', isolated: 'error', 'half-open': 'warn' }, 'info'),
    modeChange: 'warn',
    rejected: 'debug',
    failure: 'debug',
    success: 'debug',
  },
  retry: { retry: 'warn', giveUp: 'warn', success: 'debug' },
  timeout: { timeout: 'warn' },
  bulkhead: { rejected: 'warn', queued: 'debug', dequeued: 'debug' },
  'load-shedder': {
    shed: 'warn',
    pressure: (detail) => (detail.underPressure === true ? 'warn' : 'info'),
    queued: 'debug',
    dequeued: 'debug',
  },
  'rate-limiter': { limited: 'warn', storeError: 'error', waited: 'debug', evicted: 'debug' },
  'adaptive-throttle': { throttled: 'warn' },
  'adaptive-limit': { limitChange: 'debug' },
  fallback: { fallback: 'warn' },
  hedge: { budgetExhausted: 'warn', giveUp: 'warn', hedge: 'info', success: 'debug' },
  cache: {
    storeError: 'error',
    staleIfError: 'warn',
    hit: 'debug',
    miss: 'debug',
    stale: 'debug',
    revalidated: 'debug',
    coalesced: 'debug',
    evicted: 'debug',
  },
  feature: { modeChange: byTarget({ fallback: 'warn' }, 'info'), degraded: 'warn' },
  health: { statusChange: byTarget({ fail: 'error', warn: 'warn' }, 'info') },
  shutdown: { stateChange: 'info', hookFailed: 'error', forced: 'error' },
  keyed: { created: 'debug', evicted: 'debug' },
  // Injected on purpose: news, not trouble (Simmy reports them as information too).
  chaos: { fault: 'info', latency: 'info', outcome: 'info', behavior: 'info' },
};

/** An event's severity; a kind or type bulwark does not know (your own policy's) is info. */
export function severityOf(event: AnyTelemetryEvent): LogLevel {
  const rule = severities[event.kind]?.[event.type];
  if (rule === undefined) return 'info';
  return typeof rule === 'string' ? rule : rule(event.detail as Record<string, unknown>);
}
