import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountWindow, FAILED, SLOW, TimeWindow } from './windows.js';

const totals = (w: { calls: number; failures: number; slow: number }) => [
  w.calls,
  w.failures,
  w.slow,
];

describe('CountWindow', () => {
  it('keeps running totals of the last `size` calls', () => {
    const window = new CountWindow(3);
    window.record(FAILED);
    window.record(0);
    expect(totals(window)).toEqual([2, 1, 0]);
    window.record(FAILED | SLOW);
    expect(totals(window)).toEqual([3, 2, 1]);
    window.record(0); // evicts the first failure
    expect(totals(window)).toEqual([3, 1, 1]);
    window.record(0); // evicts the success
    window.record(0); // evicts the slow failure
    expect(totals(window)).toEqual([3, 0, 0]);
  });

  it('packs slots across array words without mixing neighbours', () => {
    const size = 47; // spans four 15-slot words, the last one partly
    const window = new CountWindow(size);
    const expected: number[] = [];
    for (let i = 0; i < 2 * size + 5; i++) {
      const flags = (i * 7) % 4;
      window.record(flags);
      expected.push(flags);
    }
    const last = expected.slice(-size);
    expect(window.toJSON().outcomes).toEqual(last);
    expect(window.failures).toBe(last.filter((f) => f & FAILED).length);
    expect(window.slow).toBe(last.filter((f) => f & SLOW).length);
  });

  it('snapshots oldest first and replays into a smaller window keeping the newest', () => {
    const window = new CountWindow(4);
    for (const flags of [1, 0, 2, 3, 1]) window.record(flags);
    expect(window.toJSON()).toEqual({ type: 'count', outcomes: [0, 2, 3, 1] });
    const smaller = new CountWindow(2);
    smaller.restore(window.toJSON());
    expect(smaller.toJSON().outcomes).toEqual([3, 1]);
    expect(totals(smaller)).toEqual([2, 2, 1]);
    smaller.restore({ type: 'time', ms: 10, buckets: 1, slots: [] });
    expect(smaller.calls).toBe(2);
  });

  it('clears to empty', () => {
    const window = new CountWindow(2);
    window.record(FAILED);
    window.clear();
    expect(totals(window)).toEqual([0, 0, 0]);
    expect(window.toJSON().outcomes).toEqual([]);
  });
});

describe('TimeWindow', () => {
  it('rotates buckets out as time passes', () => {
    // 1 s in 4 buckets of 250 ms.
    const window = new TimeWindow(1_000, 4);
    window.record(FAILED, 0);
    window.record(0, 100);
    window.record(FAILED | SLOW, 300);
    window.record(0, 600);
    expect(totals(window)).toEqual([4, 2, 1]);
    window.refresh(999); // bucket 3: buckets 0..3 still in the window
    expect(window.calls).toBe(4);
    window.refresh(1_000); // bucket 4 replaces bucket 0
    expect(totals(window)).toEqual([2, 1, 1]);
    window.refresh(1_250); // bucket 5 replaces bucket 1
    expect(totals(window)).toEqual([1, 0, 0]);
    window.refresh(1_750); // bucket 7 replaces bucket 2 (600 ms)
    expect(totals(window)).toEqual([0, 0, 0]);
  });

  it('drops everything after a gap longer than the window', () => {
    const window = new TimeWindow(100, 10);
    for (let t = 0; t < 100; t += 10) window.record(FAILED, t);
    expect(window.calls).toBe(10);
    window.record(0, 5_000);
    expect(totals(window)).toEqual([1, 0, 0]);
  });

  it('never goes back in time: an older timestamp lands in the newest bucket', () => {
    const window = new TimeWindow(100, 2);
    window.record(0, 120);
    window.record(FAILED, 10);
    window.refresh(199);
    expect(totals(window)).toEqual([2, 1, 0]);
    window.refresh(200);
    expect(window.calls).toBe(0);
  });

  it('handles fractional bucket widths and negative clocks', () => {
    const window = new TimeWindow(100, 3); // 33.33 ms buckets
    window.record(FAILED, -50); // bucket -2
    window.record(0, 0); // bucket 0: the window holds buckets -2..0
    expect(totals(window)).toEqual([2, 1, 0]);
    window.refresh(40); // bucket 1: bucket -2 has left
    expect(totals(window)).toEqual([1, 0, 0]);
  });

  it('round-trips a snapshot when the shape matches, and ignores one that does not', () => {
    const window = new TimeWindow(300, 3);
    window.record(FAILED, 1_000_010);
    window.record(SLOW, 1_000_150);
    window.record(0, 1_000_150);
    const snapshot = window.toJSON(1_000_200);
    expect(snapshot).toEqual({
      type: 'time',
      ms: 300,
      buckets: 3,
      slots: [
        { start: 1_000_000, calls: 1, failures: 1, slow: 0 },
        { start: 1_000_100, calls: 2, failures: 0, slow: 1 },
      ],
    });
    const copy = new TimeWindow(300, 3);
    copy.restore(snapshot, 1_000_250);
    expect(copy.toJSON(1_000_250)).toEqual(snapshot);
    const later = new TimeWindow(300, 3);
    later.restore(snapshot, 1_000_350); // the bucket at 1_000_000 has left the window
    expect(totals(later)).toEqual([2, 0, 1]);
    const other = new TimeWindow(600, 3);
    other.restore(snapshot, 1_000_250);
    expect(other.calls).toBe(0);
    other.restore({ type: 'count', outcomes: [1] }, 1_000_250);
    expect(other.calls).toBe(0);
  });

  it('forgets a call exactly `ms` after its bucket began, even when ms / buckets is not exact', () => {
    // 10_000 / 7 is not a float: floor(10_000 / (10_000 / 7)) is 6, which kept the call one
    // more bucket, so it was still counted exactly `ms` after it was recorded.
    const window = new TimeWindow(10_000, 7);
    window.record(FAILED, 0);
    window.refresh(9_999.999);
    expect(window.calls).toBe(1);
    window.refresh(10_000);
    expect(window.calls).toBe(0);
  });

  it('touches at most `buckets` buckets per refresh, even where clock values are too large to step', () => {
    // Above 2 ** 53 adding 1 to a bucket number changes nothing: a loop over bucket numbers
    // never ended here.
    const window = new TimeWindow(1_000, 1_000);
    window.record(FAILED, 2 ** 60);
    window.record(FAILED, 2 ** 60 + 256);
    window.refresh(2 ** 60 + 4_096);
    expect(window.calls).toBe(0);
  });
});

