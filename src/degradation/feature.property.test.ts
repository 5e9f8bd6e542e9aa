import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { feature } from './index.js';

type Step =
  | { readonly op: 'health'; readonly up: boolean }
  | { readonly op: 'flag'; readonly on: boolean }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'call' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('health' as const), up: fc.boolean() }),
  fc.record({ op: fc.constant('flag' as const), on: fc.boolean() }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400 }) }),
  fc.constant({ op: 'call' as const }),
);

describe('feature (properties)', () => {
  it('runs the primary exactly when enabled, healthy and out of its hold; without flag changes never degrades twice within minDegradedMs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000 }),
        fc.array(step, { maxLength: 60 }),
        async (minDegradedMs, steps) => {
          const clock = new VirtualClock();
          let up = true;
          const policy = feature({
            clock,
            minDegradedMs,
            healthy: () => up,
            fallback: () => 'fallback',
          });
          let enabled = true;
          /** When the feature last went into fallback mode, from its own events. */
          let enteredFallback: number | undefined;
          const degradations: number[] = [];
          policy.on('modeChange', ({ from, to }) => {
            if (to === 'fallback') {
              enteredFallback = clock.now();
              if (from === 'primary') degradations.push(clock.now());
            } else enteredFallback = undefined;
          });
          for (const s of steps) {
            if (s.op === 'health') up = s.up;
            else if (s.op === 'advance') await clock.advance(s.ms);
            else if (s.op === 'flag') {
              enabled = s.on;
              // The flag is the operator's: it takes effect at once, hold or not.
              degradations.length = 0;
              if (s.on) policy.enable();
              else policy.disable();
            } else {
              const held =
                enteredFallback !== undefined && clock.now() - enteredFallback < minDegradedMs;
              const answer = await policy.execute(() => 'primary');
              expect(answer).toBe(enabled && up && !held ? 'primary' : 'fallback');
            }
          }
          for (let i = 1; i < degradations.length; i++) {
            expect(degradations[i]! - degradations[i - 1]!).toBeGreaterThanOrEqual(minDegradedMs);
          }
        },
      ),
    );
  });

  it('infers the fallback type from an async fallback', () => {
    const policy = feature({ fallback: async () => [1, 2] });
    expectTypeOf(policy.execute(() => 'x')).toEqualTypeOf<Promise<string | number[]>>();
  });
});
