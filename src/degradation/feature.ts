import type { Clock } from '../core/clock.js';
import { adopt, type Context, type ExecutionContext, next } from '../core/context.js';
import { FeatureDegradedError } from '../core/errors.js';
import { type GaugeSink, readGauges, registerGauges } from '../core/gauges.js';
import { BasePolicy, type PolicyOptions } from '../core/policy.js';
import { checkFunction, checkMs, checkOptions, invalid, verdict } from '../core/validate.js';

/** What a feature answers with: its primary, its fallback, or its fallback because it is off. */
export type FeatureMode = 'primary' | 'fallback' | 'disabled';

/** Every mode, in the order the `mode` gauge encodes them: 0 primary, 1 fallback, 2 disabled. */
const featureModes: readonly FeatureMode[] = ['primary', 'fallback', 'disabled'];

/**
 * Why a feature is in its mode: 'healthy' (primary); 'disabled' (its flag is off); or, in
 * fallback mode, 'unhealthy' (`healthy()` said false), 'health-check-error' (`healthy()` threw
 * or answered a promise), 'breaker-open', 'breaker-isolated', or 'recovering' (healthy again,
 * but inside `minDegradedMs`).
 */
export type FeatureReason =
  | 'healthy'
  | 'disabled'
  | 'unhealthy'
  | 'health-check-error'
  | 'breaker-open'
  | 'breaker-isolated'
  | 'recovering';

/** Why one call was answered by the fallback: the feature's reason, or its primary failed. */
export type DegradedReason = Exclude<FeatureReason, 'healthy'> | 'primary-failed';

/**
 * What a feature reads of a circuit breaker: a `circuitBreaker()` satisfies it. The feature
 * degrades while `state` is 'open' (until `retryAfterMs` reaches 0, when the next call may
 * probe) or 'isolated', and only while `mode`, if given, is 'enforcing'.
 */
export interface BreakerStatus {
  readonly state: string;
  readonly mode?: string;
  readonly retryAfterMs?: number | undefined;
}

/**
 * Makes the degraded answer. `error` is the primary's failure for 'primary-failed', what
 * `healthy()` threw for 'health-check-error', and undefined otherwise.
 */
export type FeatureFallback<R> = (
  context: ExecutionContext,
  reason: DegradedReason,
  error: unknown,
) => R | PromiseLike<R>;

export interface FeatureOptions<R = never> extends PolicyOptions {
  /** The feature's flag: false answers every call with the fallback. Default: true. */
  enabled?: boolean;
  /**
   * The degraded answer, used while the feature is disabled or unhealthy and when its primary
   * fails. Default: none; a degraded feature then rejects with `FeatureDegradedError`, and a
   * failed primary's error reaches the caller.
   */
  fallback?: FeatureFallback<R>;
  /**
   * Asked before each call (synchronously; keep it a cheap read, e.g. a health registry's
   * `registry.healthy(name)`): false degrades the feature. Throwing counts as unhealthy.
   * Default: always healthy.
   */
  healthy?: () => boolean;
  /** A circuit breaker whose open or isolated state degrades the feature. Default: none. */
  breaker?: BreakerStatus;
  /**
   * Once degraded by health or breaker, stay degraded at least this long before running the
   * primary again, in milliseconds. Default: 0.
   */
  minDegradedMs?: number;
}

export interface FeatureEvents {
  /** The feature's mode changed, found on a call, `status()`, `enable()` or `disable()`. */
  modeChange: {
    readonly from: FeatureMode;
    readonly to: FeatureMode;
    readonly reason: FeatureReason;
    /** What `healthy()` threw, for 'health-check-error'; otherwise undefined. */
    readonly error: unknown;
  };
  /** A call is answered by the fallback; emitted just before the fallback is called. */
  degraded: {
    /** The call's key. */
    readonly key: string | undefined;
    readonly reason: DegradedReason;
    /** As the fallback receives it. */
    readonly error: unknown;
  };
}

/** A feature's mode and why, as `status()` reports it. */
export interface FeatureStatus {
  readonly mode: FeatureMode;
  readonly reason: FeatureReason;
}

/**
 * A feature with a degraded answer: runs the primary while the feature is enabled and healthy,
 * and the fallback otherwise or when the primary fails.
 */
export class FeaturePolicy<R = never> extends BasePolicy<FeatureEvents, unknown, R> {
  readonly #fallback: FeatureFallback<R> | undefined;
  readonly #healthy: (() => boolean) | undefined;
  readonly #breaker: BreakerStatus | undefined;
  readonly #minDegradedMs: number;
  readonly #clock: Clock;
  #enabled: boolean;
  #mode: FeatureMode;
  #reason: FeatureReason;
  /** When the feature last went into fallback mode; read only with `minDegradedMs`. */
  #degradedAt = 0;
  /** What `healthy()` last threw. */
  #healthError: unknown;

