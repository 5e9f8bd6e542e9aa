import type { AbortScope } from '../core/abort-scope.js';

/**
 * A call waiting for a bulkhead slot: a node of the queue's doubly linked list, holding the
 * settle functions of the promise the call awaits.
 */
export class Waiter {
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  queued = false;
  resolve: () => void = noop;
  reject: (reason: unknown) => void = noop;
  onAbort: (reason: unknown) => void = noop;

  constructor(
    readonly scope: AbortScope,
    /** When it joined the queue, on the bulkhead's clock. */
    readonly since: number,
    /** When its queue wait runs out; Infinity when it never does. */
    readonly due: number,
  ) {}
}

function noop(): void {}

/**
 * FIFO of waiters with O(1) push, shift and removal from anywhere, so a caller that gives up
 * (abort, queue timeout) leaves at once however long the queue is.
 */
export class WaitQueue {
  #head: Waiter | undefined;
  #tail: Waiter | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get head(): Waiter | undefined {
    return this.#head;
  }

  push(waiter: Waiter): void {
    waiter.prev = this.#tail;
    waiter.next = undefined;
    if (this.#tail === undefined) this.#head = waiter;
    else this.#tail.next = waiter;
    this.#tail = waiter;
    waiter.queued = true;
    this.#size++;
  }

  shift(): Waiter | undefined {
    const head = this.#head;
    if (head !== undefined) this.remove(head);
    return head;
  }

  /** Takes `waiter` out wherever it is; does nothing if it already left. */
  remove(waiter: Waiter): void {
    if (!waiter.queued) return;
    waiter.queued = false;
    if (waiter.prev === undefined) this.#head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.#size--;
  }
}
