import { describe, expect, it } from 'vitest';
import { ExecutionRejectedError, RateLimitedError } from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
import { retry } from '../retry/index.js';
import { telemetry } from '../telemetry.js';
import { VirtualClock } from '../testing/index.js';
import { type MemoryRateLimitStore, type RateLimiterEvents, rateLimiter } from './index.js';

const ok = (): string => 'ok';

/** Runs one call and says how it ended: 'ok', or the refusal's retryAfterMs. */
async function attempt(
  policy: ReturnType<typeof rateLimiter>,
  key?: string,
): Promise<'ok' | number> {
  try {
    await policy.execute(ok, { key });
    return 'ok';
  } catch (error) {
    if (error instanceof RateLimitedError) return error.retryAfterMs;
    throw error;
  }
}

describe('rateLimiter options', () => {
  it('refuses bad options with a TypeError naming option, value and expectation', () => {
    expect(() => rateLimiter({ limit: -1 })).toThrow(
      'rate-limiter: option "limit" must be an integer >= 0 (got -1)',
    );
    expect(() => rateLimiter({ limit: 1.5 })).toThrow('option "limit"');
    expect(() => rateLimiter({ limit: 5, intervalMs: 0 })).toThrow(
      'rate-limiter: option "intervalMs" must be a finite number of milliseconds > 0 (got 0)',
    );
    expect(() => rateLimiter({ limit: 5, intervalMs: Infinity })).toThrow('option "intervalMs"');
    expect(() => rateLimiter({ limit: 5, burst: 0 })).toThrow('option "burst"');
    expect(() => rateLimiter({ limit: 5, algorithm: 'leaky' as 'gcra' })).toThrow(
      `option "algorithm" must be one of 'gcra', 'token-bucket', 'sliding-window', 'fixed-window' (got "leaky")`,
    );
    expect(() => rateLimiter({ limit: 5, mode: 'queue' as 'wait' })).toThrow('option "mode"');
    expect(() => rateLimiter({ limit: 5, maxWaitMs: -1 })).toThrow('option "maxWaitMs"');
    expect(() => rateLimiter({ limit: 5, cost: Number.NaN })).toThrow('option "cost"');
    expect(() => rateLimiter({ limit: 5, burst: 3, cost: 4, name: 'api' })).toThrow(
      'api: option "cost" must be at most burst (3), or no call could ever run (got 4)',
    );
    expect(() => rateLimiter({ limit: 5, maxKeys: 0 })).toThrow('option "maxKeys"');
    expect(() => rateLimiter({ limit: 5, store: {} as never })).toThrow('option "store"');
    expect(() =>
      rateLimiter({ limit: 5, maxKeys: 10, store: { decide: () => ({}) as never } }),
    ).toThrow('option "maxKeys" must be unset when a store is given');
    expect(() => rateLimiter({ limit: 5, onStoreError: 'ignore' as 'allow' })).toThrow(
      'option "onStoreError"',
    );
    expect(() => rateLimiter(7 as never)).toThrow('rateLimiter: options must be an object');
  });

  it('has the documented defaults', () => {
    const policy = rateLimiter({ limit: 10 });
    expect(policy).toMatchObject({
      name: 'rate-limiter',
      limit: 10,
      intervalMs: 1000,
      burst: 10,
      algorithm: 'gcra',
      mode: 'reject',
      maxWaitMs: 1000,
      storeTimeoutMs: 1000,
      onStoreError: 'allow',
    });
    expect((policy.store as MemoryRateLimitStore).maxKeys).toBe(100_000);
  });
});

