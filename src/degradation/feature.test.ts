import { getEventListeners } from 'node:events';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { circuitBreaker } from '../circuit-breaker/index.js';
import {
  BrokenCircuitError,
  ExecutionRejectedError,
  FeatureDegradedError,
} from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
import { VirtualClock } from '../testing/index.js';
import { type FeatureEvents, feature } from './index.js';

const fail = (): Promise<never> => Promise.reject(new Error('ranking down'));

/** Records a feature's events as plain lines. */
function record(policy: ReturnType<typeof feature<string>>): string[] {
  const lines: string[] = [];
  policy.on('modeChange', ({ from, to, reason }) => lines.push(`${from}->${to} ${reason}`));
  policy.on('degraded', ({ key, reason }) => lines.push(`degraded ${key} ${reason}`));
  return lines;
}

describe('feature', () => {
  it('runs the primary while enabled and healthy, without calling the fallback', async () => {
    let fallbacks = 0;
    const ranking = feature({
      fallback: () => {
        fallbacks++;
        return 'simple';
      },
      healthy: () => true,
    });
    await expect(ranking.execute(() => 'ml')).resolves.toBe('ml');
    expect(fallbacks).toBe(0);
    expect(ranking.status()).toEqual({ mode: 'primary', reason: 'healthy' });
  });

  it('answers with the fallback while disabled, and the primary again once enabled', async () => {
    let primaries = 0;
    const ranking = feature({ name: 'ranking', enabled: false, fallback: () => 'simple' });
    const lines = record(ranking);
    const primary = () => {
      primaries++;
      return 'ml';
    };
    await expect(ranking.execute(primary, { key: 'q1' })).resolves.toBe('simple');
    expect(primaries).toBe(0);
    expect(ranking.status()).toEqual({ mode: 'disabled', reason: 'disabled' });
    ranking.enable();
    expect(ranking.enabled).toBe(true);
    await expect(ranking.execute(primary)).resolves.toBe('ml');
    ranking.disable();
    await expect(ranking.execute(primary, { key: 'q2' })).resolves.toBe('simple');
    expect(primaries).toBe(1);
    expect(lines).toEqual([
      'degraded q1 disabled',
      'disabled->primary healthy',
      'primary->disabled disabled',
      'degraded q2 disabled',
    ]);
  });

  it('answers with the fallback while healthy() says false, and passes it the reason', async () => {
    let up = false;
    const seen: unknown[] = [];
    const ranking = feature({
      healthy: () => up,
      fallback: (ctx, reason, error) => {
        seen.push(ctx.key, reason, error);
        return 'simple';
      },
    });
    const lines = record(ranking);
    await expect(ranking.execute(() => 'ml', { key: 'q' })).resolves.toBe('simple');
    expect(seen).toEqual(['q', 'unhealthy', undefined]);
    up = true;
    await expect(ranking.execute(() => 'ml')).resolves.toBe('ml');
    expect(lines).toEqual([
      'primary->fallback unhealthy',
      'degraded q unhealthy',
      'fallback->primary healthy',
    ]);
  });

  it('counts a throwing or promise-returning health check as unhealthy and reports it', async () => {
    const boom = new Error('health endpoint unreachable');
    let check: () => boolean = () => {
      throw boom;
    };
    const ranking = feature({ healthy: () => check(), fallback: (_ctx, _reason, e) => e });
    const changes: FeatureEvents['modeChange'][] = [];
    const degraded: FeatureEvents['degraded'][] = [];
    ranking.on('modeChange', (event) => changes.push(event));
    ranking.on('degraded', (event) => degraded.push(event));
    await expect(ranking.execute(() => 'ml')).resolves.toBe(boom);
    expect(changes).toEqual([
      { from: 'primary', to: 'fallback', reason: 'health-check-error', error: boom },
    ]);
    expect(degraded).toEqual([{ key: undefined, reason: 'health-check-error', error: boom }]);
    check = (async () => true) as unknown as () => boolean;
    const answer = await ranking.execute(() => 'ml');
    expect(answer).toBeInstanceOf(TypeError);
    expect((answer as TypeError).message).toContain('option "healthy" returned a promise');
    expect(ranking.status().reason).toBe('health-check-error');
  });

  it('answers with the fallback while its breaker is open or isolated, and lets the probe through', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      clock,
      consecutiveFailures: 2,
      breakDurationMs: 1_000,
    });
    const ranking = feature({ breaker, fallback: (_ctx, reason) => `simple (${reason})` });
    const guarded = pipeline(ranking, breaker);
    const lines = record(ranking);
    // Failures inside the feature reach the breaker before the fallback answers.
    await expect(guarded.execute(fail)).resolves.toBe('simple (primary-failed)');
    await expect(guarded.execute(fail)).resolves.toBe('simple (primary-failed)');
    expect(breaker.state).toBe('open');
    let primaries = 0;
    const primary = () => {
      primaries++;
      return 'ml';
    };
    await expect(guarded.execute(primary)).resolves.toBe('simple (breaker-open)');
    expect(primaries).toBe(0);
    await clock.advance(1_000);
    // The break is over: the call goes to the breaker, which turns half-open and probes.
    await expect(guarded.execute(primary)).resolves.toBe('ml');
    expect(breaker.state).toBe('closed');
    const release = breaker.isolate();
    await expect(guarded.execute(primary)).resolves.toBe('simple (breaker-isolated)');
    release();
    await expect(guarded.execute(primary)).resolves.toBe('ml');
    expect(primaries).toBe(2);
    expect(lines).toEqual([
      'degraded undefined primary-failed',
      'degraded undefined primary-failed',
      'primary->fallback breaker-open',
      'degraded undefined breaker-open',
      'fallback->primary healthy',
      'primary->fallback breaker-isolated',
      'degraded undefined breaker-isolated',
      'fallback->primary healthy',
    ]);
  });

  it('ignores a breaker that does not enforce', async () => {
    const ranking = feature({
      breaker: { state: 'open', mode: 'metrics-only', retryAfterMs: 500 },
      fallback: () => 'simple',
    });
    await expect(ranking.execute(() => 'ml')).resolves.toBe('ml');
    const plain = feature({ breaker: { state: 'open' }, fallback: () => 'simple' });
    await expect(plain.execute(() => 'ml')).resolves.toBe('simple');
  });

  it("answers a primary's failure with the fallback, and rethrows it with no fallback", async () => {
    const error = new Error('ranking down');
    const seen: unknown[] = [];
    const ranking = feature({
      fallback: (_ctx, reason, e) => {
        seen.push(reason, e);
        return 'simple';
      },
    });
    await expect(ranking.execute(() => Promise.reject(error))).resolves.toBe('simple');
    expect(seen).toEqual(['primary-failed', error]);
    // A failed call does not change the mode: health and the breaker do.
    expect(ranking.status()).toEqual({ mode: 'primary', reason: 'healthy' });
    const bare = feature({});
    await expect(bare.execute(() => Promise.reject(error))).rejects.toBe(error);
  });

  it('rejects with FeatureDegradedError when degraded with no fallback', async () => {
    const ranking = feature({ name: 'ranking', healthy: () => false });
    let ran = false;
    const result = ranking.execute(() => {
      ran = true;
    });
    await expect(result).rejects.toBeInstanceOf(FeatureDegradedError);
    await expect(result).rejects.toBeInstanceOf(ExecutionRejectedError);
    await expect(result).rejects.toMatchObject({
      code: 'FEATURE_DEGRADED',
      feature: 'ranking',
      reason: 'unhealthy',
      message: 'ranking: the feature is degraded (unhealthy) and has no fallback',
    });
    expect(ran).toBe(false);
    const off = feature({ enabled: false });
    await expect(off.execute(() => 1)).rejects.toMatchObject({ reason: 'disabled' });
  });

  it('passes on what a fallback throws or rejects with', async () => {
    const error = new Error('no cache either');
    const throwing = feature({
      enabled: false,
      fallback: () => {
        throw error;
      },
    });
    await expect(throwing.execute(() => 1)).rejects.toBe(error);
    const rejecting = feature({ enabled: false, fallback: () => Promise.reject(error) });
    await expect(rejecting.execute(() => 1)).rejects.toBe(error);
  });

  it('stays degraded for minDegradedMs before running the primary again', async () => {
    const clock = new VirtualClock();
    let up = false;
    const ranking = feature({
      clock,
      minDegradedMs: 5_000,
      healthy: () => up,
      fallback: (_ctx, reason) => `simple (${reason})`,
    });
    const lines = record(ranking);
    const primary = () => 'ml';
    await expect(ranking.execute(primary)).resolves.toBe('simple (unhealthy)');
    await clock.advance(1_000);
    up = true;
    await expect(ranking.execute(primary)).resolves.toBe('simple (recovering)');
    expect(ranking.status()).toEqual({ mode: 'fallback', reason: 'recovering' });
    await clock.advance(2_000);
    // Still inside the hold: flapping health does not restart or end it.
    up = false;
    await expect(ranking.execute(primary)).resolves.toBe('simple (unhealthy)');
    up = true;
    await clock.advance(1_999);
    await expect(ranking.execute(primary)).resolves.toBe('simple (recovering)');
    await clock.advance(1);
    await expect(ranking.execute(primary)).resolves.toBe('ml');
    // Degrading again starts a new hold.
    up = false;
    await expect(ranking.execute(primary)).resolves.toBe('simple (unhealthy)');
    up = true;
    await clock.advance(4_999);
    await expect(ranking.execute(primary)).resolves.toBe('simple (recovering)');
    await clock.advance(1);
    await expect(ranking.execute(primary)).resolves.toBe('ml');
    expect(lines.filter((line) => !line.startsWith('degraded'))).toEqual([
      'primary->fallback unhealthy',
      'fallback->primary healthy',
      'primary->fallback unhealthy',
      'fallback->primary healthy',
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not hold a feature that was disabled by hand once it is enabled', async () => {
    const clock = new VirtualClock();
    const ranking = feature({ clock, minDegradedMs: 5_000, fallback: () => 'simple' });
    ranking.disable();
    ranking.enable();
    await expect(ranking.execute(() => 'ml')).resolves.toBe('ml');
  });

  it("passes a caller's abort through without making a fallback, and leaves no listener", async () => {
    let fallbacks = 0;
    const ranking = feature({
      fallback: () => {
        fallbacks++;
        return 'simple';
      },
    });
    const degraded: unknown[] = [];
    ranking.on('degraded', (event) => degraded.push(event));
    const controller = new AbortController();
    const call = ranking.execute(
      ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(new Error('socket closed')), {
            once: true,
          });
        }),
      { signal: controller.signal },
    );
    const reason = new Error('client went away');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(fallbacks).toBe(0);
    expect(degraded).toEqual([]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // An already-aborted call runs neither the primary nor the fallback.
    const off = feature({ enabled: false, fallback: () => 'simple' });
    await expect(off.execute(() => 'ml', { signal: controller.signal })).rejects.toBe(reason);
  });

  it('reads no clock and calls nothing extra on the healthy path', async () => {
    const clock = new VirtualClock();
    let reads = 0;
    const counting = {
      now: () => {
        reads++;
        return clock.now();
      },
      setTimeout: clock.setTimeout.bind(clock),
      clearTimeout: clock.clearTimeout.bind(clock),
    };
    const ranking = feature({ clock: counting, minDegradedMs: 1_000, healthy: () => true });
    for (let i = 0; i < 5; i++) await ranking.execute(() => i);
    expect(reads).toBe(0);
  });

  it('adds the fallback type to the result type', () => {
    const withFallback = feature({ fallback: () => 'simple' });
    expectTypeOf(withFallback.execute(() => 42)).toEqualTypeOf<Promise<number | string>>();
    const without = feature({ healthy: () => true });
    expectTypeOf(without.execute(() => 42)).toEqualTypeOf<Promise<number>>();
    const both = pipeline(withFallback, circuitBreaker({ consecutiveFailures: 5 }));
    expectTypeOf(both.execute(() => 42)).toEqualTypeOf<Promise<number | string>>();
  });

  it('refuses bad options with a TypeError naming the option', () => {
    expect(() => feature({ enabled: 'yes' as unknown as boolean })).toThrow(
      'feature: option "enabled" must be a boolean (got "yes")',
    );
    expect(() => feature({ fallback: 'simple' as never })).toThrow(
      'feature: option "fallback" must be a function (got "simple")',
    );
    expect(() => feature({ name: 'r', healthy: true as never })).toThrow(
      'r: option "healthy" must be a function (got true)',
    );
    expect(() => feature({ breaker: {} as never })).toThrow(
      'feature: option "breaker" must be a circuit breaker (an object with a string state) (got {})',
    );
    expect(() => feature({ minDegradedMs: -1 })).toThrow(
      'feature: option "minDegradedMs" must be a number of milliseconds >= 0 (got -1)',
    );
    expect(() => feature({ clock: {} as never })).toThrow('option "clock"');
    expect(() => feature(7 as never)).toThrow('feature: options must be an object (got 7)');
  });

  it("answers a half-open breaker's refusal inside it like a primary failure", async () => {
    // A half-open breaker whose probes are taken refuses inside the feature: the fallback answers.
    const ranking = feature({
      breaker: { state: 'half-open' },
      fallback: (_ctx, reason, error) => `${reason} ${(error as Error).name}`,
    });
    await expect(
      ranking.execute(() => Promise.reject(new BrokenCircuitError('probes taken'))),
    ).resolves.toBe('primary-failed BrokenCircuitError');
  });
});
