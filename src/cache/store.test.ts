import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { type CacheStore, cache, type MemoryCacheStore } from './index.js';
import { counter, flush, gate, record } from './test-helpers.js';

describe('cache: stores, bounds and invalidation', () => {
  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const clock = new VirtualClock();
    const policy = cache({ ttlMs: 1000, maxEntries: 2, clock });
    const seen = record(policy);
    const { calls, fn } = counter();
    await policy.execute(fn, { key: 'a' });
    await policy.execute(fn, { key: 'b' });
    await policy.execute(fn, { key: 'a' });
    await policy.execute(fn, { key: 'c' });
    expect(seen.filter((e) => e.startsWith('evicted'))).toEqual(['evicted b']);
    await policy.execute(fn, { key: 'a' });
    await policy.execute(fn, { key: 'b' });
    expect(calls).toEqual(['a', 'b', 'c', 'b']);
    expect((policy.store as MemoryCacheStore).size).toBe(2);
  });

  it('keeps at most maxBytes as sizeOf measures, and never stores a value bigger than all of it', async () => {
    const clock = new VirtualClock();
    const policy = cache<string>({ ttlMs: 1000, maxBytes: 10, sizeOf: (v) => v.length, clock });
    const evicted: string[] = [];
    policy.on('evicted', ({ key, reason }) => evicted.push(`${key} ${reason}`));
    const store = policy.store as MemoryCacheStore<string>;
    await policy.execute(() => 'aaaa', { key: 'a' });
    await policy.execute(() => 'bbbb', { key: 'b' });
    expect(store.bytes).toBe(8);
    await policy.execute(() => 'ccc', { key: 'c' });
    expect(evicted).toEqual(['a maxBytes']);
    expect(store.bytes).toBe(7);
    expect(await policy.execute(() => 'x'.repeat(11), { key: 'huge' })).toBe('xxxxxxxxxxx');
    expect(evicted).toEqual(['a maxBytes', 'huge maxBytes']);
    expect(store.size).toBe(2);
    const bad = cache({ ttlMs: 1, maxBytes: 5, sizeOf: () => -1, clock });
    await expect(bad.execute(() => 'v', { key: 'k' })).rejects.toThrow('"sizeOf" must return');
  });

  it('drops expired entries as writes sweep past them, with no timer', async () => {
    const clock = new VirtualClock();
    const policy = cache({ ttlMs: 10, clock });
    const store = policy.store as MemoryCacheStore;
    for (const key of ['a', 'b', 'c', 'd']) await policy.execute(() => key, { key });
    expect(store.size).toBe(4);
    await clock.advance(10);
    await policy.execute(() => 'e', { key: 'e' });
    await policy.execute(() => 'f', { key: 'f' });
    expect(store.size).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('get, set, delete and clear invalidate; a call running during one is not stored', async () => {
    const clock = new VirtualClock();
    const policy = cache<string>({ ttlMs: 100, clock });
    await policy.set('a', 'manual');
    expect(await policy.get('a')).toBe('manual');
    expect(await policy.execute(() => 'fn', { key: 'a' })).toBe('manual');
    await policy.delete('a');
    expect(await policy.get('a')).toBeUndefined();
    expect(await policy.execute(() => 'fn', { key: 'a' })).toBe('fn');
    await clock.advance(100);
    expect(await policy.get('a')).toBeUndefined();

    const g = gate();
    const running = policy.execute(() => g.promise, { key: 'b' });
    await policy.delete('b');
    g.open('old');
    expect(await running).toBe('old');
    expect(await policy.get('b')).toBeUndefined();

    await policy.set('c', 'c');
    const h = gate();
    const pending = policy.execute(() => h.promise, { key: 'd' });
    await policy.clear();
    h.open('d');
    await pending;
    expect(await policy.get('c')).toBeUndefined();
    expect(await policy.get('d')).toBeUndefined();
    await expect(policy.get(5 as never)).rejects.toThrow(
      'cache: a cache key must be a string (got 5)',
    );
  });

  it('works with a store that answers with promises', async () => {
    const clock = new VirtualClock();
    const map = new Map<string, unknown>();
    const store: CacheStore<string> = {
      get: async (key) => map.get(key) as never,
      set: async (key, entry) => {
        map.set(key, entry);
      },
      delete: async (key) => {
        map.delete(key);
      },
      clear: async () => map.clear(),
    };
    const policy = cache({ ttlMs: 100, staleIfErrorMs: 100, store, clock });
    let n = 0;
    expect(await policy.execute(() => `v${++n}`, { key: 'k' })).toBe('v1');
    await flush();
    expect(await policy.execute(() => `v${++n}`, { key: 'k' })).toBe('v1');
    await clock.advance(150);
    expect(await policy.execute(() => Promise.reject(new Error('x')), { key: 'k' })).toBe('v1');
    const errors: unknown[] = [];
    policy.on('storeError', ({ error }) => errors.push(error));
    store.get = () => Promise.reject(new Error('redis down'));
    store.set = () => {
      throw new Error('redis full');
    };
    expect(await policy.execute(() => 'direct', { key: 'k' })).toBe('direct');
    store.set = () => Promise.reject(new Error('redis slow'));
    expect(await policy.execute(() => 'again', { key: 'k' })).toBe('again');
    await flush();
    expect(errors).toEqual([
      new Error('redis down'),
      new Error('redis full'),
      new Error('redis down'),
      new Error('redis slow'),
    ]);
  });
});
