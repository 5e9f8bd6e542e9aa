import type { Clock } from '../../../core/clock.js';
import type { Priority } from '../../../core/context.js';
import { requestScope } from '../request-scope.js';

/** What a call takes from the request being served, when a server adapter propagates it. */
export interface Inherited {
  /** On the client's clock; Infinity when the request came with no budget. */
  readonly deadline: number;
  readonly priority: Priority;
  readonly signal: AbortSignal;
}

/**
 * The deadline, priority and signal of the request this code runs for, if any. The deadline
 * is carried over as the time remaining (store.deadline - store.clock.now()), so the server's
 * clock and the client's need not share a scale.
 */
export function inheritedRequest(clock: Clock): Inherited | undefined {
  const store = requestScope.getStore();
  if (store === undefined) return undefined;
  const deadline =
    store.deadline === Number.POSITIVE_INFINITY
      ? store.deadline
      : clock.now() + (store.deadline - store.clock.now());
  return { deadline, priority: store.priority, signal: store.signal };
}

/**
 * One signal that aborts when either of two does, with that one's reason. Unlike
 * `AbortSignal.any`, it leaves nothing on either source once disposed, however long they live.
 */
export class EitherSignal {
  readonly #controller = new AbortController();
  readonly #onFirst = (): void => this.#abort(this.first.reason);
  readonly #onSecond = (): void => this.#abort(this.second.reason);

  constructor(
    readonly first: AbortSignal,
    readonly second: AbortSignal,
  ) {
    if (first.aborted) this.#controller.abort(first.reason);
    else if (second.aborted) this.#controller.abort(second.reason);
    else {
      first.addEventListener('abort', this.#onFirst);
      second.addEventListener('abort', this.#onSecond);
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  dispose(): void {
    this.first.removeEventListener('abort', this.#onFirst);
    this.second.removeEventListener('abort', this.#onSecond);
  }

  #abort(reason: unknown): void {
    this.dispose();
    this.#controller.abort(reason);
  }
}
