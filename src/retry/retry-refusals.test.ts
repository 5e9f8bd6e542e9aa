import { describe, expect, it } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ExecutionRejectedError,
  IsolatedCircuitError,
  LoadShedError,
  RateLimitedError,
  ResilienceError,
  ThrottledError,
  TimeoutError,
} from '../core/errors.js';
import { VirtualClock } from '../testing/index.js';
import { backoff } from './backoff.js';
import { type RetryEvents, retry } from './retry.js';
import { drain, failing } from './test-helpers.js';

/** A refusal class of a user's own that declares nothing. */
class ShedError extends ExecutionRejectedError {}

const rateLimited = (retryAfterMs: number): RateLimitedError =>
  new RateLimitedError('rate limited', retryAfterMs, 10, 0, undefined);

describe('retry: which refusals the default retryOn retries', () => {
  it('marks TimeoutError retryable and every other refusal not', () => {
    expect(new TimeoutError(10).retryable).toBe(true);
    expect(new ExecutionRejectedError('no').retryable).toBe(false);
    expect(new BrokenCircuitError('open', 100).retryable).toBe(false);
    expect(new IsolatedCircuitError().retryable).toBe(false);
    expect(new BulkheadRejectedError('full', 1, 0).retryable).toBe(false);
    expect(new ShedError('shed').retryable).toBe(false);
    expect(new LoadShedError('shed', 'capacity', 'sheddable').retryable).toBe(false);
    expect(new ThrottledError('throttled', 0.5).retryable).toBe(false);
    expect(rateLimited(100).retryable).toBe(true);
    expect(Object.keys(new TimeoutError(10))).not.toContain('retryable');
  });

  it.each([
    ['BrokenCircuitError (even with a retryAfterMs hint)', new BrokenCircuitError('open', 50)],
    ['IsolatedCircuitError', new IsolatedCircuitError()],
    ['BulkheadRejectedError', new BulkheadRejectedError('full', 4, 10)],
    ['a plain ExecutionRejectedError', new ExecutionRejectedError('refused')],
    ['a refusal class that declares nothing', new ShedError('shed')],
    ['a load shedder refusal', new LoadShedError('shed', 'codel', 'critical', 5)],
    ['a throttled refusal', new ThrottledError('throttled', 0.9)],
  ])('does not retry %s', async (_name, refusal) => {
    const clock = new VirtualClock();
    const { calls, task } = failing(clock, refusal);
    const policy = retry({ clock, maxAttempts: 5, backoff: backoff.constant(10) });
    const giveUps: RetryEvents['giveUp'][] = [];
    policy.on('giveUp', (e) => giveUps.push(e));
    await expect(policy.execute(task, { key: 'k' })).rejects.toBe(refusal);
    expect(calls).toHaveLength(1);
    expect(giveUps).toEqual([
      { attempts: 1, outcome: { ok: false, error: refusal }, reason: 'notRetryable', key: 'k' },
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it.each([
    ['a TimeoutError', new TimeoutError(100)],
    ['a user error', new Error('ECONNRESET')],
    ['a ResilienceError that is not a refusal', new ResilienceError('odd')],
  ])('retries %s', async (_name, error) => {
    const clock = new VirtualClock();
    const { calls, task } = failing(clock, error);
    const p = retry({ clock, maxAttempts: 3, backoff: backoff.constant(10) }).execute(task);
    const check = expect(p).rejects.toBe(error);
    await drain(clock);
    await check;
    expect(calls.map((c) => c.at)).toEqual([0, 10, 20]);
  });

  it('retries an opted-in refusal after its retryAfterMs hint', async () => {
    const clock = new VirtualClock();
    const limited = rateLimited(1_500);
    let calls = 0;
    const policy = retry({ clock, backoff: backoff.constant(10) });
    const delays: number[] = [];
    policy.on('retry', (e) => delays.push(e.delayMs));
    const p = policy.execute(() => (++calls === 1 ? Promise.reject(limited) : 'served'));
    await clock.advance(1_499);
    expect(calls).toBe(1);
    await clock.advance(1);
    await expect(p).resolves.toBe('served');
    expect(delays).toEqual([1_500]);
  });

  it("gives up at once on an opted-in refusal whose hint would reach the call's deadline", async () => {
    const clock = new VirtualClock();
    const limited = rateLimited(1_500);
    const { calls, task } = failing(clock, limited);
    const policy = retry({ clock, backoff: backoff.constant(10) });
    const reasons: string[] = [];
    policy.on('giveUp', (e) => reasons.push(e.reason));
    await expect(policy.execute(task, { deadline: 1_000 })).rejects.toBe(limited);
    expect(calls).toHaveLength(1);
    expect(reasons).toEqual(['deadline']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('leaves refusals to a custom retryOn, which may retry any of them', async () => {
    const clock = new VirtualClock();
    const full = new BulkheadRejectedError('full', 1, 0);
    const { calls, task } = failing(clock, full);
    const policy = retry({ clock, backoff: backoff.constant(10), retryOn: (o) => !o.ok });
    const check = expect(policy.execute(task)).rejects.toBe(full);
    await drain(clock);
    await check;
    expect(calls).toHaveLength(3);
  });
});
