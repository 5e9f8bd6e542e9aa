import { metrics, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { sdk } from '../../../test/otel/sdk-harness.js';
import { VirtualClock } from '../../testing/index.js';
import { openTelemetry } from './open-telemetry.js';
import { parseOptions } from './options.js';

describe('openTelemetry options', () => {
  const stops: (() => void)[] = [];
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });

  it.each([
    [42, 'openTelemetry: options must be an object (got 42)'],
    [
      { meterProvider: {} },
      'option "meterProvider" must be an object with a getMeter() method (got {})',
    ],
    [
      { tracerProvider: 'x' },
      'option "tracerProvider" must be an object with a getTracer() method (got "x")',
    ],
    [{ metrics: 'yes' }, 'option "metrics" must be a boolean (got "yes")'],
    [{ tracing: 1 }, 'option "tracing" must be a boolean (got 1)'],
    [
      { attributes: [] },
      'option "attributes" must be an object of string, number or boolean values (got [])',
    ],
    [
      { attributes: { 'service.name': null } },
      'option "attributes" must be an object of string, number or boolean values (got null for "service.name")',
    ],
    [
      { durationBuckets: [1, 1] },
      'option "durationBuckets" must be a non-empty array of increasing finite numbers (got [1,1])',
    ],
    [
      { recoveryBuckets: [] },
      'option "recoveryBuckets" must be a non-empty array of increasing finite numbers (got [])',
    ],
    [{ clock: {} }, 'option "clock" must be a Clock'],
  ])('refuses %j with a TypeError naming the option', (options, message) => {
    expect(() => openTelemetry(options as never)).toThrow(TypeError);
    expect(() => openTelemetry(options as never)).toThrow(message);
  });

  it('defaults to the global providers, both signals and the standard buckets', () => {
    const settings = parseOptions(undefined);
    expect(settings.meterProvider).toBe(metrics.getMeterProvider());
    expect(settings.tracerProvider).toBe(trace.getTracerProvider());
    expect(settings.durationBuckets).toHaveLength(14);
    expect(settings.attributes).toEqual({});
  });

  it('leaves out a signal turned off, and copies what it keeps', () => {
    const buckets = [0.1, 1];
    const clock = new VirtualClock();
    const settings = parseOptions({ metrics: false, durationBuckets: buckets, clock });
    expect(settings.meterProvider).toBeUndefined();
    expect(settings.durationBuckets).toEqual(buckets);
    expect(settings.durationBuckets).not.toBe(buckets);
    expect(settings.clock).toBe(clock);
  });

  it('leaves nothing attached when the meter provider throws', () => {
    const otel = sdk();
    const broken = {
      getMeter: () => {
        throw new Error('no meter today');
      },
    };
    expect(() =>
      openTelemetry({ meterProvider: broken, tracerProvider: otel.tracerProvider }),
    ).toThrow('no meter today');
    stops.push(openTelemetry({ tracerProvider: otel.tracerProvider, metrics: false }));
  });

  it('takes one tracing adapter at a time; one without tracing may join', () => {
    const otel = sdk();
    stops.push(openTelemetry({ tracerProvider: otel.tracerProvider, metrics: false }));
    expect(() => openTelemetry({ tracerProvider: otel.tracerProvider })).toThrow(
      'tracing is already attached',
    );
    stops.push(openTelemetry({ meterProvider: otel.meterProvider, tracing: false }));
  });
});
