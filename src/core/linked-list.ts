/** A node that sits in at most one `LinkedList` at a time; the list links it in place. */
export interface Linked<N> {
  prev: N | undefined;
  next: N | undefined;
  /** True while the node is in a list. */
  queued: boolean;
}

/**
 * An intrusive doubly linked list: the nodes carry their own links, so adding allocates
 * nothing, and a node can leave from anywhere in O(1). Policies queue waiters and deadlines in
 * it, where a caller who gives up must leave at once however long the queue is.
 */
export class LinkedList<N extends Linked<N>> {
  #head: N | undefined;
  #tail: N | undefined;
  #size = 0;

  get head(): N | undefined {
    return this.#head;
  }

  get tail(): N | undefined {
    return this.#tail;
  }

  get size(): number {
    return this.#size;
  }

  /** Links `node` right after `after`, or at the front when `after` is undefined. */
  insertAfter(node: N, after: N | undefined): void {
    node.prev = after;
    node.next = after === undefined ? this.#head : after.next;
    if (node.next === undefined) this.#tail = node;
    else node.next.prev = node;
    if (after === undefined) this.#head = node;
    else after.next = node;
    node.queued = true;
    this.#size++;
  }

  push(node: N): void {
    this.insertAfter(node, this.#tail);
  }

  shift(): N | undefined {
    const head = this.#head;
    if (head !== undefined) this.remove(head);
    return head;
  }

  /** Unlinks `node` wherever it is; false if it was not in the list. */
  remove(node: N): boolean {
    if (!node.queued) return false;
    node.queued = false;
    if (node.prev === undefined) this.#head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
    this.#size--;
    return true;
  }
}
