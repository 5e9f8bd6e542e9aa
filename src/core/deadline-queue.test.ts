import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { type Deadline, DeadlineQueue } from './deadline-queue.js';

/** Counts every read of a deadline's `due`: the queue's comparisons, as a measure of its work. */
const work = { reads: 0 };

class Probe implements Deadline {
  prev: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  queued = false;
  index = -1;
  /** When `expire` was called, by the clock. */
  expiredAt: number | undefined = undefined;
  readonly #due: number;

  constructor(
    due: number,
    readonly id: number,
    private readonly clock: VirtualClock,
    private readonly log: Probe[],
  ) {
    this.#due = due;
  }

  get due(): number {
    work.reads++;
    return this.#due;
  }

  expire(): void {
    expect(this.expiredAt).toBeUndefined();
    this.expiredAt = this.clock.now();
    this.log.push(this);
  }
}

function setup() {
  const clock = new VirtualClock();
  const queue = new DeadlineQueue(clock);
  const expired: Probe[] = [];
  const probe = (due: number, id = 0) => new Probe(due, id, clock, expired);
  return { clock, queue, expired, probe };
}

/** A deterministic shuffle (a linear congruential generator), so the work counted is stable. */
function shuffled(count: number): number[] {
  const values = Array.from({ length: count }, (_, i) => i + 1);
  let seed = 12_345;
  for (let i = count - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = seed % (i + 1);
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return values;
}

describe('DeadlineQueue', () => {
  const count = 40_000;
  const logCount = Math.log2(count);

  it('admits deadlines that arrive in order with constant work each', () => {
    const { queue, probe } = setup();
    const probes = Array.from({ length: count }, (_, i) => probe(1_000 + i));
    work.reads = 0;
    for (const deadline of probes) queue.add(deadline);
    expect(work.reads).toBeLessThanOrEqual(4 * count);
    work.reads = 0;
    for (const deadline of probes) queue.remove(deadline);
    expect(work.reads).toBe(0);
    expect(queue.size).toBe(0);
  });

  it.each([
    ['in reverse order', Array.from({ length: count }, (_, i) => count - i)],
    ['shuffled', shuffled(count)],
  ])('admits and removes 40,000 deadlines %s in O(log n) each', (_, dues) => {
    const { queue, probe } = setup();
    const probes = dues.map((due) => probe(due));
    work.reads = 0;
    for (const deadline of probes) queue.add(deadline);
    expect(queue.size).toBe(count);
    // A sorted list scanned from its tail reads up to n² dues here (1.6 billion in reverse).
    expect(work.reads).toBeLessThanOrEqual(count * (2 * logCount + 4));
    work.reads = 0;
    for (const deadline of shuffled(count).map((i) => probes[i - 1]!)) queue.remove(deadline);
    expect(work.reads).toBeLessThanOrEqual(count * 2 * (logCount + 1));
    expect(queue.size).toBe(0);
  });

  it('expires out-of-order deadlines in due order, each at its due time', async () => {
    const { clock, queue, expired, probe } = setup();
    for (const due of [50, 30, 40, 10, 60, 20]) queue.add(probe(due, due));
    await clock.advance(100);
    expect(expired.map((p) => [p.id, p.expiredAt])).toEqual([
      [10, 10],
      [20, 20],
      [30, 30],
      [40, 40],
      [50, 50],
      [60, 60],
    ]);
    expect(clock.armedTimers).toBe(0);
  });

  it('handles deadlines far beyond 2^31-1 ms without firing early', async () => {
    const { clock, queue, expired, probe } = setup();
    const thirtyDays = 30 * 24 * 3_600_000;
    queue.add(probe(thirtyDays, 1));
    queue.add(probe(2 ** 31, 2));
    await clock.advance(2 ** 31 - 1);
    expect(expired).toEqual([]);
    await clock.advance(1);
    expect(expired.map((p) => p.id)).toEqual([2]);
    await clock.advance(thirtyDays - 2 ** 31 - 1);
    expect(expired.map((p) => p.id)).toEqual([2]);
    await clock.advance(1);
    expect(expired.map((p) => [p.id, p.expiredAt])).toEqual([
      [2, 2 ** 31],
      [1, thirtyDays],
    ]);
  });
});

describe('DeadlineQueue that does not hold the process (a hedge delay)', () => {
  /** A plain due entry; `fired` records the dues that expired. */
  function entry(due: number, fired: number[]): Deadline {
    return {
      prev: undefined,
      next: undefined,
      queued: false,
      index: -1,
      due,
      expire() {
        fired.push(due);
      },
    };
  }

  it("keeps its one timer unref'd throughout, and removed entries never fire", async () => {
    const clock = new VirtualClock();
    const queue = new DeadlineQueue(clock, false);
    const fired: number[] = [];
    const a = entry(100, fired);
    const b = entry(40, fired);
    queue.add(a);
    queue.add(b);
    expect([clock.pendingTimers, clock.armedTimers]).toEqual([0, 1]);
    queue.remove(a);
    queue.remove(b);
    queue.remove(b);
    expect(queue.size).toBe(0);
    queue.add(entry(120, fired));
    expect([clock.pendingTimers, clock.armedTimers]).toEqual([0, 1]);
    await clock.runAll();
    expect(fired).toEqual([120]);
    expect(clock.armedTimers).toBe(0);
  });

  it('clears its timer when it empties on a clock that cannot unref', async () => {
    const clock = new VirtualClock();
    const plain = {
      now: () => clock.now(),
      setTimeout: (callback: () => void, ms: number) => clock.setTimeout(callback, ms),
      clearTimeout: (handle: unknown) => clock.clearTimeout(handle),
    };
    const queue = new DeadlineQueue(plain, false);
    const fired: number[] = [];
    const a = entry(100, fired);
    queue.add(a);
    expect(clock.pendingTimers).toBe(1);
    queue.remove(a);
    expect(clock.armedTimers).toBe(0);
    queue.add(entry(50, fired));
    await clock.runAll();
    expect(fired).toEqual([50]);
  });
});

type Command =
  | { op: 'add'; inMs: number }
  | { op: 'remove'; pick: number }
  | { op: 'advance'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      inMs: fc.integer({ min: 1, max: 300 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 200 }),
    }),
  },
);

