import type { IncomingMessage } from 'node:http';
import { type Clock, systemClock } from '../../../core/clock.js';
import { type Priority, priorities } from '../../../core/context.js';
import type { Policy } from '../../../core/policy.js';
import {
  checkClock,
  checkFunction,
  checkMs,
  checkOptions,
  invalid,
} from '../../../core/validate.js';
import type { HealthRegistry } from '../../../health/registry.js';
import type { RateLimiterPolicy } from '../../../rate-limiter/rate-limiter.js';
import type { GracefulShutdown } from '../../../shutdown/shutdown.js';

/** Where the health endpoints are served; `false` turns one off. */
export interface HealthPaths {
  /** The liveness probe's report. Default: '/livez'. */
  liveness?: string | false;
  /** The readiness probe's report. Default: '/readyz'. */
  readiness?: string | false;
  /** Every check of every probe kind in one report. Default: '/health'. */
  health?: string | false;
}

/** What the server side of `bulwark/http` takes; every adapter takes the same. */
export interface ServerPolicyOptions {
  /**
   * Admits requests: a load shedder, a bulkhead, an adaptive bulkhead, a pipeline of them, or
   * any policy with `execute`. A request holds its slot until its response closes. Default: none.
   */
  shedder?: Policy<never, unknown>;
  /**
   * Limits each client (`keyOf`) with `consume()`; refused requests get 429. Every response
   * it decided carries `RateLimit-Policy` and `RateLimit`. Default: none.
   */
  rateLimiter?: RateLimiterPolicy;
  /**
   * The rate limiter's key for a request; undefined puts it in the shared bucket. Default: the
   * client's address (`req.socket.remoteAddress`); behind a proxy, read your trusted header.
   */
  keyOf?: (request: IncomingMessage) => string | undefined;
  /**
   * The request's priority; undefined means 'critical'. When given, the priority header is not
   * read. Default: the priority header, else 'critical'.
   */
  priorityOf?: (request: IncomingMessage) => Priority | undefined;
  /** The header carrying the caller's remaining budget, in relative ms. Default: 'x-request-timeout-ms'. */
  deadlineHeader?: string;
  /** The header carrying the caller's priority (one of `priorities`). Default: 'x-request-priority'. */
  priorityHeader?: string;
  /**
   * A request arriving with less budget than this (ms, >= 0) gets 504 at once, without running
   * the handler; a budget of 0 or less always does. Default: 0.
   */
  minBudgetMs?: number;
  /**
   * Runs the rest of the request inside an AsyncLocalStorage scope, so `currentRequest()` and
   * every `resilientFetch` call made while handling it see its deadline, priority and signal.
   * Default: false.
   */
  propagate?: boolean;
  /** Serves `healthPaths` from this registry, ahead of every limit. Default: none. */
  health?: HealthRegistry;
  /** Where the health reports are served. Default: '/livez', '/readyz', '/health'. */
  healthPaths?: HealthPaths;
  /**
   * Once it stops accepting, new requests get 503 with `Connection: close`; requests in flight
   * finish. The express and fastify adapters register their server with it. Default: none.
   */
  shutdown?: GracefulShutdown;
  /**
   * `Retry-After` of a 503 whose refusal carries no hint of its own (a full bulkhead, a
   * shutdown), in ms (>= 0); sent in whole seconds, rounded up. Default: 1000.
   */
  retryAfterMs?: number;
  /** Where deadlines are measured. Default: the system clock; tests pass a `VirtualClock`. */
  clock?: Clock;
}

/** The options, checked, with their defaults. @internal */
export interface ServerSettings {
  readonly shedder: Policy | undefined;
  readonly rateLimiter: RateLimiterPolicy | undefined;
  readonly keyOf: (request: IncomingMessage) => string | undefined;
  readonly priorityOf: ((request: IncomingMessage) => Priority | undefined) | undefined;
  readonly deadlineHeader: string;
  readonly priorityHeader: string;
  readonly minBudgetMs: number;
  readonly propagate: boolean;
  readonly health: HealthRegistry | undefined;
  readonly healthPaths: ReadonlyMap<string, HealthRoute>;
  readonly shutdown: GracefulShutdown | undefined;
  readonly retryAfterMs: number;
  readonly clock: Clock;
}

/** What a health path answers: one probe kind's report, or every check's. */
export type HealthRoute = 'liveness' | 'readiness' | 'health';

const label = 'serverPolicy';
const headerName = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

export function clientAddress(request: IncomingMessage): string | undefined {
  return request.socket.remoteAddress;
}

