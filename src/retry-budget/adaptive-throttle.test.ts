import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  IsolatedCircuitError,
  LoadShedError,
  RateLimitedError,
  ThrottledError,
  TimeoutError,
} from '../core/errors.js';
import { telemetry } from '../telemetry.js';
import { VirtualClock } from '../testing/index.js';
import {
  type AdaptiveThrottleEvents,
  adaptiveThrottle,
  defaultAcceptedOn,
} from './adaptive-throttle.js';

const shed = (): Promise<never> =>
  Promise.reject(new LoadShedError('overloaded', 'capacity', 'critical'));

/** Runs `accepted` calls the backend accepts and `rejected` it refuses, ignoring refusals. */
async function feed(
  policy: ReturnType<typeof adaptiveThrottle>,
  accepted: number,
  rejected: number,
): Promise<void> {
  for (let i = 0; i < accepted; i++) await policy.execute(() => 'ok');
  for (let i = 0; i < rejected; i++) await policy.execute(shed).catch(() => undefined);
}

describe('adaptiveThrottle: the probability', () => {
  it('follows max(0, (requests - k * accepts) / (requests + 1)), drawn against random', async () => {
    const clock = new VirtualClock();
    let draw = 0.999;
    const draws: number[] = [];
    const policy = adaptiveThrottle({
      clock,
      random: () => {
        draws.push(draw);
        return draw;
      },
    });
    await feed(policy, 20, 40);
    // 60 requests, 20 accepts: 60 - 2 * 20 = 20 over; 20 / 61.
    expect(policy.stats()).toEqual({ requests: 60, accepts: 20, probability: 20 / 61 });
    await feed(policy, 0, 40);
    expect(policy.stats()).toEqual({ requests: 100, accepts: 20, probability: 60 / 101 });
    const seen: AdaptiveThrottleEvents['throttled'][] = [];
    policy.on('throttled', (e) => seen.push(e));
    draw = 0.5;
    let ran = false;
    const refused = policy.execute(
      () => {
        ran = true;
      },
      { key: 'eu' },
    );
    await expect(refused).rejects.toBeInstanceOf(ThrottledError);
    const error = (await refused.catch((e: unknown) => e)) as ThrottledError;
    expect(ran).toBe(false);
    expect(error.code).toBe('THROTTLED');
    expect(error.probability).toBe(60 / 101);
    expect(error.message).toBe(
      'adaptive-throttle refused the call locally: the backend has been refusing this client (probability 0.594)',
    );
    expect(seen).toEqual([{ key: 'eu', probability: 60 / 101 }]);
    // The refused call is a request too: 61 over of 102.
    expect(policy.stats()).toEqual({ requests: 101, accepts: 20, probability: 61 / 102 });
    draw = 0.6;
    await expect(policy.execute(() => 'through')).resolves.toBe('through');
    expect(policy.stats()).toEqual({ requests: 102, accepts: 21, probability: 60 / 103 });
  });

  it('uses k: 1.1 refuses once accepts fall below requests / 1.1', async () => {
    const policy = adaptiveThrottle({ clock: new VirtualClock(), k: 1.1, random: () => 0.999 });
    await feed(policy, 50, 5);
    expect(policy.stats().probability).toBe(0);
    await feed(policy, 0, 5);
    // 60 requests, 50 accepts: 60 - 55 = 5 over; 5 / 61.
    expect(policy.stats().probability).toBeCloseTo(5 / 61, 12);
  });

  it('draws no random number while nothing is over', async () => {
    let draws = 0;
    const policy = adaptiveThrottle({
      clock: new VirtualClock(),
      random: () => {
        draws++;
        return 0;
      },
    });
    await feed(policy, 100, 50);
    expect(draws).toBe(0);
    await feed(policy, 0, 1);
    // 151 requests, 100 accepts: 151 - 200 < 0.
    expect(draws).toBe(0);
  });

  it('throttles nothing until the window holds minRequests requests', async () => {
    const policy = adaptiveThrottle({ clock: new VirtualClock(), random: () => 0 });
    await feed(policy, 0, 10);
    // 10 rejections, each sent: the 10th found only 9 requests in the window.
    expect(policy.stats()).toEqual({ requests: 10, accepts: 0, probability: 10 / 11 });
    await expect(policy.execute(() => 'x')).rejects.toBeInstanceOf(ThrottledError);
    const eager = adaptiveThrottle({ clock: new VirtualClock(), minRequests: 0, random: () => 0 });
    await feed(eager, 0, 1);
    expect(eager.stats().probability).toBe(1 / 2);
    await expect(eager.execute(() => 'x')).rejects.toBeInstanceOf(ThrottledError);
  });
});

