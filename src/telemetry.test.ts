import { describe, expect, expectTypeOf, it } from 'vitest';
import { bulkhead, type CircuitState, fallback, pipeline } from './index.js';
import { type PolicyTelemetryEvent, type TelemetryEvent, telemetry } from './telemetry.js';

describe('telemetry', () => {
  it('delivers a union a subscriber narrows by kind and type, without casts', async () => {
    const seen: string[] = [];
    const dispose = telemetry.subscribe((event) => {
      expectTypeOf(event).toEqualTypeOf<PolicyTelemetryEvent>();
      if (event.kind === 'fallback' && event.type === 'fallback') {
        expectTypeOf(event.detail.key).toEqualTypeOf<string | undefined>();
        seen.push(`${event.policy} ${event.type} ${event.detail.key}`);
      }
      if (event.kind === 'bulkhead' && event.type === 'rejected') {
        expectTypeOf(event.detail.reason).toEqualTypeOf<'full' | 'queueTimeout'>();
        seen.push(`${event.policy} ${event.detail.reason} ${event.detail.key}`);
      }
      if (event.kind === 'circuit-breaker' && event.type === 'stateChange') {
        expectTypeOf(event.detail.to).toEqualTypeOf<CircuitState>();
      }
    });
    try {
      const pool = bulkhead({ name: 'pool', limit: 1 });
      const policy = pipeline(fallback({ name: 'spare', value: 'spare' }), pool);
      let release = (): void => {};
      const running = pool.execute(() => new Promise<void>((resolve) => (release = resolve)));
      await expect(policy.execute(() => 'x', { key: 'tenant-7' })).resolves.toBe('spare');
      release();
      await running;
    } finally {
      dispose();
    }
    expect(seen).toEqual(['pool full tenant-7', 'spare fallback tenant-7']);
    expect(telemetry.active).toBe(false);
  });

  it('types execution events only for a subscriber that asks for them', () => {
    const dispose = telemetry.subscribe(
      (event) => {
        expectTypeOf(event).toEqualTypeOf<TelemetryEvent>();
        if (event.kind === 'pipeline')
          expectTypeOf(event.type).toEqualTypeOf<'execution' | 'attempt'>();
      },
      { executions: true },
    );
    dispose();
  });
});
