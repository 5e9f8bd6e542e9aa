import { getEventListeners } from 'node:events';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Outcome } from '../core/outcome.js';
import { pipeline } from '../core/pipeline.js';
import { telemetry } from '../telemetry.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { cache, MemoryCacheStore } from './index.js';
import { counter, flush, type Gate, gate, record } from './test-helpers.js';

describe('cache options', () => {
  it('refuses bad options with a TypeError naming option and value', () => {
    const clock = new VirtualClock();
    expect(() => cache({} as never)).toThrow(
      'cache: option "ttlMs" must be a number of milliseconds >= 0 or Infinity (got undefined)',
    );
    expect(() => cache({ ttlMs: -1 })).toThrow('option "ttlMs"');
    expect(() => cache({ ttlMs: 1, staleWhileRevalidateMs: Number.NaN })).toThrow(
      'option "staleWhileRevalidateMs"',
    );
    expect(() => cache({ ttlMs: 1, staleIfErrorMs: -5 })).toThrow('option "staleIfErrorMs"');
    expect(() => cache({ ttlMs: 1, negativeTtlMs: '1' as never })).toThrow(
      'option "negativeTtlMs"',
    );
    expect(() => cache({ ttlMs: 1, maxEntries: 0 })).toThrow(
      'cache: option "maxEntries" must be an integer >= 1 (got 0)',
    );
    expect(() => cache({ ttlMs: 1, maxBytes: 100 })).toThrow('option "sizeOf" must be a function');
    expect(() => cache({ ttlMs: 1, keyOf: 'k' as never })).toThrow(
      'cache: option "keyOf" must be a function (got "k")',
    );
    expect(() => cache({ ttlMs: 1, cacheOn: true as never })).toThrow('option "cacheOn"');
    expect(() => cache({ ttlMs: 1, store: {} as never })).toThrow(
      'option "store" must be a CacheStore',
    );
    expect(() => cache({ ttlMs: 1, store: new MemoryCacheStore(), maxEntries: 5 })).toThrow(
      'option "maxEntries" must be unset when a store is given',
    );
    const shared = new MemoryCacheStore();
    cache({ ttlMs: 1, store: shared, clock });
    expect(() => cache({ ttlMs: 1, store: shared, clock })).toThrow('no other cache uses');
    expect(() => new MemoryCacheStore({ maxBytes: 10 })).toThrow('"sizeOf"');
  });

  it('types: a cache of T judges and answers T; an untyped one trusts each call', () => {
    interface Reply {
      readonly status: number;
    }
    const fetchReply = async (): Promise<Reply> => ({ status: 200 });
    const typed = cache({ ttlMs: 1, cacheOn: (outcome: Outcome<Reply>) => outcome.ok });
    expectTypeOf(typed.execute(fetchReply, { key: 'a' })).toEqualTypeOf<Promise<Reply>>();
    // @ts-expect-error: the cache judges replies; a task answering a string cannot run in it.
    typed.execute(async () => 'text', { key: 'a' });
    const untyped = cache({ ttlMs: 1 });
    expectTypeOf(untyped.execute(() => 42, { key: 'a' })).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pipeline(typed, timeout(10)).execute(fetchReply)).toEqualTypeOf<Promise<Reply>>();
    // An untyped cache adds nothing to a pipeline's answer type.
    expectTypeOf(pipeline(untyped, timeout(10)).execute(() => 'x')).toEqualTypeOf<
      Promise<string>
    >();
  });
});

