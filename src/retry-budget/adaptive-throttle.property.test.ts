import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LoadShedError, ThrottledError } from '../core/errors.js';
import { adaptiveThrottle } from './adaptive-throttle.js';

const ops = fc.array(
  fc.oneof(
    fc.record({
      op: fc.constant('call' as const),
      accepted: fc.boolean(),
      draw: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    }),
    fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 300 }) }),
  ),
  { maxLength: 300 },
);

const shapes = fc.record({
  k: fc.constantFrom(1, 1.1, 1.5, 2, 3),
  windowMs: fc.integer({ min: 10, max: 2_000 }),
  buckets: fc.integer({ min: 1, max: 20 }),
  minRequests: fc.integer({ min: 0, max: 15 }),
});

interface Event {
  readonly at: number;
  readonly kind: 'request' | 'accept';
}

describe('adaptiveThrottle: properties', () => {
  it('refuses exactly when the draw falls under the SRE probability of the bucketed window', async () => {
    await fc.assert(
      fc.asyncProperty(shapes, ops, async ({ k, windowMs, buckets, minRequests }, sequence) => {
        let now = 0;
        let draw = 0;
        const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
        const policy = adaptiveThrottle({
          clock,
          k,
          windowMs,
          buckets,
          minRequests,
          random: () => draw,
        });
        const events: Event[] = [];
        const bucketOf = (t: number): number =>
          (t * buckets - ((t * buckets) % windowMs)) / windowMs;
        const counts = () => {
          const oldest = bucketOf(now) - buckets + 1;
          const live = events.filter((e) => bucketOf(e.at) >= oldest);
          const requests = live.filter((e) => e.kind === 'request').length;
          return { requests, accepts: live.length - requests };
        };
        const probability = (): number => {
          const { requests, accepts } = counts();
          if (requests < minRequests) return 0;
          return Math.max(0, (requests - k * accepts) / (requests + 1));
        };
        for (const step of sequence) {
          if (step.op === 'wait') {
            now += step.ms;
            continue;
          }
          draw = step.draw;
          const p = probability();
          const refused = p > 0 && step.draw < p;
          events.push({ at: now, kind: 'request' });
          let ran = false;
          const outcome = await policy
            .execute(() => {
              ran = true;
              return step.accepted
                ? 'ok'
                : Promise.reject(new LoadShedError('busy', 'capacity', 'critical'));
            })
            .then(
              () => 'accepted',
              (error: unknown) => (error instanceof ThrottledError ? 'throttled' : 'rejected'),
            );
          expect(ran).toBe(!refused);
          expect(outcome).toBe(refused ? 'throttled' : step.accepted ? 'accepted' : 'rejected');
          if (!refused && step.accepted) events.push({ at: now, kind: 'accept' });
          // Never more refusal than the formula: p < 1 always, so a call can get through.
          expect(p).toBeLessThan(1);
        }
        const stats = policy.stats();
        expect({ requests: stats.requests, accepts: stats.accepts }).toEqual(counts());
        expect(stats.probability).toBeCloseTo(probability(), 12);
      }),
      { numRuns: 200 },
    );
  });
});
