import type { Clock } from '../core/clock.js';

/** A check's or a report's verdict, as draft-inadarei-api-health-check spells it. */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/** Which probe a check answers: Kubernetes' three kinds. */
export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export const probeKinds: readonly ProbeKind[] = ['liveness', 'readiness', 'startup'];

/** What a check may answer beyond a bare boolean. */
export interface CheckResult {
  readonly status: HealthStatus;
  /** Any JSON value the check measured (a latency, a ratio, a state). */
  readonly observedValue?: unknown;
  /** The unit of `observedValue`, e.g. 'ms', 'ratio'. */
  readonly observedUnit?: string;
  /** Why it warns or fails, in words. */
  readonly output?: string;
}

/**
 * A health check. `signal` aborts when the check runs past its timeout: stop work then. It
 * answers `true` (pass), `false` (fail) or a {@link CheckResult}, directly or through a
 * promise; throwing or rejecting counts as a failure.
 */
export type HealthCheck = (
  signal: AbortSignal,
) => boolean | CheckResult | PromiseLike<boolean | CheckResult>;

/** One check's entry in a report (draft-inadarei-api-health-check, "checks"). */
export interface HealthCheckReport {
  readonly status: HealthStatus;
  /** When the result was obtained, ISO-8601, from the registry's clock. */
  readonly time: string;
  readonly observedValue?: unknown;
  readonly observedUnit?: string;
  readonly output?: string;
  readonly componentType?: string;
}

/** An application/health+json document. */
export interface HealthReport {
  readonly status: HealthStatus;
  /** Why the whole report fails (a readiness report after `markNotReady`). */
  readonly output?: string;
  /** Keyed `name`, or `name:measurement` for a check registered with a `measurement`. */
  readonly checks: Readonly<Record<string, readonly HealthCheckReport[]>>;
}

export interface HealthRegistryOptions {
  /** Longest a check may run before it fails, in milliseconds (> 0 or Infinity). Default: 1000. */
  timeoutMs?: number;
  /** How long a check's result is reused, in milliseconds (>= 0 or Infinity). Default: 0. */
  cacheMs?: number;
  /** Labels events and telemetry. Default: 'health'. */
  name?: string;
  /** Where time comes from; tests pass a `VirtualClock`. Default: the system clock. */
  clock?: Clock;
}

export interface RegisterOptions {
  /** A failing critical check fails the report; a non-critical one only warns. Default: true. */
  critical?: boolean;
  /** This check's timeout, in milliseconds. Default: the registry's `timeoutMs`. */
  timeoutMs?: number;
  /** How long this check's result is reused. Default: the registry's `cacheMs`. */
  cacheMs?: number;
  /** The probes this check answers. Default: ['readiness']. */
  kinds?: readonly ProbeKind[];
  /** What the check measures ('responseTime', 'utilization'): the report keys it `name:measurement`. */
  measurement?: string;
  /** The draft's `componentType` ('datastore', 'component', 'system'), copied into the report. */
  componentType?: string;
}

export interface HealthEvents {
  /**
   * A check's status changed (`check` is its name, `kind` undefined), or a probe kind's
   * overall status changed (`check` undefined, `kind` set). `from` is undefined the first time.
   */
  statusChange: {
    readonly check: string | undefined;
    readonly kind: ProbeKind | undefined;
    readonly from: HealthStatus | undefined;
    readonly to: HealthStatus;
    readonly output: string | undefined;
  };
}

/** What `background()` returns. */
export interface BackgroundHandle {
  /** Clears the timer; checks still running finish (or time out) on their own. Idempotent. */
  stop(): void;
}
