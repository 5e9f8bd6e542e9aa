import type { Clock } from '../core/clock.js';
import { type Context, type ExecutionContext, next } from '../core/context.js';
import { BasePolicy, describe, type OutOf, type PolicyOptions } from '../core/policy.js';
import { checkFraction, checkFunction, checkOptions, invalid, verdict } from '../core/validate.js';
import type { Random } from '../sim/random.js';
import {
  type ChaosEnabled,
  type ChaosEvents,
  ChaosPolicy,
  checkRate,
  draw,
  type InjectionRate,
  type Injector,
} from './chaos-policy.js';
import { compileSchedule, type Schedule, type ScheduleWindow } from './schedule.js';

/** One named experiment of a chaos monkey. */
export interface ChaosExperiment<P extends ChaosPolicy<unknown> = ChaosPolicy<unknown>> {
  /** Names it in `enable()`, `disable()` and the events' `experiment`. Unique, non-empty. */
  readonly name: string;
  /**
   * Its chance per call, from 0 to 1, or a function of the call's context answering one. It
   * replaces the impact's own `rate`. Required.
   */
  readonly probability: InjectionRate;
  /**
   * What it injects: a chaos policy (`chaos.fault(...)`, `chaos.latency(...)`, ...). Only its
   * effect is used; its `rate`, `enabled`, `random` and `clock` are the monkey's. Required.
   */
  readonly impact: P;
  /** Whether it starts enabled; `enable()` and `disable()` change it. Default true. */
  readonly enabled?: boolean;
  /** When it may fire: any of these windows (on the monkey's clock). Default: at any time. */
  readonly schedule?: readonly ScheduleWindow[];
}

export interface ChaosMonkeyOptions<
  E extends readonly ChaosExperiment[] = readonly ChaosExperiment[],
> extends PolicyOptions {
  /**
   * The experiments, in the order their chances are laid out on one random draw per call, so
   * at most one fires per call and each fires with its own probability. Their probabilities
   * must add up to at most 1. Required (it may be empty).
   */
  experiments: E;
  /**
   * Whether the monkey does anything at all: `false` takes it out of every chain (it costs
   * nothing), a function is asked on every call. Default true.
   */
  enabled?: ChaosEnabled;
  /** Uniform random numbers in [0, 1); one draw per call. Default `Math.random`. */
  random?: Random;
}

/** An experiment as the monkey runs it. */
interface Experiment extends Injector {
  readonly experiment: string;
  /** Where it sits in the options, for errors: `experiments[2]`. */
  readonly option: string;
  readonly probability: number;
  readonly probabilityOf: ((context: ExecutionContext) => number) | undefined;
  readonly impact: ChaosPolicy<unknown>;
  readonly schedule: Schedule | undefined;
  on: boolean;
}

/**
 * Netflix's Chaos Monkey inside the process: named experiments, each injecting one chaos
 * policy's effect with its own probability, within its own time windows, switched on and off
 * at run time. It is a policy: put it in a pipeline where the failure should appear.
 */
export class ChaosMonkey<Out = never> extends BasePolicy<ChaosEvents, unknown, Out> {
  readonly #experiments: readonly Experiment[];
  readonly #byName = new Map<string, Experiment>();
  readonly #enabledOf: (() => boolean) | undefined;
  readonly #random: Random;
  readonly #clock: Clock;

  constructor(options: ChaosMonkeyOptions) {
    const opts = checkOptions<ChaosMonkeyOptions>('chaos-monkey', options);
    super('chaos', opts.name ?? 'chaos-monkey', opts.enabled === false ? [] : undefined);
    const { enabled = true } = opts;
    if (typeof enabled === 'function') this.#enabledOf = enabled;
    else if (typeof enabled !== 'boolean') {
      throw invalid(this.name, 'enabled', enabled, 'a boolean or a function returning one');
    }
    this.#random =
      opts.random === undefined
        ? Math.random
        : checkFunction<Random>(this.name, 'random', opts.random);
    this.#clock = this.useClock(opts.clock);
    if (!Array.isArray(opts.experiments)) {
      throw invalid(this.name, 'experiments', opts.experiments, 'an array of experiments');
    }
    this.#experiments = opts.experiments.map((given, at) => this.#experiment(given, at));
    const total = this.#experiments.reduce((sum, e) => sum + (e.probability || 0), 0);
    if (total > 1 + 1e-9) {
      throw new TypeError(
        `${this.name}: option "experiments" has probabilities adding up to ${total}; at most one experiment fires per call, so they must add up to at most 1`,
      );
    }
  }