export function resolveServerOptions(options: unknown): ServerSettings {
  const o = checkOptions<ServerPolicyOptions>(label, options);
  const shedder = o.shedder as Policy | undefined;
  if (shedder !== undefined && typeof (shedder as Partial<Policy> | null)?.execute !== 'function') {
    throw invalid(label, 'shedder', shedder, 'a policy (an object with execute())');
  }
  const limiter = o.rateLimiter as Partial<RateLimiterPolicy> | undefined | null;
  if (
    limiter !== undefined &&
    (typeof limiter?.consume !== 'function' ||
      typeof limiter.limit !== 'number' ||
      typeof limiter.intervalMs !== 'number' ||
      typeof limiter.name !== 'string')
  ) {
    throw invalid(label, 'rateLimiter', limiter, 'a RateLimiterPolicy (from rateLimiter())');
  }
  const health = o.health as Partial<HealthRegistry> | undefined | null;
  if (health !== undefined && typeof health?.run !== 'function') {
    throw invalid(label, 'health', health, 'a HealthRegistry (from healthRegistry())');
  }
  const shutdown = o.shutdown as Partial<GracefulShutdown> | undefined | null;
  if (
    shutdown !== undefined &&
    (typeof shutdown?.server !== 'function' || typeof shutdown.guard?.execute !== 'function')
  ) {
    throw invalid(label, 'shutdown', shutdown, 'a GracefulShutdown (from gracefulShutdown())');
  }
  if (o.propagate !== undefined && typeof o.propagate !== 'boolean') {
    throw invalid(label, 'propagate', o.propagate, 'a boolean');
  }
  return {
    shedder,
    rateLimiter: o.rateLimiter,
    keyOf:
      o.keyOf === undefined
        ? clientAddress
        : checkFunction<ServerSettings['keyOf']>(label, 'keyOf', o.keyOf),
    priorityOf:
      o.priorityOf === undefined
        ? undefined
        : checkFunction<NonNullable<ServerSettings['priorityOf']>>(
            label,
            'priorityOf',
            o.priorityOf,
          ),
    deadlineHeader: checkHeader('deadlineHeader', o.deadlineHeader ?? 'x-request-timeout-ms'),
    priorityHeader: checkHeader('priorityHeader', o.priorityHeader ?? 'x-request-priority'),
    minBudgetMs: checkMs(label, 'minBudgetMs', o.minBudgetMs ?? 0),
    propagate: o.propagate ?? false,
    health: o.health,
    healthPaths: checkHealthPaths(o.healthPaths),
    shutdown: o.shutdown,
    retryAfterMs: checkMs(label, 'retryAfterMs', o.retryAfterMs ?? 1000),
    clock: checkClock(label, o.clock, systemClock),
  };
}

/** A header name, lowercased as node:http presents them. */
function checkHeader(option: string, value: unknown): string {
  if (typeof value !== 'string' || !headerName.test(value.toLowerCase())) {
    throw invalid(label, option, value, 'a header name (a non-empty HTTP token)');
  }
  return value.toLowerCase();
}

const defaultHealthPaths: Readonly<Record<HealthRoute, string>> = {
  liveness: '/livez',
  readiness: '/readyz',
  health: '/health',
};

export function checkHealthPaths(value: unknown, policy = label): ReadonlyMap<string, HealthRoute> {
  const given = checkOptions<HealthPaths>(`${policy}: option "healthPaths"`, value);
  const routes = new Map<string, HealthRoute>();
  for (const route of Object.keys(defaultHealthPaths) as HealthRoute[]) {
    const path = given[route] ?? defaultHealthPaths[route];
    if (path === false) continue;
    if (typeof path !== 'string' || !path.startsWith('/') || /[?#\s]/.test(path)) {
      throw invalid(policy, `healthPaths.${route}`, path, "a path starting with '/', or false");
    }
    if (routes.has(path)) {
      throw invalid(policy, `healthPaths.${route}`, path, 'a path no other health route uses');
    }
    routes.set(path, route);
  }
  for (const key of Object.keys(given)) {
    if (!(key in defaultHealthPaths)) {
      throw invalid(
        policy,
        'healthPaths',
        value,
        "an object with 'liveness', 'readiness' or 'health'",
      );
    }
  }
  return routes;
}

/** The priority a header value names, or undefined for a missing or unknown one. */
export function priorityFrom(value: string | string[] | undefined): Priority | undefined {
  return typeof value === 'string' && priorities.includes(value as Priority)
    ? (value as Priority)
    : undefined;
}

/**
 * The budget a deadline header gives, in ms: NaN when the header is missing or not a number
 * (then the request has no deadline).
 */
export function budgetFrom(value: string | string[] | undefined): number {
  return typeof value === 'string' && decimal.test(value) ? Number(value) : Number.NaN;
}

/** A decimal number of milliseconds, as a header carries it: no exponent, hex or blank. */
const decimal = /^\s*[-+]?\d+(?:\.\d+)?\s*$/;
