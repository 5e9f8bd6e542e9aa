import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { type RateLimitDecision, type RateLimiterPolicy, rateLimiter } from './index.js';

/** One step of a script: `advance` ms pass, then `key` asks for `cost` units. */
interface Step {
  readonly advance: number;
  readonly key: string;
  readonly cost?: number;
}

const script: readonly Step[] = [
  { advance: 0, key: 'a' },
  { advance: 0, key: 'a', cost: 2 },
  { advance: 0, key: 'a' },
  { advance: 0, key: 'b', cost: 3 },
  { advance: 50, key: 'a' },
  { advance: 100, key: 'a' },
  { advance: 0, key: 'b' },
  { advance: 400, key: 'b', cost: 2 },
  { advance: 0, key: 'c' },
  { advance: 1000, key: 'a', cost: 3 },
];

/** Runs the script, deciding each step with `decide`; returns the decisions and the events seen. */
async function play(
  limiter: RateLimiterPolicy,
  clock: VirtualClock,
  decide: (step: Step) => Promise<RateLimitDecision | undefined> | RateLimitDecision | undefined,
) {
  const events: unknown[] = [];
  limiter.on('limited', (event) => events.push(event));
  const decisions: (RateLimitDecision | undefined)[] = [];
  for (const step of script) {
    await clock.advance(step.advance);
    decisions.push(await decide(step));
  }
  return { decisions, events };
}

const options = { limit: 10, intervalMs: 1000, burst: 3, name: 'api' };

describe('consumeNow', () => {
  it('decides as consume does, and as a store answering with a promise does, with the same events', async () => {
    const nowClock = new VirtualClock();
    const now = rateLimiter({ ...options, clock: nowClock });
    const sync = await play(now, nowClock, (step) => now.consumeNow(step));

    const laterClock = new VirtualClock();
    const later = rateLimiter({ ...options, clock: laterClock });
    const promised = await play(later, laterClock, (step) => later.consume(step));

    // A store of the user's that answers with a promise, backed by a limiter of the same rule.
    const remoteClock = new VirtualClock();
    const backing = rateLimiter({ ...options, clock: remoteClock });
    const remote = rateLimiter({
      ...options,
      clock: remoteClock,
      store: {
        decide: (_rule, key, cost, _now, consume) =>
          consume ? backing.consume({ key, cost }) : backing.peek({ key, cost }),
      },
    });
    const stored = await play(remote, remoteClock, (step) => remote.consume(step));

    expect(sync.decisions.map((d) => d?.allowed)).toEqual([
      true,
      true,
      false,
      true,
      false,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(sync).toEqual(promised);
    expect(sync).toEqual(stored);
    expect(sync.events).toContainEqual({ key: 'a', retryAfterMs: 100 });
  });

  it('answers undefined for a store of the user’s, which only consume asks, taking nothing', async () => {
    let asked = 0;
    const limiter = rateLimiter({
      limit: 1,
      clock: new VirtualClock(),
      store: {
        decide: () => {
          asked++;
          return { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 0, limit: 1 };
        },
      },
    });
    expect(limiter.consumeNow({ key: 'a' })).toBeUndefined();
    expect(asked).toBe(0);
    await expect(limiter.consume({ key: 'a' })).resolves.toMatchObject({ allowed: true });
    expect(asked).toBe(1);
  });

  it('refuses everything at limit 0 without a store, saying so', () => {
    const limiter = rateLimiter({ limit: 0, intervalMs: 500, clock: new VirtualClock() });
    const events: unknown[] = [];
    limiter.on('limited', (event) => events.push(event));
    expect(limiter.consumeNow({ key: 'a' })).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterMs: 500,
      resetAfterMs: 0,
      limit: 0,
    });
    expect(events).toEqual([{ key: 'a', retryAfterMs: 500 }]);
  });

  it('throws the TypeError consume rejects with', async () => {
    const limiter = rateLimiter({ limit: 2, name: 'mw', clock: new VirtualClock() });
    for (const request of [{ key: 3 as never }, { cost: 3 }, null as never]) {
      const rejected = await limiter.consume(request).catch((error: unknown) => error);
      expect(rejected).toBeInstanceOf(TypeError);
      expect(() => limiter.consumeNow(request)).toThrow((rejected as Error).message);
    }
  });
});
