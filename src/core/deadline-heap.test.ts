import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineHeap, type HeapEntry } from './deadline-heap.js';

class Entry implements HeapEntry {
  index = -1;
  constructor(readonly due: number) {}
}

/** The entries' own positions form a heap: each is due no earlier than its parent. */
function expectHeapOrder(entries: readonly Entry[]): void {
  const at = new Map(entries.map((entry) => [entry.index, entry]));
  expect([...at.keys()].sort((a, b) => a - b)).toEqual(entries.map((_, i) => i));
  for (const [index, entry] of at) {
    if (index > 0) expect(at.get((index - 1) >> 1)!.due).toBeLessThanOrEqual(entry.due);
  }
}

describe('DeadlineHeap', () => {
  it('keeps the earliest on top through any pushes and removals, wherever they are', () => {
    fc.assert(
      fc.property(
        // Mostly pushes (a due from 0 to 50), some removals (-1) and removals of gone ones (-2).
        fc.array(
          fc.oneof(
            { weight: 3, arbitrary: fc.integer({ min: 0, max: 50 }) },
            { weight: 2, arbitrary: fc.constant(-1) },
            { weight: 1, arbitrary: fc.constant(-2) },
          ),
          { minLength: 10, maxLength: 150, size: 'max' },
        ),
        fc.nat(),
        (steps, seed) => {
          const heap = new DeadlineHeap<Entry>();
          const inside: Entry[] = [];
          const outside: Entry[] = [];
          let pick = seed;
          for (const step of steps) {
            pick = (pick * 31 + 7) % 1_000_003;
            if (step >= 0) {
              const entry = new Entry(step);
              heap.push(entry);
              inside.push(entry);
            } else if (step === -1 && inside.length > 0) {
              const [entry] = inside.splice(pick % inside.length, 1);
              expect(heap.remove(entry!)).toBe(true);
              expect(entry!.index).toBe(-1);
              outside.push(entry!);
            } else if (outside.length > 0) {
              // Removing what already left changes nothing.
              expect(heap.remove(outside[pick % outside.length]!)).toBe(false);
            }
            expect(heap.size).toBe(inside.length);
            expectHeapOrder(inside);
            const least = Math.min(...inside.map((e) => e.due));
            expect(heap.top?.due).toBe(inside.length === 0 ? undefined : least);
          }
          // Draining from the top yields every entry still inside, in due order.
          const drained: number[] = [];
          for (let top = heap.top; top !== undefined; top = heap.top) {
            drained.push(top.due);
            heap.remove(top);
          }
          expect(drained).toEqual(inside.map((e) => e.due).sort((a, b) => a - b));
        },
      ),
      { numRuns: 150 },
    );
  });
});
