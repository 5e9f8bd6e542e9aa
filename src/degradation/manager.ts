import type { Clock } from '../core/clock.js';
import type { ExecuteOptions, Task } from '../core/context.js';
import { describe } from '../core/policy.js';
import { checkClock, checkOptions, invalid } from '../core/validate.js';
import { type FeatureOptions, FeaturePolicy, type FeatureStatus } from './feature.js';

/** One feature of a manager: a feature's options; its name and clock come from the manager. */
export type ManagedFeatureOptions<R = never> = Omit<FeatureOptions<R>, 'name' | 'clock'>;

export interface FeatureManagerOptions {
  /**
   * Prefix of every feature's policy name: feature `ranking` is named `<name>.ranking` in
   * events and metrics. Default: 'features'.
   */
  name?: string;
  /** Where every feature's time comes from. Default: the system clock. */
  clock?: Clock;
}

/**
 * Named features with their flags and fallbacks, so a service can turn features off, see
 * which are degraded, and load its flags from configuration in one place.
 */
export class FeatureManager {
  readonly name: string;
  readonly #clock: Clock | undefined;
  readonly #features = new Map<string, FeaturePolicy<unknown>>();
  /** Runs the primary of a name nobody registered. */
  readonly #unregistered: FeaturePolicy<never>;

  constructor(options?: FeatureManagerOptions) {
    const opts = checkOptions<FeatureManagerOptions>('featureManager', options);
    const name = opts.name ?? 'features';
    if (typeof name !== 'string' || name === '') {
      throw invalid('featureManager', 'name', name, 'a non-empty string');
    }
    this.name = name;
    this.#clock = checkClock<Clock | undefined>('featureManager', opts.clock, undefined);
    this.#unregistered = new FeaturePolicy<never>({ name: `${name}.unregistered` });
  }

  /** Adds feature `name`; returns its policy (for `on()` and typed `execute`). */
  register<R = never>(name: string, options?: ManagedFeatureOptions<R>): FeaturePolicy<R> {
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(
        `${this.name}: a feature name must be a non-empty string (got ${describe(name)})`,
      );
    }
    if (this.#features.has(name)) {
      throw new TypeError(`${this.name}: feature ${describe(name)} is already registered`);
    }
    const opts = checkOptions<ManagedFeatureOptions<R>>(`${this.name}.${name}`, options);
    const policy = new FeaturePolicy<R>({
      ...opts,
      name: `${this.name}.${name}`,
      clock: this.#clock,
    });
    this.#features.set(name, policy as FeaturePolicy<unknown>);
    return policy;
  }

  /** The policy of feature `name`, or undefined if none is registered. */
  get(name: string): FeaturePolicy<unknown> | undefined {
    return this.#features.get(name);
  }

  /**
   * Runs `primary` under feature `name`: its fallback answers while it is degraded. A name
   * nobody registered runs `primary` as it is. The feature's fallback must answer the
   * primary's type; the policy from `register()` types it exactly.
   */
  execute<T, D = unknown>(
    name: string,
    primary: Task<T, D>,
    options?: ExecuteOptions<D>,
  ): Promise<T> {
    if (typeof name !== 'string') {
      return Promise.reject(
        new TypeError(
          `${this.name}: execute() needs a feature name string (got ${describe(name)})`,
        ),
      );
    }
    const policy = this.#features.get(name) ?? this.#unregistered;
    return policy.execute(primary, options) as Promise<T>;
  }

  /** Turns feature `name` on. */
  enable(name: string): void {
    this.#feature(name).enable();
  }

  /** Turns feature `name` off: its fallback answers every call until `enable()`. */
  disable(name: string): void {
    this.#feature(name).disable();
  }

  /** Each feature's mode and reason now, by name (asks each health check and breaker). */
  status(): Record<string, FeatureStatus> {
    const status: Record<string, FeatureStatus> = {};
    for (const [name, policy] of this.#features) status[name] = policy.status();
    return status;
  }

  /**
   * Sets many flags at once from `{ [name]: boolean }`, e.g. parsed configuration. Every flag
   * is checked first: one that names no registered feature, or is not a boolean, throws a
   * TypeError naming it, and then no flag is changed.
   */
  load(flags: Readonly<Record<string, boolean>>): void {
    if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) {
      throw new TypeError(
        `${this.name}: load() needs an object of feature name to boolean (got ${describe(flags)})`,
      );
    }
    const changes: [FeaturePolicy<unknown>, boolean][] = [];
    for (const name of Object.keys(flags)) {
      const value: unknown = flags[name];
      const policy = this.#features.get(name);
      if (policy === undefined) {
        throw new TypeError(
          `${this.name}: load() flag ${describe(name)} names no registered feature`,
        );
      }
      if (typeof value !== 'boolean') {
        throw new TypeError(
          `${this.name}: load() flag ${describe(name)} must be a boolean (got ${describe(value)})`,
        );
      }
      changes.push([policy, value]);
    }
    for (const [policy, on] of changes) {
      if (on) policy.enable();
      else policy.disable();
    }
  }

  #feature(name: string): FeaturePolicy<unknown> {
    const policy = this.#features.get(name);
    if (policy === undefined) {
      throw new RangeError(`${this.name}: no feature named ${describe(name)} is registered`);
    }
    return policy;
  }
}

/** Named features with flags, e.g. `featureManager({ name: 'search' })`. */
export function featureManager(options?: FeatureManagerOptions): FeatureManager {
  return new FeatureManager(options);
}
