import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { RateLimitedError, TimeoutError } from '../core/errors.js';
import { VirtualClock } from '../testing/index.js';
import {
  memoryRateLimitStore,
  type RateLimitDecision,
  type RateLimitRule,
  type RateLimitStore,
  rateLimiter,
} from './index.js';

/**
 * A remote store as a Redis adapter would make it: GCRA in one atomic step per call, answered
 * with a promise. `hang` makes it stop answering.
 */
class FakeRemoteStore implements RateLimitStore {
  readonly tats = new Map<string, number>();
  readonly calls: { key: string | undefined; consume: boolean; maxDelayMs: number }[] = [];
  hang = false;
  fail: Error | undefined;

  decide(
    rule: RateLimitRule,
    key: string | undefined,
    cost: number,
    now: number,
    consume: boolean,
    maxDelayMs: number,
  ): Promise<RateLimitDecision> {
    this.calls.push({ key, consume, maxDelayMs });
    if (this.hang) return new Promise(() => {});
    if (this.fail !== undefined) return Promise.reject(this.fail);
    const t = rule.intervalMs / rule.limit;
    const tau = t * rule.burst;
    const id = `${rule.name}:${key ?? ''}`;
    const tat = Math.max(this.tats.get(id) ?? now, now);
    const newTat = tat + t * cost;
    const delay = Math.max(0, newTat - tau - now);
    const allowed = delay <= maxDelayMs;
    if (allowed && consume) this.tats.set(id, newTat);
    const used = allowed ? newTat : tat;
    return Promise.resolve({
      allowed,
      remaining: Math.max(0, Math.floor((tau - (used - now)) / t)),
      retryAfterMs: delay,
      resetAfterMs: used - now,
      limit: rule.limit,
    });
  }
}

