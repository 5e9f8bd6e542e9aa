import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { FeatureDegradedError } from '../core/errors.js';
import { telemetry } from '../telemetry.js';
import { VirtualClock } from '../testing/index.js';
import { featureManager } from './index.js';

describe('featureManager', () => {
  it('runs registered features under their flags and health, and unregistered names as they are', async () => {
    let up = true;
    const features = featureManager({ name: 'search' });
    const ranking = features.register('ranking', {
      healthy: () => up,
      fallback: () => 'simple',
    });
    features.register('spelling', { enabled: false });
    expect(features.get('ranking')).toBe(ranking);
    expect(features.get('nope')).toBeUndefined();
    expect(ranking.name).toBe('search.ranking');

    await expect(features.execute('ranking', () => 'ml')).resolves.toBe('ml');
    up = false;
    await expect(features.execute('ranking', () => 'ml')).resolves.toBe('simple');
    await expect(features.execute('spelling', () => 'fixed')).rejects.toBeInstanceOf(
      FeatureDegradedError,
    );
    await expect(features.execute('unknown', () => 'ran')).resolves.toBe('ran');
    await expect(
      features.execute('unknown', ({ key }) => `ran ${key}`, { key: 'k' }),
    ).resolves.toBe('ran k');
    expect(features.status()).toEqual({
      ranking: { mode: 'fallback', reason: 'unhealthy' },
      spelling: { mode: 'disabled', reason: 'disabled' },
    });
  });

  it('turns features on and off by name', async () => {
    const features = featureManager();
    features.register('ranking', { fallback: () => 'simple' });
    features.disable('ranking');
    await expect(features.execute('ranking', () => 'ml')).resolves.toBe('simple');
    expect(features.status().ranking).toEqual({ mode: 'disabled', reason: 'disabled' });
    features.enable('ranking');
    await expect(features.execute('ranking', () => 'ml')).resolves.toBe('ml');
    expect(() => features.enable('nope')).toThrow(
      new RangeError('features: no feature named "nope" is registered'),
    );
    expect(() => features.disable('nope')).toThrow(RangeError);
  });

  it('loads many flags at once', () => {
    const features = featureManager();
    for (const name of ['a', 'b', 'c']) features.register(name);
    features.load({ a: false, c: false });
    expect(features.status()).toEqual({
      a: { mode: 'disabled', reason: 'disabled' },
      b: { mode: 'primary', reason: 'healthy' },
      c: { mode: 'disabled', reason: 'disabled' },
    });
    features.load({ a: true, b: false });
    expect(Object.values(features.status()).map((s) => s.mode)).toEqual([
      'primary',
      'disabled',
      'disabled',
    ]);
  });

  it('refuses bad flags with a TypeError naming the flag, and then changes none', () => {
    const features = featureManager();
    features.register('a');
    features.register('b');
    expect(() => features.load({ a: false, b: 'no' as unknown as boolean })).toThrow(
      new TypeError('features: load() flag "b" must be a boolean (got "no")'),
    );
    expect(() => features.load({ a: false, typo: true })).toThrow(
      new TypeError('features: load() flag "typo" names no registered feature'),
    );
    expect(features.status().a?.mode).toBe('primary');
    expect(() => features.load(null as never)).toThrow(
      'features: load() needs an object of feature name to boolean (got null)',
    );
    expect(() => features.load([] as never)).toThrow(TypeError);
  });

  it('applies a load all or nothing, like a reference model', () => {
    const names = ['a', 'b', 'c', 'd'];
    const flagValue = fc.oneof(
      { weight: 4, arbitrary: fc.boolean() },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(0, 'true', null, undefined) },
    );
    const flags = fc.dictionary(fc.constantFrom(...names, 'zz'), flagValue, { maxKeys: 5 });
    fc.assert(
      fc.property(fc.array(flags, { maxLength: 6 }), (loads) => {
        const features = featureManager();
        for (const name of names) features.register(name);
        const model = new Map(names.map((name) => [name, true]));
        for (const load of loads) {
          const valid = Object.entries(load).every(
            ([name, value]) => model.has(name) && typeof value === 'boolean',
          );
          if (valid) {
            features.load(load as Record<string, boolean>);
            for (const [name, value] of Object.entries(load)) model.set(name, value as boolean);
          } else {
            expect(() => features.load(load as Record<string, boolean>)).toThrow(TypeError);
          }
          const status = features.status();
          for (const [name, on] of model) {
            expect(status[name]?.mode).toBe(on ? 'primary' : 'disabled');
          }
        }
      }),
    );
  });

  it("gives every feature the manager's clock and emits their events on the bus", async () => {
    const clock = new VirtualClock();
    let up = false;
    const features = featureManager({ name: 'shop', clock });
    features.register('recommendations', {
      healthy: () => up,
      minDegradedMs: 1_000,
      fallback: () => [],
    });
    const seen: string[] = [];
    const stop = telemetry.subscribe((event) => {
      if (event.kind !== 'feature') return;
      if (event.type === 'modeChange') {
        seen.push(
          `${event.policy} ${event.detail.from}->${event.detail.to} ${event.detail.reason}`,
        );
      } else seen.push(`${event.policy} degraded ${event.detail.key} ${event.detail.reason}`);
    });
    try {
      await features.execute('recommendations', () => ['ml'], { key: 'u1' });
      up = true;
      await clock.advance(999);
      await features.execute('recommendations', () => ['ml'], { key: 'u2' });
      await clock.advance(1);
      await expect(features.execute('recommendations', () => ['ml'])).resolves.toEqual(['ml']);
    } finally {
      stop();
    }
    expect(seen).toEqual([
      'shop.recommendations primary->fallback unhealthy',
      'shop.recommendations degraded u1 unhealthy',
      'shop.recommendations degraded u2 recovering',
      'shop.recommendations fallback->primary healthy',
    ]);
  });

  it('types execute by the primary, and register by the fallback', () => {
    const features = featureManager();
    const policy = features.register('ranking', { fallback: () => 0 });
    expectTypeOf(policy.execute(() => 'x')).toEqualTypeOf<Promise<string | number>>();
    expectTypeOf(features.execute('ranking', () => 'x')).toEqualTypeOf<Promise<string>>();
  });

  it('refuses bad names and options', () => {
    expect(() => featureManager({ name: '' })).toThrow(
      'featureManager: option "name" must be a non-empty string (got "")',
    );
    expect(() => featureManager({ clock: 5 as never })).toThrow('option "clock"');
    const features = featureManager();
    features.register('a');
    expect(() => features.register('a')).toThrow('features: feature "a" is already registered');
    expect(() => features.register('')).toThrow(
      'features: a feature name must be a non-empty string (got "")',
    );
    expect(() => features.register('b', { minDegradedMs: -5 })).toThrow(
      'features.b: option "minDegradedMs" must be a number of milliseconds >= 0 (got -5)',
    );
    expect(features.get('b')).toBeUndefined();
    let ran = false;
    const call = features.execute(7 as unknown as string, () => {
      ran = true;
    });
    return expect(call)
      .rejects.toThrow(new TypeError('features: execute() needs a feature name string (got 7)'))
      .then(() => expect(ran).toBe(false));
  });
});
