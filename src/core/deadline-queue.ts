import type { Clock, TimerHandle } from './clock.js';
import { DeadlineHeap, type HeapEntry } from './deadline-heap.js';
import { type Linked, LinkedList } from './linked-list.js';

/** One armed deadline: a node of the queue's list or an entry of its heap, never both. */
export interface Deadline extends Linked<Deadline>, HeapEntry {
  /** Called once when the deadline passes while still queued. */
  expire(): void;
}

/**
 * The deadlines of one policy (a timeout's expiries, a hedge's delays), served by a single
 * clock timer armed for the earliest.
 *
 * One policy's deadlines mostly arrive in order (now + the same budget): those are appended to
 * a sorted linked list in O(1) and leave it in O(1). A deadline earlier than the list's tail (a
 * caller's own `deadline`, a per-call budget) goes into a binary heap instead, in O(log n), and
 * leaves it in O(log n). The earliest deadline is the earlier of the two heads.
 *
 * Removing a deadline leaves the timer alone: a timer that fires early simply re-arms for the
 * new earliest, so a stream of calls that finish in time costs about one timer per period, not
 * one per call. What keeps the process alive depends on `holdsProcess`:
 * - true (a timeout): the timer is ref'd while anything waits; when the queue empties it stays
 *   armed but unref'd (if the clock can), and the next deadline re-refs it;
 * - false (a hedge delay, whose call holds its own I/O): the timer is unref'd as soon as it is
 *   armed, and nothing toggles per call.
 * A clock that cannot unref has the timer cleared whenever the queue empties.
 */
export class DeadlineQueue {
  readonly #list = new LinkedList<Deadline>();
  readonly #heap = new DeadlineHeap<Deadline>();
  #timer: TimerHandle | undefined;
  #armedFor = Number.POSITIVE_INFINITY;
  #refed = false;
  readonly #fire = (): void => this.#onTimer();

  constructor(
    private readonly clock: Clock,
    private readonly holdsProcess = true,
  ) {}

  /** How many deadlines are waiting. */
  get size(): number {
    return this.#list.size + this.#heap.size;
  }

  add(deadline: Deadline): void {
    const tail = this.#list.tail;
    const due = deadline.due;
    if (tail === undefined || tail.due <= due) this.#list.push(deadline);
    else this.#heap.push(deadline);
    if (due < this.#armedFor) this.#arm(due);
    else if (!this.#refed && this.holdsProcess) {
      this.clock.ref!(this.#timer);
      this.#refed = true;
    }
  }

  remove(deadline: Deadline): void {
    const removed = deadline.queued ? this.#list.remove(deadline) : this.#heap.remove(deadline);
    if (removed && this.#list.size === 0 && this.#heap.size === 0) this.#idle();
  }

  /** The deadline due first, from the list or the heap; the list's on a tie. */
  #earliest(): Deadline | undefined {
    const head = this.#list.head;
    const top = this.#heap.top;
    if (top === undefined || (head !== undefined && head.due <= top.due)) return head;
    return top;
  }

  #arm(due: number): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#armedFor = due;
    // Any finite span, however long: the clock, not this queue, deals with timer limits.
    this.#timer = this.clock.setTimeout(this.#fire, Math.max(0, due - this.clock.now()));
    this.#refed = true;
    if (!this.holdsProcess && this.clock.unref !== undefined) {
      this.clock.unref(this.#timer);
      this.#refed = false;
    }
  }

  /** Nothing is waiting: let the timer run out unref'd, or clear it if the clock cannot. */
  #idle(): void {
    if (this.#timer === undefined || !this.#refed) return;
    if (this.clock.unref !== undefined && this.clock.ref !== undefined) {
      this.clock.unref(this.#timer);
      this.#refed = false;
      return;
    }
    this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    this.#refed = false;
    const now = this.clock.now();
    for (let first = this.#earliest(); first !== undefined && first.due <= now; ) {
      this.remove(first);
      first.expire();
      first = this.#earliest();
    }
    const first = this.#earliest();
    if (first !== undefined) this.#arm(first.due);
  }
}
