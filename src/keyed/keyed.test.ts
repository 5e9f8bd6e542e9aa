import { describe, expect, it } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import { BulkheadRejectedError } from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
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
    expect(perHost.get('a.internal').running).toBe(1);
    expect(perHost.get('b.internal').running).toBe(0);
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

  it('emits created for each new key', async () => {
    const created: string[] = [];
    const perKey = keyed(() => bulkhead({ limit: 1 }));
    perKey.on('created', ({ key }) => created.push(key));
    await perKey.execute(() => 1, { key: 'x' });
    await perKey.execute(() => 1, { key: 'x' });
    await perKey.execute(() => 1, { key: 'y' });
    expect(created).toEqual(['x', 'y']);
  });

  it('refuses a call without a key, a bad factory and bad options', async () => {
    const perKey = keyed(() => bulkhead({ limit: 1 }));
    await expect(perKey.execute(() => 1)).rejects.toThrow(
      'keyed: execute() needs options.key, a string (got undefined)',
    );
    const piped = keyed(() => pipeline(bulkhead({ limit: 1 })) as never);
    await expect(piped.execute(() => 1, { key: 'k' })).rejects.toThrow(
      /factory must return one bulwark policy \(not a pipeline\) for key "k"/,
    );
    const throwing = keyed(() => {
      throw new Error('no such tenant');
    });
    await expect(throwing.execute(() => 1, { key: 'k' })).rejects.toThrow('no such tenant');
    expect(() => keyed('nope' as never)).toThrow(
      'keyed: option "factory" must be a function (got "nope")',
    );
    expect(() => keyed(() => bulkhead({ limit: 1 }), { maxKeys: 0 })).toThrow(/option "maxKeys"/);
    expect(() => keyed(() => bulkhead({ limit: 1 }), { idleMs: -5 })).toThrow(/option "idleMs"/);
  });
});
