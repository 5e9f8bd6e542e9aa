import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AttemptBudget } from '../core/budget.js';
import { VirtualClock } from '../testing/index.js';
import { backoff } from './backoff.js';
import { type RetryEvents, retry } from './retry.js';
import { drain, failing } from './test-helpers.js';

/** A budget that grants the first `grants` requests, logging every call made on it. */
function scripted(grants: number) {
  const log: string[] = [];
  const budget: AttemptBudget = {
    recordCall: () => log.push('call'),
    tryAcquire: () => {
      const granted = grants-- > 0;
      log.push(granted ? 'granted' : 'refused');
      return granted;
    },
  };
  return { budget, log };
}

describe('retry: budget', () => {
  it('records each call once and asks before each retry, giving up with reason budget', async () => {
    const clock = new VirtualClock();
    const errors = [new Error('1'), new Error('2'), new Error('3')];
    const { calls, task } = failing(clock, ...errors);
    const { budget, log } = scripted(1);
    const policy = retry({ clock, budget, maxAttempts: 5, backoff: backoff.constant(10) });
    const events: unknown[] = [];
    policy.on('retry', (e) => events.push(['retry', e.attempt]));
    policy.on('giveUp', (e) => events.push(['giveUp', e]));
    const check = expect(policy.execute(task, { key: 'k' })).rejects.toBe(errors[1]);
    await drain(clock);
    await check;
    expect(calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(log).toEqual(['call', 'granted', 'refused']);
    expect(events).toEqual([
      ['retry', 1],
      [
        'giveUp',
        { attempts: 2, outcome: { ok: false, error: errors[1] }, reason: 'budget', key: 'k' },
      ],
    ]);
    // The refusal ended the call at once: no sleep armed, no time spent.
    expect(clock.now()).toBe(10);
    expect(clock.pendingTimers).toBe(0);
  });

  it('returns the last result when the budget refuses a retry of a result', async () => {
    const clock = new VirtualClock();
    const { budget } = scripted(0);
    const policy = retry<{ status: number }>({
      clock,
      budget,
      retryOn: (o) => o.ok && o.value.status === 503,
    });
    const reasons: string[] = [];
    policy.on('giveUp', (e) => reasons.push(e.reason));
    await expect(policy.execute(() => ({ status: 503 }))).resolves.toEqual({ status: 503 });
    expect(reasons).toEqual(['budget']);
  });

  it('records a call on the fast path and the loop path alike, and nothing more on success', async () => {
    const clock = new VirtualClock();
    const { budget, log } = scripted(0);
    await retry({ clock, budget }).execute(() => 'fast');
    await retry({ clock, budget, retryOn: () => false }).execute(() => 'loop');
    await retry({ clock, budget, maxElapsedMs: 1_000 }).execute(() => 'timed');
    await retry({ clock, budget, maxAttempts: 1 }).execute(() => 'single');
    expect(log).toEqual(['call', 'call', 'call', 'call']);
  });

  it('does not ask the budget when no retry would follow anyway', async () => {
    const clock = new VirtualClock();
    const { budget, log } = scripted(10);
    const notRetried = retry({ clock, budget, retryOn: () => false });
    await expect(notRetried.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    const single = retry({ clock, budget, maxAttempts: 1 });
    await expect(single.execute(() => Promise.reject(new Error('y')))).rejects.toThrow('y');
    const late = retry({ clock, budget, backoff: backoff.constant(100) });
    const reasons: string[] = [];
    late.on('giveUp', (e) => reasons.push(e.reason));
    await expect(
      late.execute(() => Promise.reject(new Error('z')), { deadline: 50 }),
    ).rejects.toThrow('z');
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));
    await expect(
      retry({ clock, budget }).execute(() => Promise.reject(new Error('w')), {
        signal: aborted.signal,
      }),
    ).rejects.toThrow('stop');
    expect(reasons).toEqual(['deadline']);
    expect(log).toEqual(['call', 'call', 'call']);
  });

  it('spends one grant per retry, shared by every policy given the budget', async () => {
    const clock = new VirtualClock();
    const { budget, log } = scripted(3);
    const a = retry({ clock, budget, maxAttempts: 3, backoff: backoff.constant(0) });
    const b = retry({ clock, budget, maxAttempts: 3, backoff: backoff.constant(0) });
    const giveUps: RetryEvents['giveUp'][] = [];
    a.on('giveUp', (e) => giveUps.push(e));
    b.on('giveUp', (e) => giveUps.push(e));
    const fail = () => Promise.reject(new Error('down'));
    await expect(a.execute(fail)).rejects.toThrow('down');
    await expect(b.execute(fail)).rejects.toThrow('down');
    expect(giveUps.map((e) => [e.attempts, e.reason])).toEqual([
      [3, 'maxAttempts'],
      [2, 'budget'],
    ]);
    expect(log).toEqual(['call', 'granted', 'granted', 'call', 'granted', 'refused']);
  });

  it('keeps a grant spent when the caller aborts during the backoff, leaving nothing behind', async () => {
    const clock = new VirtualClock();
    const { budget, log } = scripted(5);
    const policy = retry({ clock, budget, backoff: backoff.constant(100) });
    const controller = new AbortController();
    const reason = new Error('caller left');
    const check = expect(
      policy.execute(() => Promise.reject(new Error('down')), { signal: controller.signal }),
    ).rejects.toBe(reason);
    await clock.advance(50);
    controller.abort(reason);
    await check;
    expect(log).toEqual(['call', 'granted']);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('refuses a budget that is not an AttemptBudget', () => {
    for (const budget of [5, {}, { recordCall() {} }, null]) {
      expect(() => retry({ budget: budget as never })).toThrow(TypeError);
    }
    expect(() => retry({ name: 'orders', budget: { tryAcquire: () => true } as never })).toThrow(
      'orders: option "budget" must be an AttemptBudget (an object with recordCall() and tryAcquire(), such as retryBudget()) (got {})',
    );
  });

  it('rejects with what the budget throws, without a giveUp (a bug in the budget, not a verdict)', async () => {
    const clock = new VirtualClock();
    const broken = new Error('budget broke');
    const budget: AttemptBudget = {
      recordCall() {},
      tryAcquire() {
        throw broken;
      },
    };
    const policy = retry({ clock, budget });
    const reasons: string[] = [];
    policy.on('giveUp', (e) => reasons.push(e.reason));
    await expect(policy.execute(() => Promise.reject(new Error('x')))).rejects.toBe(broken);
    expect(reasons).toEqual([]);
  });
});