describe('adaptiveThrottle: the window', () => {
  it('forgets requests and accepts as they age out, bucket by bucket', async () => {
    const clock = new VirtualClock();
    const policy = adaptiveThrottle({ clock, windowMs: 1_000, buckets: 4, random: () => 0.999 });
    await feed(policy, 5, 0);
    await clock.advance(500);
    await feed(policy, 0, 30);
    expect(policy.stats()).toEqual({ requests: 35, accepts: 5, probability: 25 / 36 });
    // The first bucket ([0, 250)) leaves at 1000 with its 5 accepts.
    await clock.advance(499);
    expect(policy.stats().accepts).toBe(5);
    await clock.advance(1);
    expect(policy.stats()).toEqual({ requests: 30, accepts: 0, probability: 30 / 31 });
    await clock.advance(500);
    expect(policy.stats()).toEqual({ requests: 0, accepts: 0, probability: 0 });
  });

  it('counts an accept that settles later in the newest bucket, not its start bucket', async () => {
    const clock = new VirtualClock();
    const policy = adaptiveThrottle({ clock, windowMs: 1_000, buckets: 4, random: () => 0.999 });
    let finish = (): void => {};
    const slow = policy.execute(
      () => new Promise<string>((resolve) => (finish = () => resolve('late'))),
    );
    await clock.advance(600);
    await policy.execute(() => 'quick');
    finish();
    await slow;
    expect(policy.stats()).toMatchObject({ requests: 2, accepts: 2 });
    // At 1000 the slow call's request leaves; its accept, counted at 600, stays until 1500.
    await clock.advance(400);
    expect(policy.stats()).toEqual({ requests: 1, accepts: 2, probability: 0 });
    await clock.advance(500);
    expect(policy.stats()).toEqual({ requests: 0, accepts: 0, probability: 0 });
  });
});

