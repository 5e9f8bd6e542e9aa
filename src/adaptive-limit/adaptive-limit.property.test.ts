import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AdaptiveLimitOptions, adaptiveLimit } from './index.js';

/** RTTs as they come: 0, fractions, ordinary, huge, infinite, and garbage that must be ignored. */
const rtt = fc.oneof(
  fc.constant(0),
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.double({ min: 0, max: 10_000, noNaN: true }),
  fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true }),
  fc.constantFrom(Number.POSITIVE_INFINITY, Number.NaN, -1, Number.MIN_VALUE),
);
const inflight = fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.constantFrom(Number.NaN, 0.5));
const samples = fc.array(fc.tuple(rtt, inflight, fc.boolean()), { maxLength: 300 });

/** Options for any algorithm, with min <= initial <= max and the algorithm's own knobs. */
const options: fc.Arbitrary<AdaptiveLimitOptions> = fc
  .tuple(
    fc.integer({ min: 1, max: 500 }),
    fc.integer({ min: 0, max: 500 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
  )
  .chain(([min, span, at]) => {
    const max = min + span;
    const initial = min + Math.floor(at * span);
    const base = { min, max, initial };
    return fc.oneof(
      fc
        .record({
          algorithm: fc.constant('aimd' as const),
          backoffRatio: fc.double({ min: 0.5, max: 0.99, noNaN: true }),
          timeoutMs: fc.double({ min: 0.001, max: 1e6, noNaN: true }),
        })
        .map((o) => ({ ...base, ...o })),
      fc
        .record({
          algorithm: fc.constant('gradient2' as const),
          smoothing: fc.double({ min: 0.01, max: 1, noNaN: true }),
          rttTolerance: fc.double({ min: 1, max: 5, noNaN: true }),
          queueSize: fc.integer({ min: 0, max: 20 }),
          longWindow: fc.integer({ min: 1, max: 1000 }),
        })
        .map((o) => ({ ...base, ...o })),
      fc
        .record({
          algorithm: fc.constant('vegas' as const),
          smoothing: fc.double({ min: 0.01, max: 1, noNaN: true }),
          probeMultiplier: fc.integer({ min: 1, max: 50 }),
          seed: fc.double({ min: 0, max: 0.999, noNaN: true }),
        })
        .map(({ seed, ...o }) => ({ ...base, ...o, random: () => seed })),
    );
  });

describe('adaptiveLimit properties', () => {
  it('keeps the limit an integer within [min, max] whatever the samples', () => {
    fc.assert(
      fc.property(options, samples, (opts, stream) => {
        const limit = adaptiveLimit(opts);
        let previous = limit.current;
        let changes = 0;
        limit.on('limitChange', ({ from, to }) => {
          // Each event starts where the last one ended and really moves.
          expect(from).toBe(previous);
          expect(to).not.toBe(from);
          previous = to;
          changes++;
        });
        for (const [r, n, dropped] of stream) {
          limit.sample(r, n, dropped);
          const current = limit.current;
          if (!Number.isInteger(current) || current < limit.min || current > limit.max)
            return false;
        }
        return changes === 0 || previous === limit.current;
      }),
      { numRuns: 300 },
    );
  });

  it('aimd matches the reference rule step for step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 100 }),
        fc.double({ min: 0.5, max: 0.99, noNaN: true }),
        fc.array(
          fc.tuple(
            fc.double({ min: 0, max: 200, noNaN: true }),
            fc.integer({ min: 0, max: 200 }),
            fc.boolean(),
          ),
          { maxLength: 200 },
        ),
        (min, span, ratio, stream) => {
          const max = min + span;
          const limit = adaptiveLimit({
            algorithm: 'aimd',
            initial: min,
            min,
            max,
            backoffRatio: ratio,
            timeoutMs: 100,
          });
          // AIMDLimit: drop or rtt > timeout -> (int)(limit * ratio); else if inflight * 2 >=
          // limit -> limit + 1; then clamp.
          let model = min;
          for (const [r, n, dropped] of stream) {
            if (dropped || r > 100) model = Math.trunc(model * ratio);
            else if (n * 2 >= model) model += 1;
            model = Math.min(max, Math.max(min, model));
            limit.sample(r, n, dropped);
            if (limit.current !== model) return false;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never grows gradient2 or vegas while the calls use less than half of the limit', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('gradient2', 'vegas'),
        fc.integer({ min: 4, max: 400 }),
        fc.array(
          fc.tuple(
            fc.double({ min: 0, max: 1e4, noNaN: true }),
            fc.double({ min: 0, max: 1, noNaN: true }),
          ),
          { maxLength: 200 },
        ),
        (algorithm, initial, stream) => {
          const limit = adaptiveLimit({
            algorithm,
            initial,
            min: 1,
            max: 1000,
          } as AdaptiveLimitOptions);
          for (const [r, share] of stream) {
            const before = limit.current;
            // Fewer than half in flight (and, for vegas, the no-load probe resets nothing).
            limit.sample(r, Math.floor((share * (before - 1)) / 2), false);
            if (limit.current > before) return false;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });
});