describe('a store of your own', () => {
  it('is asked once per call, with the rule, key, cost, time and whether to consume', async () => {
    const clock = new VirtualClock(5_000);
    const store = new FakeRemoteStore();
    const policy = rateLimiter({ limit: 2, intervalMs: 1000, clock, store, name: 'shared' });
    await expect(policy.execute(() => 'a', { key: 'k' })).resolves.toBe('a');
    await expect(policy.execute(() => 'b', { key: 'k' })).resolves.toBe('b');
    await expect(policy.execute(() => 'c', { key: 'k' })).rejects.toMatchObject({
      retryAfterMs: 500,
      key: 'k',
    });
    await expect(policy.peek({ key: 'k' })).resolves.toMatchObject({ allowed: false });
    expect(store.calls).toEqual([
      { key: 'k', consume: true, maxDelayMs: 0 },
      { key: 'k', consume: true, maxDelayMs: 0 },
      { key: 'k', consume: true, maxDelayMs: 0 },
      { key: 'k', consume: false, maxDelayMs: 0 },
    ]);
    expect(store.tats.get('shared:k')).toBe(6_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('bounds every store call by storeTimeoutMs, with one timer; fails open by default', async () => {
    const clock = new VirtualClock();
    const store = new FakeRemoteStore();
    store.hang = true;
    const policy = rateLimiter({ limit: 2, clock, store, storeTimeoutMs: 50 });
    const errors: unknown[] = [];
    policy.on('storeError', ({ error }) => errors.push(error));
    const first = policy.execute(() => 'ran anyway', { key: 'a' });
    await clock.advance(20);
    const second = policy.execute(() => 'ran too', { key: 'b' });
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(30);
    await expect(first).resolves.toBe('ran anyway');
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(20);
    await expect(second).resolves.toBe('ran too');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeInstanceOf(TimeoutError);
    expect(clock.pendingTimers).toBe(0);
    // consume fails open the same way: granted, nothing known.
    const decision = policy.consume({ key: 'c' });
    await clock.advance(50);
    await expect(decision).resolves.toEqual({
      allowed: true,
      remaining: 0,
      retryAfterMs: 0,
      resetAfterMs: 0,
      limit: 2,
    });
    expect(errors).toHaveLength(3);
  });

  it('lets a caller abort while the store is being asked', async () => {
    const clock = new VirtualClock();
    const store = new FakeRemoteStore();
    store.hang = true;
    const policy = rateLimiter({ limit: 2, clock, store });
    const errors: unknown[] = [];
    policy.on('storeError', ({ error }) => errors.push(error));
    const controller = new AbortController();
    const call = policy.execute(() => 'never', { signal: controller.signal });
    await clock.advance(10);
    const reason = new Error('changed my mind');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(errors).toEqual([]);
    // The store call itself is still bounded: its timer goes when it times out.
    await clock.advance(1000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fails closed with the store error when onStoreError is reject', async () => {
    const store = new FakeRemoteStore();
    store.fail = new Error('connection refused');
    const policy = rateLimiter({
      limit: 2,
      store,
      onStoreError: 'reject',
      clock: new VirtualClock(),
    });
    await expect(policy.execute(() => 'no')).rejects.toBe(store.fail);
    await expect(policy.consume()).rejects.toBe(store.fail);
  });

  it('refuses an answer that is not a decision', async () => {
    const policy = rateLimiter({
      limit: 2,
      name: 'odd',
      onStoreError: 'reject',
      clock: new VirtualClock(),
      store: { decide: () => Promise.resolve({ allowed: 'yes' } as never) },
    });
    await expect(policy.execute(() => 'no')).rejects.toThrow(
      'odd: the store\'s decide() must answer { allowed: boolean, retryAfterMs: a finite number >= 0, ... } (got {"allowed":"yes"})',
    );
  });

  it('takes a store that answers synchronously', async () => {
    const policy = rateLimiter({
      limit: 1,
      clock: new VirtualClock(),
      store: {
        decide: (rule) => ({
          allowed: false,
          remaining: 0,
          retryAfterMs: 7,
          resetAfterMs: 7,
          limit: rule.limit,
        }),
      },
    });
    await expect(policy.execute(() => 'no')).rejects.toBeInstanceOf(RateLimitedError);
  });
});

describe('a store of your own, in wait mode', () => {
  it('waits for the reservation the store made; an abort leaves at once, units spent', async () => {
    const clock = new VirtualClock();
    const store = new FakeRemoteStore();
    const policy = rateLimiter({
      limit: 1,
      intervalMs: 100,
      mode: 'wait',
      maxWaitMs: 1000,
      clock,
      store,
    });
    await expect(policy.execute(() => clock.now())).resolves.toBe(0);
    const controller = new AbortController();
    const aborted = policy.execute(() => 'never', { signal: controller.signal });
    await clock.advance(0);
    expect(store.calls.at(-1)).toEqual({ key: undefined, consume: true, maxDelayMs: 1000 });
    expect(policy.waiting).toBe(1);
    const reason = new Error('bye');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(clock.pendingTimers).toBe(0);
    const next = policy.execute(() => clock.now());
    await clock.advance(200);
    // The aborted call's slot at 100 ms stays taken: the store cannot be asked to undo it.
    await expect(next).resolves.toBe(200);
  });
});

describe('memoryRateLimitStore', () => {
  it('serves one limiter, with its own bound on keys', async () => {
    const store = memoryRateLimitStore({ maxKeys: 3 });
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 1, store, clock });
    for (const key of ['a', 'b', 'c', 'd']) await policy.consume({ key });
    expect(store.size).toBe(3);
    expect(() => rateLimiter({ limit: 1, store, name: 'second' })).toThrow(
      'second: option "store" is a memory store that already serves the limiter "rate-limiter"; give each limiter its own',
    );
    expect(() => memoryRateLimitStore({ maxKeys: 0 })).toThrow(
      'memoryRateLimitStore: option "maxKeys" must be an integer >= 1 (got 0)',
    );
  });
});
