import type { Context, ExecutionContext } from '../core/context.js';
import { next } from '../core/context.js';
import { checkOptions, invalid } from '../core/validate.js';
import { answered, type ChaosOptions, ChaosPolicy, type Injector } from './chaos-policy.js';

/** The error to fail a call with, or a function making one per call (undefined: not this one). */
export type FaultError = Error | ((context: ExecutionContext) => Error | undefined);

export interface ChaosFaultOptions extends ChaosOptions {
  /**
   * What an injected call fails with: an `Error` (the same instance every time), or a function
   * of the call's context that makes one, synchronously. A function that answers undefined
   * leaves that call alone, as Simmy's fault generator answering null. Required.
   */
  error: FaultError;
}

/** Fails a share of calls with an error, without running them (Simmy's fault strategy). */
export class ChaosFaultPolicy extends ChaosPolicy {
  readonly #error: FaultError;

  constructor(options: ChaosFaultOptions) {
    const opts = checkOptions<ChaosFaultOptions>('chaos-fault', options);
    super('chaos-fault', opts);
    const { error } = opts;
    if (!(error instanceof Error) && typeof error !== 'function') {
      throw invalid(this.name, 'error', error, 'an Error, or a function of the context making one');
    }
    this.#error = error;
  }

  /** @internal */
  inject(context: Context, index: number, injector: Injector): Promise<unknown> {
    const made = this.#error;
    const error = made instanceof Error ? made : made(context);
    if (error === undefined) return next(context, index + 1);
    if (!(error instanceof Error)) {
      throw answered(this.name, 'error', error, 'an Error, or undefined to leave the call alone');
    }
    const { events } = injector;
    if (events.enabled) {
      events.emit('fault', { key: context.key, experiment: injector.experiment, error });
    }
    return Promise.reject(error);
  }
}

/**
 * Fails a share of calls (`rate`, default 0.001) with `error` instead of running them:
 * `chaos.fault({ rate: 0.1, error: () => new Error('injected') })`.
 */
export function fault(options: ChaosFaultOptions): ChaosFaultPolicy {
  return new ChaosFaultPolicy(options);
}