describe('rateLimiter, reject mode', () => {
  it('admits a burst at once, then one call per emission interval (GCRA)', async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const policy = rateLimiter({ limit: 4, intervalMs: 1000, burst: 2, clock });
    expect(await attempt(policy)).toBe('ok');
    expect(await attempt(policy)).toBe('ok');
    expect(await attempt(policy)).toBe(250);
    await clock.advance(249);
    expect(await attempt(policy)).toBe(1);
    await clock.advance(1);
    expect(await attempt(policy)).toBe('ok');
    expect(await attempt(policy)).toBe(250);
  });

  it('refuses with RateLimitedError carrying retryAfterMs, limit, remaining and key', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 2, intervalMs: 1000, clock, name: 'api' });
    await policy.execute(ok, { key: 'tenant-a' });
    await policy.execute(ok, { key: 'tenant-a' });
    const error = await policy.execute(ok, { key: 'tenant-a' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toBeInstanceOf(ExecutionRejectedError);
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: 500,
      limit: 2,
      remaining: 0,
      key: 'tenant-a',
      retryable: true,
    });
    expect((error as Error).message).toBe(
      'api is rate limited for key "tenant-a": 2 per 1000 ms; retry in 500 ms',
    );
  });

  it('keeps one bucket per key; calls without a key share one', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 1, intervalMs: 1000, clock });
    expect(await attempt(policy, 'a')).toBe('ok');
    expect(await attempt(policy, 'a')).toBe(1000);
    expect(await attempt(policy, 'b')).toBe('ok');
    expect(await attempt(policy)).toBe('ok');
    expect(await attempt(policy)).toBe(1000);
    expect(await attempt(policy, 'c')).toBe('ok');
  });

  it('refuses everything with a finite retryAfterMs when limit is 0', async () => {
    const clock = new VirtualClock();
    const seen: RateLimiterEvents['limited'][] = [];
    const policy = rateLimiter({ limit: 0, intervalMs: 60_000, clock });
    policy.on('limited', (event) => seen.push(event));
    let ran = false;
    const error = await policy
      .execute(() => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(error).toMatchObject({ retryAfterMs: 60_000, remaining: 0, limit: 0 });
    expect(seen).toEqual([{ key: undefined, retryAfterMs: 60_000 }]);
    await expect(policy.consume({ key: 'x', cost: 5 })).resolves.toEqual({
      allowed: false,
      remaining: 0,
      retryAfterMs: 60_000,
      resetAfterMs: 0,
      limit: 0,
    });
  });

  it('charges what `cost` says, and refuses a cost function answering garbage', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({
      limit: 10,
      intervalMs: 1000,
      clock,
      name: 'upload',
      cost: (ctx) => (ctx.data as { units: unknown }).units as number,
    });
    await expect(policy.execute(ok, { data: { units: 6 } })).resolves.toBe('ok');
    await expect(policy.execute(ok, { data: { units: 5 } })).rejects.toMatchObject({
      retryAfterMs: 100,
      remaining: 4,
    });
    await expect(policy.execute(ok, { data: { units: 4 } })).resolves.toBe('ok');
    for (const units of [Number.NaN, -1, '3', undefined, Infinity]) {
      const error = await policy.execute(ok, { data: { units } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(
        /^upload: option "cost" returned .*; it must be a finite number >= 0$/,
      );
    }
    await expect(policy.execute(ok, { data: { units: 11 } })).rejects.toThrow(
      'upload: option "cost" returned 11; it must be at most burst (10), or the call could never run',
    );
  });

  it('tells a retry outside it how long to wait', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimiter({ limit: 1, intervalMs: 300, clock });
    const policy = pipeline(retry({ maxAttempts: 2, clock }), limiter);
    await policy.execute(ok);
    const second = policy.execute(() => clock.now());
    await clock.advance(300);
    await expect(second).resolves.toBe(300);
  });

  it('runs nothing for a caller that already aborted', async () => {
    const policy = rateLimiter({ limit: 1, clock: new VirtualClock() });
    const reason = new Error('gone');
    await expect(policy.execute(ok, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(policy.consume()).resolves.toMatchObject({ allowed: true });
  });
});

describe('consume and peek', () => {
  it('decide for the caller, GCRA numbers as redis-cell reports them', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 10, intervalMs: 1000, burst: 3, clock });
    await expect(policy.peek({ key: 'k' })).resolves.toEqual({
      allowed: true,
      remaining: 2,
      retryAfterMs: 0,
      resetAfterMs: 100,
      limit: 10,
    });
    await expect(policy.consume({ key: 'k', cost: 2 })).resolves.toEqual({
      allowed: true,
      remaining: 1,
      retryAfterMs: 0,
      resetAfterMs: 200,
      limit: 10,
    });
    await expect(policy.peek({ key: 'k', cost: 2 })).resolves.toMatchObject({
      allowed: false,
      remaining: 1,
      retryAfterMs: 100,
    });
    // Peeking took nothing.
    await expect(policy.consume({ key: 'k' })).resolves.toMatchObject({
      allowed: true,
      remaining: 0,
      resetAfterMs: 300,
    });
    await expect(policy.consume({ key: 'k' })).resolves.toMatchObject({
      allowed: false,
      retryAfterMs: 100,
      resetAfterMs: 300,
    });
  });

  it('emit limited for a refused consume, never for a peek', async () => {
    const policy = rateLimiter({ limit: 1, clock: new VirtualClock() });
    const seen: unknown[] = [];
    policy.on('limited', (event) => seen.push(event));
    await policy.consume({ key: 'a' });
    await policy.peek({ key: 'a' });
    await policy.consume({ key: 'a' });
    expect(seen).toEqual([{ key: 'a', retryAfterMs: 1000 }]);
  });

  it('reject bad requests with a TypeError', async () => {
    const policy = rateLimiter({ limit: 2, name: 'mw', clock: new VirtualClock() });
    await expect(policy.consume({ key: 3 as never })).rejects.toThrow(
      'mw: consume() option "key" must be a string (got 3)',
    );
    await expect(policy.consume({ cost: 3 })).rejects.toThrow(
      'mw: consume() got a cost of 3; it must be at most burst (2), or the call could never run',
    );
    await expect(policy.peek({ cost: -1 })).rejects.toThrow(
      'mw: peek() got a cost of -1; it must be a finite number >= 0',
    );
    await expect(policy.consume(null as never)).rejects.toThrow(TypeError);
  });
});