/** floor(a / b) for BigInts, rounding towards minus infinity like Math.floor. */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b > a ? q - 1n : q;
}

const shape = fc
  .integer({ min: 1, max: 10_000_000 })
  .chain((ms) =>
    fc.record({ ms: fc.constant(ms), buckets: fc.integer({ min: 1, max: Math.min(1_000, ms) }) }),
  );

describe('TimeWindow: properties', () => {
  it('on whole milliseconds, counts exactly the calls whose bucket began less than `ms` ago', () => {
    // The exact definition, in integers: bucket(t) = floor(t * buckets / ms), and a call in
    // bucket k is counted at `now` while k > bucket(now) - buckets. Times are drawn on and
    // next to bucket boundaries (multiples of ms / gcd(ms, buckets)), where rounding bites.
    const steps = fc.array(
      fc.record({
        boundaries: fc.integer({ min: 0, max: 30 }),
        nudge: fc.constantFrom(-1, 0, 0, 1),
        flags: fc.integer({ min: -1, max: 3 }),
      }),
      { minLength: 1, maxLength: 60 },
    );
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    fc.assert(
      fc.property(
        shape,
        fc.integer({ min: -1e6, max: 1e6 }),
        steps,
        ({ ms, buckets }, k0, list) => {
          const window = new TimeWindow(ms, buckets);
          const step = ms / gcd(ms, buckets);
          const bucket = (t: number) => floorDiv(BigInt(t) * BigInt(buckets), BigInt(ms));
          const recorded: { at: bigint; flags: number }[] = [];
          let boundary = k0 * step;
          let last = Number.NEGATIVE_INFINITY;
          for (const { boundaries, nudge, flags } of list) {
            boundary += boundaries * step;
            const now = Math.max(last, boundary + nudge);
            last = now;
            if (flags >= 0) {
              window.record(flags, now);
              recorded.push({ at: bucket(now), flags });
            } else {
              window.refresh(now);
            }
            const live = recorded.filter((r) => r.at > bucket(now) - BigInt(buckets));
            expect(totals(window)).toEqual([
              live.length,
              live.filter((r) => r.flags & FAILED).length,
              live.filter((r) => r.flags & SLOW).length,
            ]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('on any clock values, a call is counted from when it is recorded, and not at t + ms', () => {
    const ms = fc.double({ min: 1, max: 1e9, noNaN: true });
    const args = ms.chain((m) =>
      fc.record({
        ms: fc.constant(m),
        buckets: fc.integer({ min: 1, max: Math.min(1_000, Math.floor(m)) }),
        t: fc.oneof(
          fc.double({ min: -1e13, max: 1e13, noNaN: true }),
          fc.integer({ min: -1e6, max: 1e6 }).map((k) => (k * m) / 7),
        ),
      }),
    );
    fc.assert(
      fc.property(args, ({ ms, buckets, t }) => {
        const window = new TimeWindow(ms, buckets);
        window.record(FAILED, t);
        expect(window.calls).toBe(1);
        // Counted until at least ms - ms / buckets later, give or take the clock's rounding.
        const margin = ms - ms / buckets - 1e-9 * (Math.abs(t) + ms);
        if (margin > 0) {
          window.refresh(t + margin);
          expect(window.calls).toBe(1);
        }
        window.refresh(t + ms);
        expect(window.calls).toBe(0);
      }),
      { numRuns: 2_000 },
    );
  });
});
