import { sleep } from '../core/clock.js';
import { type Context, type ExecutionContext, next } from '../core/context.js';
import { checkMs, checkOptions, invalid } from '../core/validate.js';
import { answered, type ChaosOptions, ChaosPolicy, type Injector } from './chaos-policy.js';

/** A delay in milliseconds, or a function of the call's context answering one per call. */
export type InjectedLatency = number | ((context: ExecutionContext) => number);

export interface ChaosLatencyOptions extends ChaosOptions {
  /**
   * How long an injected call waits before the rest of the pipeline runs, in milliseconds
   * (>= 0, or Infinity for a hang that only an abort or a timeout ends); or a function of the
   * call's context answering that synchronously. 0 leaves the call alone. Default 30_000, as
   * Simmy's latency strategy.
   */
  ms?: InjectedLatency;
}

const DEFAULT_MS = 30_000;
const msExpected = 'a number of milliseconds >= 0 or Infinity';

/**
 * Delays a share of calls before the rest of the pipeline runs (Simmy's latency strategy).
 * The delay is on the policy's clock; the caller's abort or an enclosing timeout ends it at
 * once and leaves no timer behind. A delay longer than the call's deadline is still injected:
 * it is how the timeouts around it get tested.
 */
export class ChaosLatencyPolicy extends ChaosPolicy {
  readonly #ms: InjectedLatency;

  constructor(options?: ChaosLatencyOptions) {
    const opts = checkOptions<ChaosLatencyOptions>('chaos-latency', options);
    super('chaos-latency', opts);
    const { ms = DEFAULT_MS } = opts;
    if (typeof ms === 'number') checkMs(this.name, 'ms', ms, 0, true);
    else if (typeof ms !== 'function') {
      throw invalid(this.name, 'ms', ms, `${msExpected}, or a function returning one`);
    }
    this.#ms = ms;
  }

  /** @internal */
  inject(context: Context, index: number, injector: Injector): Promise<unknown> {
    const given = this.#ms;
    const ms = typeof given === 'number' ? given : given(context);
    if (!(typeof ms === 'number' && ms >= 0)) throw answered(this.name, 'ms', ms, msExpected);
    if (ms === 0) return next(context, index + 1);
    const { events } = injector;
    if (events.enabled) {
      events.emit('latency', { key: context.key, experiment: injector.experiment, ms });
    }
    return sleep(injector.clock, ms, context.scope).then(() => next(context, index + 1));
  }
}

/**
 * Delays a share of calls (`rate`, default 0.001) by `ms` (default 30 s) before running them:
 * `chaos.latency({ rate: 0.05, ms: 2_000 })`.
 */
export function latency(options?: ChaosLatencyOptions): ChaosLatencyPolicy {
  return new ChaosLatencyPolicy(options);
}
