import { describe, expect, it } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import { BulkheadRejectedError } from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { keyed } from './index.js';

function hang(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

function countingFactory(made: string[]) {
  return (key: string) => {
    made.push(key);
    return bulkhead({ limit: 1 });
  };
}

describe('keyed.get(key): a handle whose calls count as the key’s', () => {
  it('keeps a key busy while a call through its handle runs: no eviction, no second policy', async () => {
    const made: string[] = [];
    const perKey = keyed(countingFactory(made), { maxKeys: 1 });
    const stuck = hang();
    const running = perKey.get('a').execute(() => stuck.promise);
    await perKey.execute(() => 'b', { key: 'b' });
    expect(perKey.peek('a')?.running).toBe(1);
    await expect(perKey.get('a').execute(() => 'again')).rejects.toBeInstanceOf(
      BulkheadRejectedError,
    );
    await expect(perKey.execute(() => 'again', { key: 'a' })).rejects.toBeInstanceOf(
      BulkheadRejectedError,
    );
    expect(made).toEqual(['a', 'b']);
    stuck.release();
    await running;
    expect(perKey.size).toBe(1);
  });

  it('runs under the handle’s key and exposes the key’s kept policy', async () => {
    const made: string[] = [];
    const perKey = keyed(countingFactory(made), { maxKeys: 1 });
    const handle = perKey.get('a');
    expect(handle.key).toBe('a');
    expect(handle.policy).toBe(perKey.peek('a'));
    expect(perKey.get('a')).toBe(handle);
    await expect(handle.execute((ctx) => ctx.key)).resolves.toBe('a');
    await expect(handle.execute((ctx) => ctx.key, { key: 'other' })).resolves.toBe('a');
    expect(made).toEqual(['a']);
  });

  it('never goes stale: after the key is dropped, the handle reaches the new policy', async () => {
    const made: string[] = [];
    const perKey = keyed(countingFactory(made), { maxKeys: 1 });
    const handle = perKey.get('a');
    await perKey.execute(() => 1, { key: 'b' });
    expect(perKey.peek('a')).toBeUndefined();
    await handle.execute(() => 1);
    expect(handle.policy).toBe(perKey.peek('a'));
    expect(made).toEqual(['a', 'b', 'a']);
  });

  it('joins a pipeline like any policy', async () => {
    const clock = new VirtualClock(100);
    const perKey = keyed(() => bulkhead({ limit: 1 }));
    const seen = await pipeline(perKey.get('a'), timeout(50, { clock })).execute((ctx) => [
      ctx.key,
      ctx.deadline,
    ]);
    expect(seen).toEqual(['a', 150]);
    expect(perKey.snapshot('a')?.inFlight).toBe(0);
  });
});

describe('keyed introspection: keys(), entries(), snapshot()', () => {
  it('reports each kept key without counting as a use or changing the eviction order', async () => {
    const clock = new VirtualClock(1_000);
    const perKey = keyed(() => bulkhead({ limit: 2 }), { maxKeys: 3, idleMs: 60_000, clock });
    const stuck = hang();
    await perKey.execute(() => 1, { key: 'a' });
    await clock.advance(10);
    const busy = perKey.execute(() => stuck.promise, { key: 'b' });
    await clock.advance(10);
    await perKey.execute(() => 1, { key: 'c' });

    expect(perKey.snapshot('a')).toEqual({
      key: 'a',
      policy: perKey.peek('a'),
      inFlight: 0,
      lastUsedMs: 1_000,
    });
    expect(perKey.snapshot('zzz')).toBeUndefined();
    expect([...perKey.keys()]).toEqual(['a', 'b', 'c']);
    expect(
      [...perKey.entries()].map(({ key, inFlight, lastUsedMs }) => [key, inFlight, lastUsedMs]),
    ).toEqual([
      ['a', 0, 1_000],
      ['b', 1, 1_010],
      ['c', 0, 1_020],
    ]);
    expect(perKey.size).toBe(3);

    // None of those reads saved 'a': it is still the least recently used idle key.
    await perKey.execute(() => 1, { key: 'd' });
    expect([...perKey.keys()]).toEqual(['b', 'c', 'd']);
    stuck.release();
    await busy;
  });

  it('leaves lastUsedMs undefined when no clock is read (idleMs is Infinity)', async () => {
    const perKey = keyed(() => bulkhead({ limit: 1 }));
    await perKey.execute(() => 1, { key: 'a' });
    expect(perKey.snapshot('a')?.lastUsedMs).toBeUndefined();
  });

  it('counts get(key) as a use: the key becomes the most recently used', async () => {
    const perKey = keyed(() => bulkhead({ limit: 1 }), { maxKeys: 2 });
    await perKey.execute(() => 1, { key: 'a' });
    await perKey.execute(() => 1, { key: 'b' });
    perKey.get('a');
    await perKey.execute(() => 1, { key: 'c' });
    expect([...perKey.keys()]).toEqual(['a', 'c']);
  });
});
