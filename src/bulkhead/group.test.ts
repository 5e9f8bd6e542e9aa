import { describe, expect, it } from 'vitest';
import { BulkheadRejectedError } from '../core/errors.js';
import { telemetry } from '../core/events.js';
import { VirtualClock } from '../testing/index.js';
import { BulkheadPolicy, bulkheadGroup } from './index.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('bulkheadGroup', () => {
  it('keeps serving other pools while one dependency hangs and exhausts its own', async () => {
    const clock = new VirtualClock();
    const group = bulkheadGroup(
      { payments: { limit: 2, queue: 1, queueTimeoutMs: 500 }, search: { limit: 3, queue: 10 } },
      { clock },
    );
    const hang = (): Promise<never> => new Promise(() => {});
    const stuck = [1, 2, 3].map(() => group.execute('payments', hang));
    await flush();
    await expect(group.execute('payments', () => 'paid')).rejects.toBeInstanceOf(
      BulkheadRejectedError,
    );

    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => group.execute('search', () => `result ${i}`)),
    );
    expect(answers).toEqual(Array.from({ length: 10 }, (_, i) => `result ${i}`));
    expect(group.stats()).toEqual({
      payments: { running: 2, queued: 1, limit: 2, queueLimit: 1 },
      search: { running: 0, queued: 0, limit: 3, queueLimit: 10 },
    });

    const queued = expect(stuck[2]).rejects.toThrow(/timed out in the queue/);
    await clock.advance(500);
    await queued;
    expect(group.stats().payments).toMatchObject({ running: 2, queued: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('hands out one bulkhead per pool, named after the group', async () => {
    const group = bulkheadGroup({ payments: { limit: 1 } }, { name: 'api' });
    const pool = group.pool('payments');
    expect(pool).toBeInstanceOf(BulkheadPolicy);
    expect(group.pool('payments')).toBe(pool);
    expect(pool.name).toBe('api.payments');

    const seen: string[] = [];
    const dispose = telemetry.subscribe((event) => seen.push(`${event.policy}:${event.type}`));
    const running = pool.execute(() => new Promise<void>((resolve) => setImmediate(resolve)));
    await group.execute('payments', () => 'x').catch(() => undefined);
    dispose();
    await running;
    expect(seen).toEqual(['api.payments:rejected']);
  });

  it('refuses an unknown pool clearly unless it has defaults', async () => {
    const group = bulkheadGroup({ payments: { limit: 1 }, search: { limit: 2 } });
    expect(() => group.pool('emails')).toThrow(
      'bulkhead: unknown pool "emails" (known: "payments", "search")',
    );
    await expect(group.execute('emails', () => 1)).rejects.toThrow(/unknown pool "emails"/);

    const open = bulkheadGroup({}, { defaults: { limit: 4, queue: 2 } });
    await expect(open.execute('tenant-7', () => 'served')).resolves.toBe('served');
    expect(open.pool('tenant-7')).toBe(open.pool('tenant-7'));
    expect(open.stats()).toEqual({
      'tenant-7': { running: 0, queued: 0, limit: 4, queueLimit: 2 },
    });
  });

  it('validates the pools and options', () => {
    expect(() => bulkheadGroup({})).toThrow(
      'bulkheadGroup: pools must name at least one pool, or set "defaults"',
    );
    expect(() => bulkheadGroup(null as never)).toThrow(/pools must be an object/);
    expect(() => bulkheadGroup({ payments: { limit: 0 } })).toThrow(
      'bulkhead.payments: option "limit" must be an integer >= 1 (got 0)',
    );
    expect(() => bulkheadGroup({ payments: 5 as never })).toThrow(
      'bulkhead.payments: options must be an object (got 5)',
    );
    expect(() => bulkheadGroup({ '': { limit: 1 } })).toThrow(/pool name must not be empty/);
    expect(() => bulkheadGroup({ a: { limit: 1 } }, { name: '' })).toThrow(
      'bulkheadGroup: option "name" must be a non-empty string (got "")',
    );
    expect(() => bulkheadGroup({ a: { limit: 1 } }, { clock: 3 as never })).toThrow(
      /bulkheadGroup: option "clock" must be/,
    );
    expect(() => bulkheadGroup({}, { defaults: { limit: -1 } })).toThrow(
      'bulkhead.defaults: option "limit" must be an integer >= 1 (got -1)',
    );
  });
});
