import type { Clock, TimerHandle } from '../core/clock.js';
import { type Linked, LinkedList } from '../core/linked-list.js';

/** One armed deadline: a node of the queue's list. */
export interface Deadline extends Linked<Deadline> {
  readonly due: number;
  /** Called once when the deadline passes while still queued. */
  expire(): void;
}

/**
 * The deadlines of one timeout policy, ordered by due time, served by a single clock timer
 * armed for the earliest. One policy's deadlines almost always arrive in order (now + the same
 * budget), so insertion scans from the tail and is O(1) in practice; removal is O(1).
 *
 * Finishing a call removes its deadline but leaves the timer alone: a timer that fires early
 * simply re-arms for the new head. When the queue empties the timer stays armed but unref'd
 * (if the clock can), so the next call re-refs it instead of arming a timer of its own. A
 * stream of calls that finish in time thus costs about one timer per budget period, and an
 * idle policy never keeps the process alive.
 */
export class DeadlineQueue {
  readonly #list = new LinkedList<Deadline>();
  #timer: TimerHandle | undefined;
  #armedFor = Number.POSITIVE_INFINITY;
  #refed = false;
  readonly #fire = (): void => this.#onTimer();

  constructor(private readonly clock: Clock) {}

  /** How many deadlines are waiting. */
  get size(): number {
    return this.#list.size;
  }

  add(deadline: Deadline): void {
    let after = this.#list.tail;
    while (after !== undefined && after.due > deadline.due) after = after.prev;
    this.#list.insertAfter(deadline, after);
    if (deadline.due < this.#armedFor) this.#arm(deadline.due);
    else if (!this.#refed) {
      this.clock.ref!(this.#timer);
      this.#refed = true;
    }
  }

  remove(deadline: Deadline): void {
    if (this.#list.remove(deadline) && this.#list.size === 0) this.#idle();
  }

  #arm(due: number): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#armedFor = due;
    this.#refed = true;
    this.#timer = this.clock.setTimeout(this.#fire, Math.max(0, due - this.clock.now()));
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
    for (
      let head = this.#list.head;
      head !== undefined && head.due <= now;
      head = this.#list.head
    ) {
      this.#list.remove(head);
      head.expire();
    }
    const head = this.#list.head;
    if (head !== undefined) this.#arm(head.due);
  }
}
