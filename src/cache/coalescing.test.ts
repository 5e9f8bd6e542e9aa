import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { pipeline } from '../core/pipeline.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { cache } from './index.js';
import { flush, gate, record } from './test-helpers.js';

describe('cache: request coalescing', () => {
  it('coalesces concurrent misses for a key into one call whose outcome all of them get', async () => {
    const policy = cache({ ttlMs: 1000, clock: new VirtualClock() });
    const seen = record(policy);
    const g = gate();
    let called = 0;
    const fn = () => {
      called++;
      return g.promise;
    };
    const calls = [1, 2, 3].map(() => policy.execute(fn, { key: 'k' }));
    const other = policy.execute(() => 'o', { key: 'other' });
    expect(called).toBe(1);
    g.open('shared');
    expect(await Promise.all(calls)).toEqual(['shared', 'shared', 'shared']);
    expect(await other).toBe('o');
    expect(seen).toEqual(['miss k', 'coalesced k', 'coalesced k', 'miss other']);

    const failing = gate();
    const boom = new Error('boom');
    const failed = [1, 2].map(() =>
      policy.execute(() => failing.promise, { key: 'f' }).catch((e: unknown) => e),
    );
    failing.fail(boom);
    expect(await Promise.all(failed)).toEqual([boom, boom]);
  });

  it('one caller aborting leaves at once; the shared call goes on for the others, and is aborted when the last leaves', async () => {
    const policy = cache({ ttlMs: 1000, clock: new VirtualClock() });
    const g = gate();
    let signal: AbortSignal | undefined;
    const fn = (ctx: { signal: AbortSignal }) => {
      signal = ctx.signal;
      return g.promise;
    };
    const a = new AbortController();
    const b = new AbortController();
    const pa = policy.execute(fn, { key: 'k', signal: a.signal }).catch((e: unknown) => e);
    const pb = policy.execute(fn, { key: 'k', signal: b.signal });
    const pc = policy.execute(fn, { key: 'k' });
    a.abort(new Error('a left'));
    expect(await pa).toEqual(new Error('a left'));
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(0);
    expect(signal!.aborted).toBe(false);
    g.open('v');
    expect(await pb).toBe('v');
    expect(await pc).toBe('v');
    expect(getEventListeners(b.signal, 'abort')).toHaveLength(0);

    const h = gate();
    let shared: AbortSignal | undefined;
    const c1 = new AbortController();
    const c2 = new AbortController();
    const fn2 = (ctx: { signal: AbortSignal }) => {
      shared = ctx.signal;
      return h.promise;
    };
    const p1 = policy.execute(fn2, { key: 'j', signal: c1.signal }).catch((e: unknown) => e);
    const p2 = policy.execute(fn2, { key: 'j', signal: c2.signal }).catch((e: unknown) => e);
    c1.abort('one');
    expect(await p1).toBe('one');
    expect(shared!.aborted).toBe(false);
    c2.abort('two');
    expect(await p2).toBe('two');
    expect(shared!.aborted).toBe(true);
    expect(shared!.reason).toBe('two');
    expect(policy.inflight).toBe(0);
    // A new caller starts afresh; the abandoned call's late answer is not stored.
    const p3 = policy.execute(() => 'fresh', { key: 'j' });
    h.open('late');
    expect(await p3).toBe('fresh');
    await flush();
    expect(await policy.get('j')).toBe('fresh');
    expect(getEventListeners(c1.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(c2.signal, 'abort')).toHaveLength(0);
  });

  it('a caller whose signal is already aborted is refused with its reason and starts nothing', async () => {
    const policy = cache({ ttlMs: 1000, clock: new VirtualClock() });
    const controller = new AbortController();
    controller.abort('gone');
    let called = 0;
    await expect(
      policy.execute(() => called++, { key: 'k', signal: controller.signal }),
    ).rejects.toBe('gone');
    expect(called).toBe(0);
  });

  it('a timeout outside lets its caller leave; one inside bounds the shared call', async () => {
    const clock = new VirtualClock();
    const outside = pipeline(timeout(50, { clock }), cache({ ttlMs: 1000, clock }));
    const g = gate();
    let signal: AbortSignal | undefined;
    const late = outside
      .execute(
        (ctx) => {
          signal = ctx.signal;
          return g.promise;
        },
        { key: 'k' },
      )
      .catch((e: unknown) => e);
    await clock.advance(50);
    expect((await late) as Error).toHaveProperty('name', 'TimeoutError');
    // Its only caller left, so the shared call was aborted with the caller's reason.
    expect(signal!.aborted).toBe(true);
    g.open('v');
    await flush();

    const inside = pipeline(cache({ ttlMs: 1000, clock }), timeout(50, { clock }));
    const untilAborted = ({ signal }: { signal: AbortSignal }) =>
      new Promise<string>((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
      );
    const never = inside.execute(untilAborted, { key: 'k' }).catch((e: unknown) => e);
    const joined = inside.execute(() => 'unused', { key: 'k' }).catch((e: unknown) => e);
    await clock.advance(50);
    expect(await never).toHaveProperty('name', 'TimeoutError');
    expect(await joined).toBe(await never);
    expect(clock.pendingTimers).toBe(0);
  });

  it('the last caller of an invalidated call leaving does not disturb the newer call for its key', async () => {
    const policy = cache({ ttlMs: 1000, clock: new VirtualClock() });
    const old = gate();
    const controller = new AbortController();
    const first = policy
      .execute(() => old.promise, { key: 'k', signal: controller.signal })
      .catch((e: unknown) => e);
    await policy.delete('k');
    const fresh = gate();
    const second = policy.execute(() => fresh.promise, { key: 'k' });
    controller.abort('gone');
    expect(await first).toBe('gone');
    expect(policy.inflight).toBe(1);
    const joined = policy.execute(() => 'unused', { key: 'k' });
    fresh.open('new');
    expect(await second).toBe('new');
    expect(await joined).toBe('new');
    expect(await policy.get('k')).toBe('new');
  });
});
