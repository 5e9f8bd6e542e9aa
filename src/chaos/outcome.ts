import { adopt, type Context, type ExecutionContext, next } from '../core/context.js';
import { describe } from '../core/policy.js';
import { checkOptions } from '../core/validate.js';
import { type ChaosOptions, ChaosPolicy, type Injector } from './chaos-policy.js';

/** Makes the value an injected call answers; undefined leaves that call alone. */
export type OutcomeValue<R> = (
  context: ExecutionContext,
) => R | undefined | PromiseLike<R | undefined>;

export interface ChaosOutcomeOptions<R> extends ChaosOptions {
  /**
   * What an injected call answers instead of running: a function of the call's context that
   * makes it (a value or a promise; a fresh `Response` per call, since a body is read once),
   * or any other value, answered as it is. A function answering undefined leaves that call
   * alone, as Simmy's outcome generator answering null; if it throws or rejects, the call
   * fails with that error. Required.
   */
  value: OutcomeValue<R> | Exclude<R, Function>;
}

/**
 * Answers a share of calls with a made-up value instead of running them (Simmy's outcome
 * strategy), e.g. a fake HTTP 503 `Response`, so the policies around it see a bad result
 * rather than an error.
 */
export class ChaosOutcomePolicy<R = unknown> extends ChaosPolicy<R> {
  readonly #value: OutcomeValue<R> | R;

  constructor(options: ChaosOutcomeOptions<R>) {
    const opts = checkOptions<ChaosOutcomeOptions<R>>('chaos-outcome', options);
    super('chaos-outcome', opts);
    if (opts.value === undefined) {
      throw new TypeError(
        `${this.name}: option "value" must be a function or the value to answer (got ${describe(opts.value)})`,
      );
    }
    this.#value = opts.value as OutcomeValue<R> | R;
  }

  /** @internal */
  inject(context: Context, index: number, injector: Injector): Promise<unknown> {
    const value = this.#value;
    if (typeof value !== 'function') return this.#answer(value, context, injector);
    const made = (value as OutcomeValue<R>)(context);
    if (made === undefined) return next(context, index + 1);
    if (!isThenable(made)) return this.#answer(made, context, injector);
    return adopt(made).then((settled) =>
      settled === undefined ? next(context, index + 1) : this.#answer(settled, context, injector),
    );
  }

  #answer(value: unknown, context: Context, injector: Injector): Promise<unknown> {
    const { events } = injector;
    if (events.enabled) {
      events.emit('outcome', { key: context.key, experiment: injector.experiment });
    }
    return Promise.resolve(value);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Answers a share of calls (`rate`, default 0.001) with `value` instead of running them:
 * `chaos.outcome({ rate: 0.1, value: () => new Response(null, { status: 503 }) })`.
 */
export function outcome<R>(options: ChaosOutcomeOptions<R>): ChaosOutcomePolicy<R> {
  return new ChaosOutcomePolicy<R>(options);
}
