import { describe, expect, it } from 'vitest';
import { type Linked, LinkedList } from './linked-list.js';

class Node implements Linked<Node> {
  prev: Node | undefined = undefined;
  next: Node | undefined = undefined;
  queued = false;
  constructor(readonly id: string) {}
}

function ids(list: LinkedList<Node>): string[] {
  const out: string[] = [];
  for (let node = list.head; node !== undefined; node = node.next) out.push(node.id);
  return out;
}

describe('LinkedList', () => {
  it('keeps push order, inserts after a given node or at the front, and counts', () => {
    const list = new LinkedList<Node>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => new Node(id)) as [Node, Node, Node, Node];
    list.push(a);
    list.push(c);
    list.insertAfter(b, a);
    list.insertAfter(d, undefined);
    expect(ids(list)).toEqual(['d', 'a', 'b', 'c']);
    expect(list.size).toBe(4);
    expect(list.tail).toBe(c);
  });

  it('removes from the front, the middle and the end, and only once', () => {
    const list = new LinkedList<Node>();
    const nodes = ['a', 'b', 'c', 'd'].map((id) => new Node(id));
    for (const node of nodes) list.push(node);
    expect(list.remove(nodes[1]!)).toBe(true);
    expect(list.remove(nodes[1]!)).toBe(false);
    expect(list.shift()).toBe(nodes[0]);
    expect(list.remove(nodes[3]!)).toBe(true);
    expect(ids(list)).toEqual(['c']);
    expect([list.head, list.tail, list.size]).toEqual([nodes[2], nodes[2], 1]);
    expect(nodes[1]).toMatchObject({ prev: undefined, next: undefined, queued: false });
    list.shift();
    expect([list.head, list.tail, list.size, list.shift()]).toEqual([
      undefined,
      undefined,
      0,
      undefined,
    ]);
  });
});
