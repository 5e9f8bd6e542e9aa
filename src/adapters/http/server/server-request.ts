import type { ServerResponse } from 'node:http';
import type { Clock } from '../../../core/clock.js';
import type { Priority } from '../../../core/context.js';
import type { ScopedRequest } from '../request-scope.js';

const exchange: unique symbol = Symbol('bulwark.http.request');

interface WatchedResponse extends ServerResponse {
  [exchange]?: ServerRequest;
}

/**
 * The context of one request being handled, and the store a propagating scope carries. Its
 * AbortController is made only when something reads `signal` (or a shedder needs it to take a
 * disconnected request out of its queue); one shared listener on the response's 'close' serves
 * both the signal and the admission slot, and it goes with the response.
 * @internal
 */
export class ServerRequest implements ScopedRequest {
  readonly deadline: number;
  readonly priority: Priority;
  readonly clock: Clock;
  readonly #response: WatchedResponse;
  #controller: AbortController | undefined;
  #release: (() => void) | undefined;
  #watching = false;

  constructor(response: ServerResponse, deadline: number, priority: Priority, clock: Clock) {
    this.#response = response;
    this.deadline = deadline;
    this.priority = priority;
    this.clock = clock;
  }

  /** Aborts when the client goes away before the response is complete. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#response.closed) this.closed();
      else this.#watch();
    }
    return this.#controller.signal;
  }

  /** Whether the connection closed before the response was complete. */
  get disconnected(): boolean {
    return this.#response.closed && !this.#response.writableFinished;
  }

  /** Calls `release` once the response closes, complete or not. */
  releaseOnClose(release: () => void): void {
    if (this.#response.closed) {
      release();
      return;
    }
    this.#release = release;
    this.#watch();
  }

  /** Calls what `releaseOnClose` holds now, if it still holds it: once, whatever comes first. */
  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#response[exchange] = this;
    this.#response.once('close', onClose);
  }

  /** @internal */
  closed(): void {
    if (this.disconnected) {
      this.#controller?.abort(
        new DOMException(
          'The client closed the connection before the response was complete',
          'AbortError',
        ),
      );
    }
    this.release();
  }
}

/** One listener shared by every response: no closure per request. */
function onClose(this: WatchedResponse): void {
  this[exchange]?.closed();
}