  /** Lets the experiment fire again (within its schedule). Throws for an unknown name. */
  enable(name: string): void {
    this.#named(name).on = true;
  }

  /** Stops the experiment from firing until `enable(name)`. Throws for an unknown name. */
  disable(name: string): void {
    this.#named(name).on = false;
  }

  /** Whether the experiment is enabled (its schedule aside). Throws for an unknown name. */
  isEnabled(name: string): boolean {
    return this.#named(name).on;
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    const enabledOf = this.#enabledOf;
    if (enabledOf !== undefined && !verdict(this.name, 'enabled', enabledOf())) {
      return next(context, index + 1);
    }
    const roll = draw(this.name, this.#random);
    let edge = 0;
    for (const experiment of this.#experiments) {
      const { probabilityOf } = experiment;
      edge +=
        probabilityOf === undefined
          ? experiment.probability
          : checkRate(this.name, `${experiment.option}.probability`, probabilityOf(context));
      if (roll < edge) {
        // The draw landed on this experiment's share: it fires, or nothing does.
        const { schedule } = experiment;
        if (!experiment.on || (schedule !== undefined && !schedule(this.#clock.now()))) break;
        return experiment.impact.inject(context, index, experiment);
      }
    }
    return next(context, index + 1);
  }

  #named(name: string): Experiment {
    const experiment = this.#byName.get(name);
    if (experiment !== undefined) return experiment;
    const known = [...this.#byName.keys()].map((n) => JSON.stringify(n)).join(', ');
    throw new TypeError(
      `${this.name}: no experiment named ${describe(name)} (experiments: ${known || 'none'})`,
    );
  }

  #experiment(given: unknown, at: number): Experiment {
    const option = `experiments[${at}]`;
    if (typeof given !== 'object' || given === null) {
      throw invalid(this.name, option, given, 'an object { name, probability, impact }');
    }
    const e = given as Partial<ChaosExperiment>;
    const { name, probability, impact, enabled = true } = e;
    if (typeof name !== 'string' || name === '') {
      throw invalid(this.name, `${option}.name`, name, 'a non-empty string');
    }
    if (this.#byName.has(name)) {
      throw invalid(this.name, `${option}.name`, name, 'a name no other experiment has');
    }
    if (typeof probability !== 'function')
      checkFraction(this.name, `${option}.probability`, probability);
    if (!(impact instanceof ChaosPolicy)) {
      throw invalid(
        this.name,
        `${option}.impact`,
        impact,
        'a chaos policy (chaos.fault, chaos.latency, chaos.outcome or chaos.behavior)',
      );
    }
    if (typeof enabled !== 'boolean') {
      throw invalid(this.name, `${option}.enabled`, enabled, 'a boolean');
    }
    const experiment: Experiment = {
      events: this.events,
      clock: this.#clock,
      experiment: name,
      option,
      probability: typeof probability === 'number' ? probability : Number.NaN,
      probabilityOf: typeof probability === 'function' ? probability : undefined,
      impact,
      schedule: compileSchedule(this.name, `${option}.schedule`, e.schedule),
      on: enabled,
    };
    this.#byName.set(name, experiment);
    return experiment;
  }
}

/** What any of the experiments' impacts may answer instead of the call's result. */
type ImpactsOut<E extends readonly ChaosExperiment[]> = OutOf<E[number]['impact']>;

/**
 * A chaos monkey: `chaosMonkey({ experiments: [{ name: 'db-down', probability: 0.01, impact:
 * chaos.fault({ error: () => new Error('db down') }) }] })`. Its `execute` (or its place in a
 * pipeline) injects at most one experiment's effect per call; `enable(name)` and
 * `disable(name)` switch experiments at run time; every injection is an event naming it.
 */
export function chaosMonkey<const E extends readonly ChaosExperiment[]>(
  options: ChaosMonkeyOptions<E>,
): ChaosMonkey<ImpactsOut<E>> {
  return new ChaosMonkey<ImpactsOut<E>>(options as ChaosMonkeyOptions);
}
