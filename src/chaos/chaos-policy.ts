import type { Clock } from '../core/clock.js';
import { type Context, type ExecutionContext, next } from '../core/context.js';
import type { PolicyEvents } from '../core/events.js';
import { BasePolicy, describe, type PolicyOptions } from '../core/policy.js';
import { checkFraction, checkFunction, invalid, verdict } from '../core/validate.js';
import type { Random } from '../sim/random.js';

/** A chance per call from 0 to 1, or a function of the call's context that answers one. */
export type InjectionRate = number | ((context: ExecutionContext) => number);

/** Whether chaos is on: fixed when the policy is built, or asked on every call. */
export type ChaosEnabled = boolean | (() => boolean);

/** Options every chaos policy takes, with Simmy v8's defaults. */
export interface ChaosOptions extends PolicyOptions {
  /**
   * The chance that a call is injected, from 0 to 1: a number, or a function of the call's
   * context asked on every call (it must answer synchronously with a number from 0 to 1).
   * Default 0.001 (one call in a thousand), as Simmy's `InjectionRate`.
   */
  rate?: InjectionRate;
  /**
   * Whether the policy injects anything. `false` takes the policy out of every chain it is in
   * (it costs nothing); a function is asked on every call, before the rate (an environment or
   * feature-flag check). Default true, as Simmy v8.
   */
  enabled?: ChaosEnabled;
  /** Uniform random numbers in [0, 1) that decide each injection. Default `Math.random`. */
  random?: Random;
}

/** One event per injection; `experiment` names the monkey's experiment that fired it. */
export interface ChaosEvents {
  /** The call was failed with `error` instead of running. */
  fault: {
    readonly key: string | undefined;
    readonly experiment: string | undefined;
    readonly error: Error;
  };
  /** The call waits `ms` before the rest of the pipeline runs. */
  latency: {
    readonly key: string | undefined;
    readonly experiment: string | undefined;
    readonly ms: number;
  };
  /** The call was answered with a made-up value instead of running. */
  outcome: { readonly key: string | undefined; readonly experiment: string | undefined };
  /** A side effect runs before the rest of the pipeline. */
  behavior: { readonly key: string | undefined; readonly experiment: string | undefined };
}

/**
 * Who an injection is done for: the chaos policy on its own, or a monkey's experiment. Events
 * go to its listeners and latency runs on its clock. Made once per policy or experiment.
 * @internal
 */
export interface Injector {
  readonly events: PolicyEvents<ChaosEvents>;
  readonly experiment: string | undefined;
  readonly clock: Clock;
}

const DEFAULT_RATE = 0.001;

/**
 * What the four chaos policies share: Simmy v8's decision whether to inject (enabled, then
 * rate, then a random draw below the rate). Each subclass says what an injection does.
 */
export abstract class ChaosPolicy<Out = never> extends BasePolicy<ChaosEvents, unknown, Out> {
  readonly #rate: number;
  readonly #rateOf: ((context: ExecutionContext) => number) | undefined;
  readonly #enabledOf: (() => boolean) | undefined;
  readonly #random: Random;
  readonly #self: Injector;

  protected constructor(defaultName: string, options: ChaosOptions) {
    // Disabled for good: no layer at all, so a pipeline runs as if the policy were not there.
    super('chaos', options.name ?? defaultName, options.enabled === false ? [] : undefined);
    const { rate = DEFAULT_RATE, enabled = true } = options;
    if (typeof rate === 'function') {
      this.#rate = Number.NaN;
      this.#rateOf = rate;
    } else {
      this.#rate = checkFraction(this.name, 'rate', rate);
    }
    if (typeof enabled === 'function') this.#enabledOf = enabled;
    else if (typeof enabled !== 'boolean') {
      throw invalid(this.name, 'enabled', enabled, 'a boolean or a function returning one');
    }
    this.#random =
      options.random === undefined
        ? Math.random
        : checkFunction<Random>(this.name, 'random', options.random);
    const clock = this.useClock(options.clock);
    this.#self = { events: this.events, experiment: undefined, clock };
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    const enabledOf = this.#enabledOf;
    if (enabledOf !== undefined && !verdict(this.name, 'enabled', enabledOf())) {
      return next(context, index + 1);
    }
    const rateOf = this.#rateOf;
    const rate = rateOf === undefined ? this.#rate : checkRate(this.name, 'rate', rateOf(context));
    if (draw(this.name, this.#random) < rate) return this.inject(context, index, this.#self);
    return next(context, index + 1);
  }

  /**
   * Does the injection for `injector`, then carries on with the chain after `index` if the
   * injection lets the call run. An injection that turns out to be nothing for this call (a
   * latency of 0, an error function answering undefined) runs the rest and reports nothing.
   * @internal
   */
  abstract inject(context: Context, index: number, injector: Injector): Promise<unknown>;
}

/** A chance answered for one call: a number from 0 to 1, or a TypeError rejects the call. */
export function checkRate(policy: string, option: string, value: unknown): number {
  if (typeof value === 'number' && value >= 0 && value <= 1) return value;
  throw answered(policy, option, value, 'a number from 0 to 1');
}

/** One draw from `random`, which must answer a number in [0, 1). */
export function draw(policy: string, random: Random): number {
  const value = random();
  if (typeof value === 'number' && value >= 0 && value < 1) return value;
  throw answered(policy, 'random', value, 'a number from 0 up to (not including) 1');
}

/** The TypeError for a function option's bad answer for one call. */
export function answered(
  policy: string,
  option: string,
  value: unknown,
  expected: string,
): TypeError {
  // Nobody will await it: its own rejection must not surface as an unhandled one.
  if (value instanceof Promise) value.catch(ignore);
  const shown = value instanceof Promise ? 'a promise' : describe(value);
  return new TypeError(
    `${policy}: option "${option}" returned ${shown} for this call; expected ${expected}`,
  );
}

function ignore(): void {}