describe('cache', () => {
  it('answers from cache within ttlMs without calling fn, and calls again after', async () => {
    const clock = new VirtualClock();
    const policy = cache({ ttlMs: 100, clock });
    const seen = record(policy);
    const { calls, fn } = counter();
    expect(await policy.execute(fn, { key: 'a' })).toBe('a#1');
    await clock.advance(99);
    expect(await policy.execute(fn, { key: 'a' })).toBe('a#1');
    expect(await policy.execute(fn, { key: 'b' })).toBe('b#2');
    await clock.advance(1);
    expect(await policy.execute(fn, { key: 'a' })).toBe('a#3');
    expect(calls).toEqual(['a', 'b', 'a']);
    expect(seen).toEqual(['miss a', 'hit a', 'miss b', 'miss a']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('passes a call with no key straight through, uncached', async () => {
    const policy = cache({ ttlMs: 1000, clock: new VirtualClock() });
    const seen = record(policy);
    const { calls, fn } = counter();
    await policy.execute(fn);
    await policy.execute(fn);
    expect(calls).toEqual(['-', '-']);
    expect(seen).toEqual([]);
  });

  it('keys by keyOf when given; undefined from it passes through; a non-string rejects', async () => {
    const policy = cache<string>({
      ttlMs: 1000,
      clock: new VirtualClock(),
      keyOf: ({ data }) => (data as { path?: string }).path,
    });
    let n = 0;
    const fn = () => `v${++n}`;
    expect(await policy.execute(fn, { data: { path: '/x' } })).toBe('v1');
    expect(await policy.execute(fn, { data: { path: '/x' }, key: 'ignored' })).toBe('v1');
    expect(await policy.execute(fn, { data: {} })).toBe('v2');
    expect(await policy.execute(fn, { data: {} })).toBe('v3');
    const bad = cache({ ttlMs: 1, keyOf: () => 7 as never });
    await expect(bad.execute(fn)).rejects.toThrow(
      'cache: option "keyOf" must return a string or undefined (got 7)',
    );
  });

  it('stale-while-revalidate: answers stale at once and refreshes once per key in the background', async () => {
    const clock = new VirtualClock();
    const policy = cache({ ttlMs: 100, staleWhileRevalidateMs: 50, clock });
    const seen = record(policy);
    const gates: Gate[] = [];
    const fn = () => {
      const g = gate();
      gates.push(g);
      return g.promise;
    };
    const first = policy.execute(fn, { key: 'k' });
    gates[0]!.open('v1');
    expect(await first).toBe('v1');
    await clock.advance(120);
    expect(await policy.execute(fn, { key: 'k' })).toBe('v1');
    expect(await policy.execute(fn, { key: 'k' })).toBe('v1');
    expect(gates.length).toBe(2);
    expect(policy.inflight).toBe(1);
    gates[1]!.open('v2');
    await flush();
    expect(policy.inflight).toBe(0);
    expect(await policy.execute(fn, { key: 'k' })).toBe('v2');
    expect(seen).toEqual(['miss k', 'stale k', 'stale k', 'revalidated k', 'hit k']);
  });

  it('stale-while-revalidate: a failed refresh keeps the stale value, and the next stale call tries again', async () => {
    const clock = new VirtualClock();
    const policy = cache({ ttlMs: 100, staleWhileRevalidateMs: 100, clock });
    const outcomes: Outcome[] = [];
    policy.on('revalidated', ({ outcome, stored }) => {
      outcomes.push(outcome);
      expect(stored).toBe(outcome.ok);
    });
    await policy.execute(() => 'v1', { key: 'k' });
    await clock.advance(150);
    const boom = new Error('down');
    expect(await policy.execute(() => Promise.reject(boom), { key: 'k' })).toBe('v1');
    await flush();
    expect(outcomes).toEqual([{ ok: false, error: boom }]);
    expect(await policy.execute(() => 'v2', { key: 'k' })).toBe('v1');
    await flush();
    expect(await policy.execute(() => 'v3', { key: 'k' })).toBe('v2');
    expect(outcomes.length).toBe(2);
  });

  it('past the stale-while-revalidate window the caller waits for the call', async () => {
    const clock = new VirtualClock();
    const policy = cache({ ttlMs: 100, staleWhileRevalidateMs: 10, clock });
    await policy.execute(() => 'v1', { key: 'k' });
    await clock.advance(110);
    expect(await policy.execute(() => 'v2', { key: 'k' })).toBe('v2');
  });

  it('stale-if-error: within the window a failure is answered with the stale value, after it the error', async () => {
    const clock = new VirtualClock();
    const policy = cache({ ttlMs: 100, staleIfErrorMs: 200, clock });
    const seen = record(policy);
    const errors: unknown[] = [];
    policy.on('staleIfError', ({ error }) => errors.push(error));
    const boom = new Error('down');
    await policy.execute(() => 'v1', { key: 'k' });
    await clock.advance(150);
    let called = 0;
    const failing = () => {
      called++;
      throw boom;
    };
    expect(await policy.execute(failing, { key: 'k' })).toBe('v1');
    expect(called).toBe(1);
    expect(errors).toEqual([boom]);
    await clock.advance(149);
    expect(await policy.execute(failing, { key: 'k' })).toBe('v1');
    await clock.advance(1);
    await expect(policy.execute(failing, { key: 'k' })).rejects.toBe(boom);
    expect(seen).toEqual([
      'miss k',
      'miss k',
      'staleIfError k',
      'miss k',
      'staleIfError k',
      'miss k',
    ]);
  });

  it('stale-if-error: a success within the window replaces the stale value', async () => {
    const clock = new VirtualClock();
    const policy = cache({ ttlMs: 100, staleIfErrorMs: 1000, clock });
    await policy.execute(() => 'v1', { key: 'k' });
    await clock.advance(100);
    expect(await policy.execute(() => 'v2', { key: 'k' })).toBe('v2');
    expect(await policy.execute(() => 'v3', { key: 'k' })).toBe('v2');
  });

  it('by default stores successes only; a failure is not cached', async () => {
    const policy = cache({ ttlMs: 1000, negativeTtlMs: 1000, clock: new VirtualClock() });
    const boom = new Error('down');
    await expect(policy.execute(() => Promise.reject(boom), { key: 'k' })).rejects.toBe(boom);
    expect(await policy.execute(() => 'ok', { key: 'k' })).toBe('ok');
  });

  it('negative caching: a failure cacheOn accepts is rethrown for negativeTtlMs without calling fn', async () => {
    const clock = new VirtualClock();
    class NotFound extends Error {}
    const policy = cache({
      ttlMs: 1000,
      negativeTtlMs: 50,
      clock,
      cacheOn: (outcome) => outcome.ok || outcome.error instanceof NotFound,
    });
    const seen = record(policy);
    const missing = new NotFound('no such user');
    let called = 0;
    const lookup = () => {
      called++;
      throw missing;
    };
    await expect(policy.execute(lookup, { key: 'u' })).rejects.toBe(missing);
    await clock.advance(49);
    await expect(policy.execute(lookup, { key: 'u' })).rejects.toBe(missing);
    expect(called).toBe(1);
    await clock.advance(1);
    expect(await policy.execute(() => 'found', { key: 'u' })).toBe('found');
    const other = new Error('other');
    await expect(policy.execute(() => Promise.reject(other), { key: 'v' })).rejects.toBe(other);
    await expect(policy.execute(() => Promise.reject(other), { key: 'v' })).rejects.toBe(other);
    expect(seen).toEqual(['miss u', 'hit u', 'miss u', 'miss v', 'miss v']);
    // negativeTtlMs 0 (the default) never stores a failure, whatever cacheOn says.
    const plain = cache({ ttlMs: 1000, clock, cacheOn: () => true });
    await expect(plain.execute(lookup, { key: 'u' })).rejects.toBe(missing);
    await expect(plain.execute(lookup, { key: 'u' })).rejects.toBe(missing);
    expect(called).toBe(3);
  });

  it('cacheOn can refuse successes (a 503 reply is answered, not stored); an async one is refused', async () => {
    const policy = cache<{ status: number }>({
      ttlMs: 1000,
      clock: new VirtualClock(),
      cacheOn: (outcome) => outcome.ok && outcome.value.status < 500,
    });
    let status = 503;
    const fn = () => ({ status });
    expect(await policy.execute(fn, { key: 'k' })).toEqual({ status: 503 });
    status = 200;
    expect(await policy.execute(fn, { key: 'k' })).toEqual({ status: 200 });
    status = 500;
    expect(await policy.execute(fn, { key: 'k' })).toEqual({ status: 200 });
    const asyncCacheOn = cache({ ttlMs: 1, cacheOn: (async () => true) as never });
    await expect(asyncCacheOn.execute(() => 1, { key: 'k' })).rejects.toThrow(
      'option "cacheOn" returned a promise',
    );
  });

  it('a hit with a caller signal adds no listener; events reach the telemetry bus as kind "cache"', async () => {
    const policy = cache({ name: 'users', ttlMs: 100, clock: new VirtualClock() });
    const seen: string[] = [];
    const stop = telemetry.subscribe((event) => {
      if (event.kind === 'cache') seen.push(`${event.policy} ${event.type} ${event.detail.key}`);
    });
    try {
      const controller = new AbortController();
      await policy.execute(() => 1, { key: 'u1', signal: controller.signal });
      expect(await policy.execute(() => 2, { key: 'u1', signal: controller.signal })).toBe(1);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    } finally {
      stop();
    }
    expect(seen).toEqual(['users miss u1', 'users hit u1']);
  });
});