describe('DeadlineQueue against a model', () => {
  it('expires every deadline exactly when due, in due order, and never one that was removed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 5, maxLength: 80, size: 'max' }),
        async (commands) => {
          const { clock, queue, expired, probe } = setup();
          const all: Probe[] = [];
          const removed = new Set<Probe>();
          for (const step of commands) {
            if (step.op === 'add') {
              const deadline = probe(clock.now() + step.inMs, all.length);
              all.push(deadline);
              queue.add(deadline);
            } else if (step.op === 'remove') {
              // Any deadline: one still queued, one already removed, or one that expired.
              const deadline = all[step.pick % Math.max(1, all.length)];
              if (deadline === undefined) continue;
              queue.remove(deadline);
              if (deadline.expiredAt === undefined) removed.add(deadline);
            } else {
              const before = expired.length;
              await clock.advance(step.ms);
              const fired = expired.slice(before);
              for (let i = 1; i < fired.length; i++) {
                expect(fired[i]!.due).toBeGreaterThanOrEqual(fired[i - 1]!.due);
              }
            }
            const live = all.filter((p) => p.expiredAt === undefined && !removed.has(p));
            for (const p of expired) expect(p.expiredAt).toBe(p.due);
            for (const p of removed) expect(p.expiredAt).toBeUndefined();
            for (const p of live) expect(p.due).toBeGreaterThan(clock.now());
            expect(queue.size).toBe(live.length);
            // One shared timer, keeping the process alive exactly while something waits.
            expect(clock.armedTimers).toBeLessThanOrEqual(1);
            expect(clock.pendingTimers).toBe(live.length > 0 ? 1 : 0);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