  constructor(options?: FeatureOptions<R>) {
    const opts = checkOptions<FeatureOptions<R>>('feature', options);
    super('feature', opts.name);
    const name = this.name;
    const enabled = opts.enabled ?? true;
    if (typeof enabled !== 'boolean') throw invalid(name, 'enabled', enabled, 'a boolean');
    this.#enabled = enabled;
    this.#mode = enabled ? 'primary' : 'disabled';
    this.#reason = enabled ? 'healthy' : 'disabled';
    this.#fallback =
      opts.fallback === undefined
        ? undefined
        : checkFunction<FeatureFallback<R>>(name, 'fallback', opts.fallback);
    this.#healthy =
      opts.healthy === undefined ? undefined : checkFunction(name, 'healthy', opts.healthy);
    const breaker = opts.breaker;
    if (
      breaker !== undefined &&
      (typeof breaker !== 'object' || breaker === null || typeof breaker.state !== 'string')
    ) {
      throw invalid(name, 'breaker', breaker, 'a circuit breaker (an object with a string state)');
    }
    this.#breaker = breaker;
    this.#minDegradedMs = checkMs(name, 'minDegradedMs', opts.minDegradedMs ?? 0);
    this.#clock = this.useClock(opts.clock);
    registerGauges(this);
  }

  /** @internal The mode last found; reading it asks nothing, unlike `status()`. */
  [readGauges](sink: GaugeSink): void {
    const mode = this.#mode;
    sink.state(this.name, 'feature', 'mode', mode, featureModes.indexOf(mode), featureModes);
  }

  /** The feature's flag, as last set. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The mode and reason found now: asks `healthy()` and the breaker, as a call would. */
  status(): FeatureStatus {
    this.#evaluate();
    return { mode: this.#mode, reason: this.#reason };
  }

  /** Turns the flag on: the next call runs the primary if the feature is healthy. */
  enable(): void {
    if (this.#enabled) return;
    this.#enabled = true;
    this.#evaluate();
  }

  /** Turns the flag off: every call answers with the fallback until `enable()`. */
  disable(): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    this.#evaluate();
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    const reason = this.#evaluate();
    if (reason !== undefined) {
      return this.#degrade(
        context,
        reason,
        reason === 'health-check-error' ? this.#healthError : undefined,
      );
    }
    if (this.#fallback === undefined) return next(context, index + 1);
    return next(context, index + 1).then(undefined, (error: unknown) => {
      // The caller has gone: nobody wants the degraded answer, and it is not made.
      if (context.scope.aborted) throw context.scope.reason;
      return this.#degrade(context, 'primary-failed', error);
    });
  }

  #degrade(context: Context, reason: DegradedReason, error: unknown): Promise<unknown> {
    const fallback = this.#fallback;
    if (fallback === undefined) {
      return Promise.reject(
        new FeatureDegradedError(
          `${this.name}: the feature is degraded (${reason}) and has no fallback`,
          this.name,
          reason,
        ),
      );
    }
    if (this.events.enabled) this.events.emit('degraded', { key: context.key, reason, error });
    try {
      return adopt(fallback(context, reason, error));
    } catch (thrown) {
      return Promise.reject(thrown);
    }
  }

  /** Finds the mode now, records it (emitting `modeChange`), and returns why it is degraded. */
  #evaluate(): Exclude<FeatureReason, 'healthy'> | undefined {
    if (!this.#enabled) {
      if (this.#mode !== 'disabled') this.#move('disabled', 'disabled');
      return 'disabled';
    }
    const unhealthy = this.#unhealthy();
    if (unhealthy !== undefined) {
      if (this.#mode !== 'fallback') {
        if (this.#minDegradedMs > 0) this.#degradedAt = this.#clock.now();
        this.#move('fallback', unhealthy);
      } else this.#reason = unhealthy;
      return unhealthy;
    }
    if (this.#mode === 'primary') return undefined;
    if (
      this.#mode === 'fallback' &&
      this.#minDegradedMs > 0 &&
      this.#clock.now() - this.#degradedAt < this.#minDegradedMs
    ) {
      this.#reason = 'recovering';
      return 'recovering';
    }
    this.#move('primary', 'healthy');
    return undefined;
  }

  /** Why the feature is unhealthy now, or undefined when it is healthy. */
  #unhealthy():
    | 'unhealthy'
    | 'health-check-error'
    | 'breaker-open'
    | 'breaker-isolated'
    | undefined {
    const breaker = this.#breaker;
    if (breaker !== undefined) {
      const state = breaker.state;
      if (state === 'open' || state === 'isolated') {
        const mode = breaker.mode;
        if (mode === undefined || mode === 'enforcing') {
          if (state === 'isolated') return 'breaker-isolated';
          // A break that has ended lets the call through: it is the breaker's probe, and an
          // open breaker only turns half-open when a call reaches it.
          if (breaker.retryAfterMs !== 0) return 'breaker-open';
        }
      }
    }
    const healthy = this.#healthy;
    if (healthy === undefined) return undefined;
    try {
      return verdict(this.name, 'healthy', healthy()) ? undefined : 'unhealthy';
    } catch (error) {
      this.#healthError = error;
      return 'health-check-error';
    }
  }

  #move(to: FeatureMode, reason: FeatureReason): void {
    const from = this.#mode;
    this.#mode = to;
    this.#reason = reason;
    if (this.events.enabled) {
      const error = reason === 'health-check-error' ? this.#healthError : undefined;
      this.events.emit('modeChange', { from, to, reason, error });
    }
  }
}

/**
 * A feature with graceful degradation, e.g.
 * `feature({ name: 'ranking', healthy: () => registry.healthy('ranking'), fallback: simpleSearch })`:
 * `execute(primary)` runs `primary` while the feature is enabled and healthy, and `fallback`
 * otherwise, or when `primary` fails.
 */
export function feature<R = never>(options?: FeatureOptions<R>): FeaturePolicy<R> {
  return new FeaturePolicy<R>(options);
}
