import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BulkheadRejectedError, HedgeLostError } from '../core/errors.js';
import { VirtualClock } from '../testing/index.js';
import { hedge } from './index.js';

/** What an attempt does: answer, fail hedgeably, or be refused (final), after `ms`, or hang. */
const attemptScript = fc.record({
  ms: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(Number.POSITIVE_INFINITY)),
  kind: fc.constantFrom('ok', 'fail', 'refused'),
});

const scenario = fc.record({
  delayMs: fc.integer({ min: 0, max: 120 }),
  maxHedges: fc.integer({ min: 0, max: 4 }),
  scripts: fc.array(attemptScript, { minLength: 5, maxLength: 5 }),
  budget: fc.option(fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), { nil: undefined }),
  abortAt: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
});

interface Seen {
  attempt: number;
  signal: AbortSignal;
  outcomeAt?: number;
  acceptable?: boolean;
}

describe('hedge (property)', () => {
  it('never more than 1 + maxHedges attempts, one settle with the first acceptable outcome, every loser aborted', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ delayMs, maxHedges, scripts, budget, abortAt }) => {
        const clock = new VirtualClock();
        const answers = budget === undefined ? undefined : [...budget];
        const policy = hedge({
          delayMs,
          maxHedges,
          clock,
          budget:
            answers === undefined
              ? undefined
              : { recordCall() {}, tryAcquire: () => answers.shift() ?? false },
        });
        const ends: string[] = [];
        policy.on('success', () => ends.push('success'));
        policy.on('giveUp', ({ reason }) => ends.push(reason));
        const seen: Seen[] = [];
        const controller = new AbortController();
        let settledAt: number | undefined;
        let settlements = 0;
        let outcome: { ok: boolean; value: unknown } | undefined;
        const result = policy.execute(
          (ctx) => {
            const script = scripts[ctx.attempt - 1]!;
            const entry: Seen = { attempt: ctx.attempt, signal: ctx.signal };
            seen.push(entry);
            return new Promise((resolve, reject) => {
              if (script.ms === Number.POSITIVE_INFINITY) return;
              clock.setTimeout(() => {
                entry.outcomeAt = clock.now();
                entry.acceptable = script.kind !== 'fail';
                if (script.kind === 'ok') resolve(`answer ${ctx.attempt}`);
                else if (script.kind === 'fail') reject(new Error(`failed ${ctx.attempt}`));
                else reject(new BulkheadRejectedError(`refused ${ctx.attempt}`, 0, 0));
              }, script.ms);
            });
          },
          { signal: controller.signal },
        );
        result.then(
          (value) => {
            settlements++;
            settledAt ??= clock.now();
            outcome = { ok: true, value };
          },
          (error: unknown) => {
            settlements++;
            settledAt ??= clock.now();
            outcome = { ok: false, value: error };
          },
        );
        const callerReason = new Error('caller left');
        if (abortAt !== undefined) clock.setTimeout(() => controller.abort(callerReason), abortAt);
        await clock.runAll();

        expect(seen.length).toBeLessThanOrEqual(1 + maxHedges);
        expect(seen.map((s) => s.attempt)).toEqual(seen.map((_, i) => i + 1));
        if (settlements === 0) {
          // Unsettled only while an attempt hangs and nothing acceptable came: it waits for it.
          expect(abortAt).toBeUndefined();
          expect(seen.some((s) => s.outcomeAt === undefined)).toBe(true);
          expect(seen.some((s) => s.acceptable)).toBe(false);
          expect(ends).toEqual([]);
          return;
        }
        expect(settlements).toBe(1);
        expect(ends).toHaveLength(1);
        const aborted = ends[0] === 'aborted';
        // The first acceptable outcome to arrive ended the call, unless the caller left first.
        const acceptable = seen
          .filter((s) => s.acceptable && s.outcomeAt! <= settledAt!)
          .sort((a, b) => a.outcomeAt! - b.outcomeAt!);
        if (aborted) {
          expect(outcome).toEqual({ ok: false, value: callerReason });
          expect(settledAt).toBe(abortAt);
        } else if (acceptable.length > 0) {
          const winner = acceptable[0]!;
          expect(settledAt).toBe(winner.outcomeAt);
          const kind = scripts[winner.attempt - 1]!.kind;
          if (kind === 'ok')
            expect(outcome).toEqual({ ok: true, value: `answer ${winner.attempt}` });
          else expect(outcome?.ok).toBe(false);
        } else {
          // Every attempt that answered failed hedgeably, and no other could start.
          expect(outcome?.value).toEqual(
            expect.objectContaining({ message: expect.stringMatching(/^failed/) }),
          );
        }
        // Every attempt still running at the end was aborted: with the caller's reason, or as
        // a loser of the race.
        for (const s of seen) {
          if (s.outcomeAt !== undefined && s.outcomeAt <= settledAt!) continue;
          expect(s.signal.aborted).toBe(true);
          if (aborted) expect(s.signal.reason).toBe(callerReason);
          else expect(s.signal.reason).toBeInstanceOf(HedgeLostError);
        }
        expect(policy.pending).toBe(0);
        expect(clock.pendingTimers).toBe(0);
        expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      }),
      { numRuns: 300 },
    );
  });
});
