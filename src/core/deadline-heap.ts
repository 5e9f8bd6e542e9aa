/** What the heap orders: a due time, and the slot the heap keeps up to date. */
export interface HeapEntry {
  readonly due: number;
  /** The entry's position in the heap's array; -1 while it is not in the heap. */
  index: number;
}

/**
 * A binary min-heap on `due` whose entries know their own position, so any entry leaves in
 * O(log n) (a call that finishes early), not only the top. Equal dues come out in no set order.
 */
export class DeadlineHeap<E extends HeapEntry> {
  readonly #items: E[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The entry due first. */
  get top(): E | undefined {
    return this.#items[0];
  }

  push(entry: E): void {
    this.#items.push(entry);
    this.#up(entry, this.#items.length - 1);
  }

  /** Takes `entry` out wherever it is; false if it was not in the heap. */
  remove(entry: E): boolean {
    const at = entry.index;
    if (at === -1) return false;
    entry.index = -1;
    const last = this.#items.pop()!;
    if (last !== entry) {
      // The last entry fills the hole, then moves whichever way restores the order.
      if (at > 0 && last.due < this.#items[(at - 1) >> 1]!.due) this.#up(last, at);
      else this.#down(last, at);
    }
    return true;
  }

  /** Places `entry` at `at` or above it, moving larger parents down. */
  #up(entry: E, at: number): void {
    const items = this.#items;
    const due = entry.due;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = items[parentAt]!;
      if (parent.due <= due) break;
      items[at] = parent;
      parent.index = at;
      at = parentAt;
    }
    items[at] = entry;
    entry.index = at;
  }

  /** Places `entry` at `at` or below it, moving smaller children up. */
  #down(entry: E, at: number): void {
    const items = this.#items;
    const size = items.length;
    const due = entry.due;
    for (;;) {
      const leftAt = 2 * at + 1;
      if (leftAt >= size) break;
      let childAt = leftAt;
      let child = items[leftAt]!;
      let childDue = child.due;
      if (leftAt + 1 < size) {
        const right = items[leftAt + 1]!;
        const rightDue = right.due;
        if (rightDue < childDue) {
          childAt = leftAt + 1;
          child = right;
          childDue = rightDue;
        }
      }
      if (due <= childDue) break;
      items[at] = child;
      child.index = at;
      at = childAt;
    }
    items[at] = entry;
    entry.index = at;
  }
}
