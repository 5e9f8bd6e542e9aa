import { adopt, type Context, type ExecutionContext, next } from '../core/context.js';
import { checkFunction, checkOptions } from '../core/validate.js';
import { type ChaosOptions, ChaosPolicy, type Injector } from './chaos-policy.js';

/** A side effect run before an injected call. */
export type ChaosBehavior = (context: ExecutionContext) => void | PromiseLike<void>;

export interface ChaosBehaviorOptions extends ChaosOptions {
  /**
   * The side effect (drop a cache entry, kill a connection, burn CPU), given the call's
   * context; it may return a promise, which is awaited. If it throws or rejects, the call
   * fails with that error and the rest of the pipeline does not run. Required.
   */
  run: ChaosBehavior;
}

/**
 * Runs a side effect before a share of calls, then the rest of the pipeline (Simmy's behavior
 * strategy). If the caller aborts meanwhile, the rest does not run.
 */
export class ChaosBehaviorPolicy extends ChaosPolicy {
  readonly #run: ChaosBehavior;

  constructor(options: ChaosBehaviorOptions) {
    const opts = checkOptions<ChaosBehaviorOptions>('chaos-behavior', options);
    super('chaos-behavior', opts);
    this.#run = checkFunction<ChaosBehavior>(this.name, 'run', opts.run);
  }

  /** @internal */
  inject(context: Context, index: number, injector: Injector): Promise<unknown> {
    const { events } = injector;
    if (events.enabled) {
      events.emit('behavior', { key: context.key, experiment: injector.experiment });
    }
    return adopt(this.#run(context)).then(() => {
      const { scope } = context;
      return scope.aborted ? Promise.reject(scope.reason) : next(context, index + 1);
    });
  }
}

/**
 * Runs `run` before a share of calls (`rate`, default 0.001), then the calls themselves:
 * `chaos.behavior({ rate: 0.01, run: () => pool.destroyOne() })`.
 */
export function behavior(options: ChaosBehaviorOptions): ChaosBehaviorPolicy {
  return new ChaosBehaviorPolicy(options);
}
