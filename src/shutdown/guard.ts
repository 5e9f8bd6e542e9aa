import { type Context, next } from '../core/context.js';
import { ShuttingDownError } from '../core/errors.js';
import { BasePolicy } from '../core/policy.js';

/** What the guard shares with its shutdown manager: the gate and the count of work. @internal */
export interface WorkGate {
  /** False once the servers stop accepting: from then on new calls are refused. */
  accepting: boolean;
  /** Called when a guarded call starts, and when it settles. */
  started(): void;
  ended(): void;
}

/**
 * Refuses new calls with `ShuttingDownError` once a graceful shutdown starts draining, and lets
 * the calls already running finish: they count as tracked work, which the shutdown waits for
 * (up to its drain deadline) before it runs its hooks and exits.
 */
export class ShutdownGuardPolicy extends BasePolicy {
  readonly #gate: WorkGate;

  /** @internal Made by `gracefulShutdown()`: use its `guard`. */
  constructor(name: string, gate: WorkGate) {
    super('shutdown', name);
    this.#gate = gate;
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    if (context.scope.aborted) return Promise.reject(context.scope.reason);
    if (!this.#gate.accepting) {
      return Promise.reject(
        new ShuttingDownError(`${this.name}: shutting down, new calls are refused`),
      );
    }
    this.#gate.started();
    // next() never throws: it turns a throwing task into a rejection.
    return next(context, index + 1).then(this.#endWith, this.#endWithError);
  }

  readonly #endWith = (value: unknown): unknown => {
    this.#gate.ended();
    return value;
  };

  readonly #endWithError = (error: unknown): never => {
    this.#gate.ended();
    throw error;
  };
}