describe('adaptiveThrottle: what counts as accepted', () => {
  it.each([
    ['a result', { ok: true, value: { status: 503 } }, true],
    ['an ordinary error (a 404)', { ok: false, error: new Error('HTTP 404') }, true],
    ['a non-Error rejection', { ok: false, error: 'nope' }, true],
    ['a TimeoutError', { ok: false, error: new TimeoutError(100) }, true],
    ['a BrokenCircuitError', { ok: false, error: new BrokenCircuitError() }, true],
    ['an IsolatedCircuitError', { ok: false, error: new IsolatedCircuitError() }, true],
    ['a LoadShedError', { ok: false, error: new LoadShedError('x', 'codel', 'sheddable') }, false],
    ['a RateLimitedError', { ok: false, error: new RateLimitedError('x', 10, 5, 0, 'k') }, false],
    ['a BulkheadRejectedError', { ok: false, error: new BulkheadRejectedError('x', 2, 0) }, false],
    ['a ThrottledError', { ok: false, error: new ThrottledError('x', 0.5) }, false],
  ] as const)('by default, %s: %s', (_, outcome, accepted) => {
    expect(defaultAcceptedOn(outcome)).toBe(accepted);
  });

  it('counts accepts the default way on the policy, for results and errors', async () => {
    const policy = adaptiveThrottle({ clock: new VirtualClock() });
    await policy.execute(() => 'ok');
    await policy.execute(() => Promise.reject(new Error('404'))).catch(() => undefined);
    await policy.execute(() => Promise.reject(new TimeoutError(5))).catch(() => undefined);
    await policy
      .execute(() => Promise.reject(new RateLimitedError('x', 1, 1, 0, undefined)))
      .catch(() => undefined);
    await policy.execute(shed).catch(() => undefined);
    expect(policy.stats()).toMatchObject({ requests: 5, accepts: 3 });
  });

  it('asks acceptedOn instead when given, and passes outcomes through untouched', async () => {
    const policy = adaptiveThrottle<{ status: number }>({
      clock: new VirtualClock(),
      acceptedOn: (o) => (o.ok ? o.value.status !== 503 : !(o.error instanceof TimeoutError)),
    });
    const busy = { status: 503 };
    await expect(policy.execute(() => busy)).resolves.toBe(busy);
    await policy.execute(() => ({ status: 200 }));
    const late = new TimeoutError(10);
    await expect(policy.execute(() => Promise.reject(late))).rejects.toBe(late);
    await policy.execute(shed).catch(() => undefined);
    expect(policy.stats()).toMatchObject({ requests: 4, accepts: 2 });
  });

  it('rejects with a TypeError carrying the error when acceptedOn returns a promise', async () => {
    const policy = adaptiveThrottle({
      clock: new VirtualClock(),
      acceptedOn: (() => Promise.resolve(true)) as never,
    });
    const failure = new Error('down');
    const error = await policy.execute(() => Promise.reject(failure)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(
      'adaptive-throttle: option "acceptedOn" returned a promise; it must decide synchronously and return a boolean',
    );
    expect((error as TypeError).cause).toBe(failure);
  });
});

describe('adaptiveThrottle: the rest of the contract', () => {
  it('refuses a call whose signal already aborted, with its reason, without counting it', async () => {
    const policy = adaptiveThrottle({ clock: new VirtualClock() });
    const controller = new AbortController();
    const reason = new Error('caller left');
    controller.abort(reason);
    await expect(policy.execute(() => 'x', { signal: controller.signal })).rejects.toBe(reason);
    expect(policy.stats().requests).toBe(0);
  });

  it('sends its events to the telemetry bus with kind adaptive-throttle', async () => {
    const policy = adaptiveThrottle({
      name: 'orders-throttle',
      clock: new VirtualClock(),
      minRequests: 0,
      random: () => 0,
    });
    await feed(policy, 0, 1);
    const bus: unknown[] = [];
    const unsubscribe = telemetry.subscribe((e) => {
      bus.push(e);
      if (e.kind === 'adaptive-throttle' && e.type === 'throttled') {
        expectTypeOf(e.detail).toEqualTypeOf<AdaptiveThrottleEvents['throttled']>();
      }
    });
    try {
      await policy.execute(() => 'x', { key: 'k1' }).catch(() => undefined);
    } finally {
      unsubscribe();
    }
    expect(bus).toEqual([
      {
        policy: 'orders-throttle',
        kind: 'adaptive-throttle',
        type: 'throttled',
        detail: { key: 'k1', probability: 0.5 },
      },
    ]);
  });

  it('has the documented defaults', () => {
    const policy = adaptiveThrottle();
    expect([policy.name, policy.k, policy.windowMs, policy.buckets, policy.minRequests]).toEqual([
      'adaptive-throttle',
      2,
      120_000,
      10,
      10,
    ]);
  });

  it.each([
    [{ k: 0.9 }, 'adaptive-throttle: option "k" must be a finite number >= 1 (got 0.9)'],
    [{ k: Infinity }, 'option "k" must be a finite number >= 1 (got Infinity)'],
    [{ windowMs: -1 }, 'option "windowMs" must be a finite number of milliseconds > 0 (got -1)'],
    [{ buckets: 0 }, 'option "buckets" must be an integer from 1 to 1000 (got 0)'],
    [{ minRequests: 1.5 }, 'option "minRequests" must be an integer >= 0 (got 1.5)'],
    [{ acceptedOn: true }, 'option "acceptedOn" must be a function (got true)'],
    [{ random: 0.5 }, 'option "random" must be a function (got 0.5)'],
    [{ name: '' }, 'adaptive-throttle: option "name" must be a non-empty string'],
    [{ clock: { now: 1 } }, 'option "clock" must be a Clock'],
  ])('refuses %j', (options, message) => {
    expect(() => adaptiveThrottle(options as never)).toThrow(TypeError);
    expect(() => adaptiveThrottle(options as never)).toThrow(message);
  });
});

/** A seeded source in [0, 1) (mulberry32), so a simulation runs the same way every time. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('adaptiveThrottle in front of an overloaded backend', () => {
  /**
   * 100 calls a second for `seconds`, to a backend that serves 10 a second (the first 10 it
   * sees in each second) and sheds the rest. Counts, per second after warm-up, what reaches
   * the backend and what it accepts.
   */
  async function overload(seconds: number, withThrottle: boolean) {
    const clock = new VirtualClock();
    const policy = adaptiveThrottle({ clock, windowMs: 10_000, random: seeded(42) });
    let reached = 0;
    let accepted = 0;
    let servedThisSecond = 0;
    let second = 0;
    const backend = (): Promise<string> => {
      const now = Math.floor(clock.now() / 1000);
      if (now !== second) {
        second = now;
        servedThisSecond = 0;
      }
      if (second >= 20) reached++;
      if (servedThisSecond >= 10) return shed();
      servedThisSecond++;
      if (second >= 20) accepted++;
      return Promise.resolve('ok');
    };
    for (let i = 0; i < seconds * 100; i++) {
      const call = withThrottle ? policy.execute(backend) : backend();
      await call.catch(() => undefined);
      await clock.advance(10);
    }
    return { reached, accepted };
  }

  it('lets through about k times what the backend accepts, after warm-up', async () => {
    const without = await overload(60, false);
    expect(without).toEqual({ reached: 4000, accepted: 400 });
    const { reached, accepted } = await overload(60, true);
    expect(accepted).toBe(400);
    // k = 2: the backend sees about twice what it accepts, instead of ten times.
    expect(reached / accepted).toBeGreaterThan(1.8);
    expect(reached / accepted).toBeLessThan(2.3);
  });

  it('lets almost nothing through to a backend that refuses everything', async () => {
    const clock = new VirtualClock();
    const policy = adaptiveThrottle({ clock, windowMs: 10_000, random: seeded(7) });
    let reached = 0;
    for (let i = 0; i < 3000; i++) {
      await policy
        .execute(() => {
          reached++;
          return shed();
        })
        .catch(() => undefined);
      await clock.advance(10);
    }
    // 30 s at 100 calls a second. The first 10 (minRequests) all go through; then the window
    // fills with requests and no accepts, p climbs to 1000 / 1001, and about one call in a
    // thousand gets through: some 17 of 3000 in all, where a retry-free client sends 3000.
    expect(reached).toBeGreaterThanOrEqual(10);
    expect(reached).toBeLessThan(30);
  });
});
