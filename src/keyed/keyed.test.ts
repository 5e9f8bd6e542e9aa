import { describe, expect, it } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import type { Clock } from '../core/clock.js';
import { BulkheadRejectedError } from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
import type { Policy } from '../core/policy.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { type KeyedEvents, keyed } from './index.js';

function hang(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

describe('keyed', () => {
  it('gives each key its own policy: one exhausted key does not block another', async () => {
    const perHost = keyed(() => bulkhead({ limit: 1 }));
    const stuck = hang();
    const first = perHost.execute(() => stuck.promise, { key: 'a.internal' });
    await expect(perHost.execute(() => 'x', { key: 'a.internal' })).rejects.toBeInstanceOf(
      BulkheadRejectedError,
    );
    await expect(perHost.execute(() => 'served', { key: 'b.internal' })).resolves.toBe('served');
    expect(perHost.peek('a.internal')?.running).toBe(1);
    expect(perHost.peek('b.internal')?.running).toBe(0);
    stuck.release();
    await first;
  });

  it('continues the chain after the keyed layer with the same context', async () => {
    const clock = new VirtualClock(100);
    const policy = pipeline(
      keyed(() => bulkhead({ limit: 2 })),
      timeout(50, { clock }),
    );
    const seen = await policy.execute((ctx) => [ctx.key, ctx.deadline], { key: 'k' });
    expect(seen).toEqual(['k', 150]);
  });

  it('keeps at most maxKeys, dropping the least recently used idle key', async () => {
    const evicted: KeyedEvents['evicted'][] = [];
    const perKey = keyed(() => bulkhead({ limit: 1 }), { maxKeys: 3 });
    perKey.on('evicted', (event) => evicted.push(event));
    for (const key of ['a', 'b', 'c']) await perKey.execute(() => key, { key });
    await perKey.execute(() => 'a again', { key: 'a' });
    await perKey.execute(() => 'd', { key: 'd' });
    expect(perKey.size).toBe(3);
    expect(evicted).toEqual([{ key: 'b', reason: 'capacity' }]);
    expect(perKey.peek('a')).toBeDefined();
    expect(perKey.peek('b')).toBeUndefined();
  });

  it('never drops a key with calls in flight', async () => {
    const perKey = keyed(() => bulkhead({ limit: 1 }), { maxKeys: 1 });
    const stuck = hang();
    const busy = perKey.execute(() => stuck.promise, { key: 'busy' });
    const busyBulkhead = perKey.peek('busy');
    await perKey.execute(() => 1, { key: 'other' });
    expect(perKey.peek('busy')).toBe(busyBulkhead);
    stuck.release();
    await busy;
    await perKey.execute(() => 2, { key: 'third' });
    expect(perKey.size).toBe(1);
  });

  it('releases a key whose policy throws instead of returning a promise, so it can go', async () => {
    const broken: Clock = {
      now: () => {
        throw new Error('clock gone');
      },
      setTimeout: () => 0,
      clearTimeout: () => {},
    };
    const perKey = keyed((key) => timeout(50, key === 'broken' ? { clock: broken } : {}), {
      maxKeys: 1,
    });
    await expect(perKey.execute(() => 1, { key: 'broken' })).rejects.toThrow('clock gone');
    expect(perKey.snapshot('broken')?.inFlight).toBe(0);
    await perKey.execute(() => 1, { key: 'fine' });
    expect(perKey.peek('broken')).toBeUndefined();
    expect([...perKey.keys()]).toEqual(['fine']);
  });

  it('holds maxKeys plus the busy keys beyond it, and shrinks back as their calls end', async () => {
    const evicted: string[] = [];
    const perKey = keyed(() => bulkhead({ limit: 1 }), { maxKeys: 2 });
    perKey.on('evicted', ({ key, reason }) => evicted.push(`${key}:${reason}`));
    const stuck = ['a', 'b', 'c', 'd'].map(() => hang());
    const calls = ['a', 'b', 'c', 'd'].map((key, i) =>
      perKey.execute(() => stuck[i]!.promise, { key }),
    );
    expect(perKey.size).toBe(4);
    stuck[2]!.release();
    await calls[2];
    expect(evicted).toEqual(['c:capacity']);
    stuck[0]!.release();
    await calls[0];
    expect(evicted).toEqual(['c:capacity', 'a:capacity']);
    expect(perKey.size).toBe(2);
    stuck[1]!.release();
    stuck[3]!.release();
    await Promise.all(calls);
    expect([...perKey.keys()]).toEqual(['b', 'd']);
  });

  it('does not bring back a key deleted while its calls run', async () => {
    const made: string[] = [];
    const perKey = keyed(
      (key) => {
        made.push(key);
        return bulkhead({ limit: 1 });
      },
      { maxKeys: 1 },
    );
    const stuck = hang();
    const call = perKey.execute(() => stuck.promise, { key: 'a' });
    expect(perKey.delete('a')).toBe(true);
    expect(perKey.delete('a')).toBe(false);
    await perKey.execute(() => 1, { key: 'b' });
    stuck.release();
    await call;
    expect([...perKey.keys()]).toEqual(['b']);
    await perKey.execute(() => 1, { key: 'a' });
    expect(made).toEqual(['a', 'b', 'a']);
  });

  it('stays within maxKeys under a stream of distinct keys', async () => {
    const perKey = keyed(() => bulkhead({ limit: 1 }), { maxKeys: 1_000 });
    for (let i = 0; i < 100_000; i++) perKey.get(`tenant-${i}`);
    expect(perKey.size).toBe(1_000);
  });

  it('drops keys unused for idleMs', async () => {
    const clock = new VirtualClock();
    const evicted: string[] = [];
    const perKey = keyed(() => bulkhead({ limit: 1 }), { idleMs: 1_000, clock });
    perKey.on('evicted', ({ key, reason }) => evicted.push(`${key}:${reason}`));
    await perKey.execute(() => 1, { key: 'quiet' });
    await clock.advance(600);
    await perKey.execute(() => 1, { key: 'chatty' });
    await clock.advance(600);
    await perKey.execute(() => 1, { key: 'chatty' });
    expect(evicted).toEqual(['quiet:idle']);
    expect(perKey.peek('chatty')).toBeDefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('drops an idle key within 2 * idleMs of its last use, whatever capacity eviction did', async () => {
    const clock = new VirtualClock();
    const perKey = keyed(() => bulkhead({ limit: 1 }), { maxKeys: 2, idleMs: 100, clock });
    const at = async (time: number, key: string) => {
      await clock.advance(time - clock.now());
      await perKey.execute(() => 1, { key });
    };
    await at(0, 'a');
    await at(50, 'a'); // 'a' last used at 50
    await at(100, 'b'); // the sweep visits 'a', used within idleMs: its second chance
    await at(160, 'c'); // over maxKeys: 'a' must not get another chance from this eviction
    await at(250, 'c');
    expect(perKey.peek('a')).toBeUndefined();
  });

  it('never drops a key for idleness while its calls run, however long they take', async () => {
    const clock = new VirtualClock();
    const perKey = keyed(() => bulkhead({ limit: 1 }), { idleMs: 1_000, clock });
    const slow = perKey.execute(
      () => new Promise<void>((resolve) => clock.setTimeout(resolve, 5_000)),
      { key: 'slow' },
    );
    for (let t = 1_500; t < 5_000; t += 1_500) {
      await clock.advance(1_500);
      await perKey.execute(() => 1, { key: `other-${t}` });
    }
    expect(perKey.snapshot('slow')).toMatchObject({ inFlight: 1, lastUsedMs: 0 });
    await clock.advance(500);
    await slow;
    // Idle is counted from the last call's start: with the call over, the key can go.
    await clock.advance(1_000);
    await perKey.execute(() => 1, { key: 'other' });
    expect(perKey.peek('slow')).toBeUndefined();
  });

  it('emits created for each new key', async () => {
    const created: string[] = [];
    const perKey = keyed(() => bulkhead({ limit: 1 }));
    perKey.on('created', ({ key }) => created.push(key));
    await perKey.execute(() => 1, { key: 'x' });
    await perKey.execute(() => 1, { key: 'x' });
    await perKey.execute(() => 1, { key: 'y' });
    expect(created).toEqual(['x', 'y']);
  });

  it('refuses a call without a key, a factory that makes no policy, and bad options', async () => {
    const perKey = keyed(() => bulkhead({ limit: 1 }));
    await expect(perKey.execute(() => 1)).rejects.toThrow(
      'keyed: execute() needs options.key, a string (got undefined)',
    );
    const notAPolicy = keyed<Policy>(() => ({ run: () => 1 }) as never, { name: 'per-tenant' });
    await expect(notAPolicy.execute(() => 1, { key: 'k' })).rejects.toThrow(
      'per-tenant: the factory must return a policy, an object with execute(), for key "k" (got an object)',
    );
    expect(notAPolicy.size).toBe(0);
    const throwing = keyed<Policy>(() => {
      throw new Error('no such tenant');
    });
    await expect(throwing.execute(() => 1, { key: 'k' })).rejects.toThrow('no such tenant');
    expect(() => throwing.get('k')).toThrow('no such tenant');
    expect(() => perKey.get(7 as never)).toThrow('keyed: get() needs a string key (got 7)');
    expect(() => keyed('nope' as never)).toThrow(
      'keyed: option "factory" must be a function (got "nope")',
    );
    const factory = () => bulkhead({ limit: 1 });
    expect(() => keyed(factory, { maxKeys: 0 })).toThrow(
      'keyed: option "maxKeys" must be an integer >= 1 (got 0)',
    );
    expect(() => keyed(factory, { name: 'tenants', maxKeys: 2.5 })).toThrow(
      'tenants: option "maxKeys" must be an integer >= 1 (got 2.5)',
    );
    expect(() => keyed(factory, { maxKeys: Number.POSITIVE_INFINITY })).toThrow(
      'keyed: option "maxKeys" must be an integer >= 1 (got Infinity)',
    );
    expect(() => keyed(factory, { idleMs: -5 })).toThrow(
      'keyed: option "idleMs" must be a number of milliseconds >= 1 or Infinity (got -5)',
    );
    expect(() => keyed(factory, { idleMs: Number.NaN })).toThrow(
      'keyed: option "idleMs" must be a number of milliseconds >= 1 or Infinity (got NaN)',
    );
    expect(() => keyed(factory, 5 as never)).toThrow('keyed: options must be an object (got 5)');
  });
});
