import type { AbortScope } from '../core/abort-scope.js';
import type { Context } from '../core/context.js';
import type { Reservation } from './store.js';

/**
 * A call that holds a reservation and waits for its time. Carries what giving the reservation
 * back takes, so an abort can return it without asking anyone.
 */
export class Waiter implements Reservation {
  /** Position in the heap; -1 once out of it. */
  index = -1;
  resolve: () => void = noop;
  reject: (reason: unknown) => void = noop;
  onAbort: (reason: unknown) => void = noop;
  bucket: Reservation['bucket'] = undefined;
  version = 0;
  a = 0;
  b = 0;
  c = 0;
  d = 0;
  fullAt = 0;

  constructor(
    readonly context: Context,
    readonly scope: AbortScope,
    /** When the reservation lets it run, on the limiter's clock. */
    readonly due: number,
    /** Breaks ties between equal dues: first come, first served. */
    readonly seq: number,
    /** When it started waiting. */
    readonly since: number,
  ) {}
}

function before(x: Waiter, y: Waiter): boolean {
  return x.due < y.due || (x.due === y.due && x.seq < y.seq);
}

/**
 * Waiters of every key in one binary min-heap on (due, arrival), served by one timer armed for
 * the top. A waiter that gives up leaves from anywhere in O(log n).
 */
export class WaiterHeap {
  readonly #items: Waiter[] = [];

  get size(): number {
    return this.#items.length;
  }

  get top(): Waiter | undefined {
    return this.#items[0];
  }

  push(waiter: Waiter): void {
    this.#items.push(waiter);
    this.#up(waiter, this.#items.length - 1);
  }

  /** Takes `waiter` out wherever it is; false if it was not in the heap. */
  remove(waiter: Waiter): boolean {
    const at = waiter.index;
    if (at === -1) return false;
    waiter.index = -1;
    const last = this.#items.pop()!;
    if (last !== waiter) {
      if (at > 0 && before(last, this.#items[(at - 1) >> 1]!)) this.#up(last, at);
      else this.#down(last, at);
    }
    return true;
  }

  #up(waiter: Waiter, at: number): void {
    const items = this.#items;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = items[parentAt]!;
      if (!before(waiter, parent)) break;
      items[at] = parent;
      parent.index = at;
      at = parentAt;
    }
    items[at] = waiter;
    waiter.index = at;
  }

  #down(waiter: Waiter, at: number): void {
    const items = this.#items;
    const size = items.length;
    for (;;) {
      const leftAt = 2 * at + 1;
      if (leftAt >= size) break;
      let childAt = leftAt;
      if (leftAt + 1 < size && before(items[leftAt + 1]!, items[leftAt]!)) childAt = leftAt + 1;
      const child = items[childAt]!;
      if (!before(child, waiter)) break;
      items[at] = child;
      child.index = at;
      at = childAt;
    }
    items[at] = waiter;
    waiter.index = at;
  }
}

function noop(): void {}
