import type { Clock, TimerHandle } from '../core/clock.js';

/** One armed deadline: a node of the queue's doubly linked list. */
export interface Deadline {
  prev: Deadline | undefined;
  next: Deadline | undefined;
  queued: boolean;
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
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #timer: TimerHandle | undefined;
  #armedFor = Number.POSITIVE_INFINITY;
  #refed = false;
  readonly #fire = (): void => this.#onTimer();

  constructor(private readonly clock: Clock) {}

  /** How many deadlines are waiting. O(n): for tests and diagnostics. */
  get size(): number {
    let count = 0;
    for (let node = this.#head; node !== undefined; node = node.next) count++;
    return count;
  }

  add(deadline: Deadline): void {
    let after = this.#tail;
    while (after !== undefined && after.due > deadline.due) after = after.prev;
    deadline.prev = after;
    deadline.next = after === undefined ? this.#head : after.next;
    if (deadline.next === undefined) this.#tail = deadline;
    else deadline.next.prev = deadline;
    if (after === undefined) this.#head = deadline;
    else after.next = deadline;
    deadline.queued = true;
    if (deadline.due < this.#armedFor) this.#arm(deadline.due);
    else if (!this.#refed) {
      this.clock.ref!(this.#timer);
      this.#refed = true;
    }
  }

  remove(deadline: Deadline): void {
    if (!deadline.queued) return;
    deadline.queued = false;
    if (deadline.prev === undefined) this.#head = deadline.next;
    else deadline.prev.next = deadline.next;
    if (deadline.next === undefined) this.#tail = deadline.prev;
    else deadline.next.prev = deadline.prev;
    deadline.prev = undefined;
    deadline.next = undefined;
    if (this.#head === undefined) this.#idle();
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
    for (let head = this.#head; head !== undefined && head.due <= now; head = this.#head) {
      this.remove(head);
      head.expire();
    }
    if (this.#head !== undefined) this.#arm(this.#head.due);
  }
}