describe('telemetry', () => {
  it('reaches the bus as kind rate-limiter, typed', async () => {
    const policy = rateLimiter({ limit: 1, name: 'quota', clock: new VirtualClock() });
    const seen: string[] = [];
    const stop = telemetry.subscribe((event) => {
      if (event.kind === 'rate-limiter' && event.type === 'limited') {
        seen.push(`${event.policy} ${event.detail.key} ${event.detail.retryAfterMs}`);
      }
    });
    try {
      await policy.execute(ok, { key: 'k' });
      await policy.execute(ok, { key: 'k' }).catch(() => {});
    } finally {
      stop();
    }
    expect(seen).toEqual(['quota k 1000']);
  });
});

describe('keys kept', () => {
  it('evicts the least recently used bucket past maxKeys, saying so', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 1, intervalMs: 1000, maxKeys: 2, clock });
    const evicted: string[] = [];
    policy.on('evicted', ({ key }) => evicted.push(key));
    await attempt(policy, 'a');
    await attempt(policy, 'b');
    await attempt(policy, 'a'); // refused, but a use: b is now the least recent
    await attempt(policy, 'c');
    expect(evicted).toEqual(['b']);
    expect((policy.store as MemoryRateLimitStore).size).toBe(2);
    // a was kept: still limited. b starts afresh.
    expect(await attempt(policy, 'a')).toBeTypeOf('number');
    expect(await attempt(policy, 'b')).toBe('ok');
    expect(evicted).toEqual(['b', 'c']);
  });

  it('drops refilled buckets silently: they are the same as fresh ones', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 1, intervalMs: 1000, maxKeys: 2, clock });
    const evicted: string[] = [];
    policy.on('evicted', ({ key }) => evicted.push(key));
    await attempt(policy, 'a');
    await attempt(policy, 'b');
    await clock.advance(1000);
    for (const key of ['c', 'd', 'e', 'f']) expect(await attempt(policy, key)).toBe('ok');
    // c and d were not refilled when e and f came.
    expect(evicted).toEqual(['c', 'd']);
    expect((policy.store as MemoryRateLimitStore).size).toBe(2);
  });

  it('drops buckets refilled an interval ago as new keys come, keeping recent ones', async () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 10, intervalMs: 1000, clock });
    const store = policy.store as MemoryRateLimitStore;
    const evicted: string[] = [];
    policy.on('evicted', ({ key }) => evicted.push(key));
    await policy.consume({ key: 'a' });
    await policy.consume({ key: 'b' });
    await clock.advance(500);
    await policy.consume({ key: 'c' });
    // a and b refilled at 100 ms, but a key that comes back within an interval keeps its bucket.
    expect(store.size).toBe(3);
    await clock.advance(1500);
    await policy.consume({ key: 'd' });
    expect(store.size).toBe(2);
    expect(evicted).toEqual([]);
  });

  it('holds a million tenants within maxKeys', () => {
    const clock = new VirtualClock();
    const policy = rateLimiter({ limit: 5, intervalMs: 1000, maxKeys: 1000, clock });
    let evictions = 0;
    policy.on('evicted', () => evictions++);
    let admitted = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const decision = policy.store.decide(policy.rule, `tenant-${i}`, 1, i / 1000, true, 0);
      if ((decision as { allowed: boolean }).allowed) admitted++;
    }
    expect(admitted).toBe(1_000_000);
    expect((policy.store as MemoryRateLimitStore).size).toBe(1000);
    // A bucket refills 200 ms after its one call; 1000 calls arrive per ms: none is refilled.
    expect(evictions).toBe(999_000);
  });
});
