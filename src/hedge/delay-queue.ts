import type { Clock, TimerHandle } from '../core/clock.js';
import { type Linked, LinkedList } from '../core/linked-list.js';

/** One armed hedge delay: a node of the queue's list or an entry of its heap, never both. */
export interface Due extends Linked<Due> {
  /** When the delay runs out, on the clock's scale. */
  due: number;
  /** The entry's place in the heap; -1 while it is not in the heap. */
  index: number;
  /** Called once when the delay runs out while still queued. */
  expire(): void;
}

/**
 * Every hedge delay of one policy, served by a single clock timer armed for the earliest.
 *
 * A policy's delays mostly come due in the order they are added (now + the same delay): those
 * are appended to a sorted linked list in O(1) and leave it in O(1), which is the path of every
 * call whose first attempt wins. A delay due before the list's tail (the percentile delay
 * shrank) goes into a binary heap instead, O(log n) both ways.
 *
 * A call that wins removes its entry but leaves the timer alone: a timer that fires with nothing
 * due re-arms for the new earliest, so a stream of calls that win costs about one timer per
 * delay, not one per call. The timer is unref'd as soon as it is armed (when the clock can):
 * a hedge delay never keeps a process alive by itself, since the attempt it waits on holds its
 * own I/O, and the calls need not toggle ref and unref as the queue empties and fills. A clock
 * without `unref` has its timer cleared whenever the queue empties. This is the structure of the
 * timeout's deadline queue; the two could share one in core.
 */
export class DelayQueue {
  readonly #list = new LinkedList<Due>();
  readonly #heap: Due[] = [];
  #timer: TimerHandle | undefined;
  #armedFor = Number.POSITIVE_INFINITY;
  readonly #fire = (): void => this.#onTimer();

  constructor(private readonly clock: Clock) {}

  /** How many delays are waiting. */
  get size(): number {
    return this.#list.size + this.#heap.length;
  }

  add(entry: Due): void {
    const tail = this.#list.tail;
    const due = entry.due;
    if (tail === undefined || tail.due <= due) this.#list.push(entry);
    else this.#heapPush(entry);
    if (due < this.#armedFor) this.#arm(due);
  }

  remove(entry: Due): void {
    const removed = entry.queued ? this.#list.remove(entry) : this.#heapRemove(entry);
    if (
      removed &&
      this.clock.unref === undefined &&
      this.#list.size === 0 &&
      this.#heap.length === 0 &&
      this.#timer !== undefined
    ) {
      this.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#armedFor = Number.POSITIVE_INFINITY;
    }
  }

  #earliest(): Due | undefined {
    const head = this.#list.head;
    const top = this.#heap[0];
    if (top === undefined || (head !== undefined && head.due <= top.due)) return head;
    return top;
  }

  #arm(due: number): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#armedFor = due;
    this.#timer = this.clock.setTimeout(this.#fire, Math.max(0, due - this.clock.now()));
    this.clock.unref?.(this.#timer);
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (let first = this.#earliest(); first !== undefined && first.due <= now; ) {
      this.remove(first);
      // An entry's expiry may add entries (the next hedge's delay): the loop sees them.
      first.expire();
      first = this.#earliest();
    }
    const first = this.#earliest();
    if (first !== undefined && first.due < this.#armedFor) this.#arm(first.due);
  }

  #heapPush(entry: Due): void {
    this.#heap.push(entry);
    this.#up(entry, this.#heap.length - 1);
  }

  #heapRemove(entry: Due): boolean {
    const at = entry.index;
    if (at === -1) return false;
    entry.index = -1;
    const last = this.#heap.pop()!;
    if (last !== entry) {
      if (at > 0 && last.due < this.#heap[(at - 1) >> 1]!.due) this.#up(last, at);
      else this.#down(last, at);
    }
    return true;
  }

  #up(entry: Due, at: number): void {
    const heap = this.#heap;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = heap[parentAt]!;
      if (parent.due <= entry.due) break;
      heap[at] = parent;
      parent.index = at;
      at = parentAt;
    }
    heap[at] = entry;
    entry.index = at;
  }

  #down(entry: Due, at: number): void {
    const heap = this.#heap;
    const size = heap.length;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && heap[child + 1]!.due < heap[child]!.due) child++;
      const smaller = heap[child]!;
      if (entry.due <= smaller.due) break;
      heap[at] = smaller;
      smaller.index = at;
      at = child;
    }
    heap[at] = entry;
    entry.index = at;
  }
}
