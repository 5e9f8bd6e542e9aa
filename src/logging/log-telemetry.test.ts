import { afterEach, describe, expect, it } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import { circuitBreaker } from '../circuit-breaker/index.js';
import { type Context, next } from '../core/context.js';
import type { Disposer } from '../core/events.js';
import { BasePolicy } from '../core/policy.js';
import { fallback } from '../fallback/index.js';
import { healthRegistry } from '../health/index.js';
import { VirtualClock } from '../testing/index.js';
import { type LogTelemetryOptions, logTelemetry, type TelemetryLogRecord } from './index.js';

interface Written {
  readonly level: string;
  readonly message: string;
  readonly record: TelemetryLogRecord;
}

const stops: Disposer[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** A console-shaped logger that keeps what it is given, and logTelemetry writing to it. */
function recording(options?: LogTelemetryOptions): Written[] {
  const written: Written[] = [];
  const method =
    (level: string) =>
    (message: string, record: TelemetryLogRecord): void => {
      written.push({ level, message, record });
    };
  const logger = {
    error: method('error'),
    warn: method('warn'),
    info: method('info'),
    debug: method('debug'),
  };
  stops.push(logTelemetry(logger, options));
  return written;
}

/** Fills a bulkhead of one slot and no queue; each further call is refused. */
async function refuse(name: string, times: number): Promise<void> {
  const slots = bulkhead({ name, limit: 1 });
  let release = (): void => {};
  const held = slots.execute(() => new Promise<void>((resolve) => (release = resolve)));
  for (let i = 0; i < times; i++) {
    await slots.execute(() => 1, { key: `tenant-${i}` }).catch(() => {});
  }
  release();
  await held;
}

describe('logTelemetry', () => {
  it("writes a breaker's transitions at Polly's severities", async () => {
    const clock = new VirtualClock();
    const written = recording({ clock });
    const breaker = circuitBreaker({
      name: 'payments',
      consecutiveFailures: 1,
      breakDurationMs: 1_000,
      clock,
    });
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    await clock.advance(1_000);
    await breaker.execute(() => 'up');

    expect(written.map(({ level, message }) => [level, message])).toEqual([
      ['error', 'bulwark circuit-breaker "payments": stateChange closed -> open (failures)'],
      ['warn', 'bulwark circuit-breaker "payments": stateChange open -> half-open (break-ended)'],
      [
        'info',
        'bulwark circuit-breaker "payments": stateChange half-open -> closed (probes-succeeded)',
      ],
    ]);
    expect(written[0]!.record).toEqual({
      policy: 'payments',
      kind: 'circuit-breaker',
      event: 'stateChange',
      detail: { from: 'closed', to: 'open', reason: 'failures' },
    });
  });

  it('writes a failing health check as an error, and its recovery as info', async () => {
    const clock = new VirtualClock();
    const written = recording({ clock });
    let up = false;
    const health = healthRegistry({ name: 'checks', clock }).register('db', () => up);
    await health.run();
    up = true;
    await health.run();
    const changes = written.filter((w) => w.record.detail.check === 'db');
    expect(changes.map(({ level, message }) => [level, message])).toEqual([
      ['error', 'bulwark health "checks": statusChange db -> fail'],
      ['info', 'bulwark health "checks": statusChange db fail -> pass'],
    ]);
  });

  it('writes the events of a kind it does not know at info', async () => {
    const written = recording();
    const custom = new (class extends BasePolicy<{ tick: { n: number } }> {
      constructor() {
        super('my-kind', 'mine');
      }
      run(context: Context, index: number): Promise<unknown> {
        this.events.emit('tick', { n: 1 });
        return next(context, index + 1);
      }
    })();
    await custom.execute(() => 1);
    expect(written.map(({ level, record }) => [level, record.kind, record.event])).toEqual([
      ['info', 'my-kind', 'tick'],
    ]);
  });

  it('writes nothing below its level', async () => {
    const written = recording({ level: 'error' });
    await refuse('quiet-pool', 3);
    expect(written).toEqual([]);
  });

  it('writes at most maxPerSecond records per policy, then one summary when the second ends', async () => {
    const clock = new VirtualClock();
    const written = recording({ clock, maxPerSecond: 10 });
    await refuse('busy-pool', 25);
    await refuse('other-pool', 2);
    expect(written.filter((w) => w.record.policy === 'busy-pool')).toHaveLength(10);
    expect(written.filter((w) => w.record.policy === 'other-pool')).toHaveLength(2);
    expect(clock.armedTimers).toBe(1);

    await clock.advance(1_000);
    const summary = written.at(-1)!;
    expect(summary.level).toBe('warn');
    expect(summary.message).toBe(
      'bulwark bulkhead "busy-pool": suppressed 15 records over the limit of 10 a second',
    );
    expect(summary.record).toEqual({
      policy: 'busy-pool',
      kind: 'bulkhead',
      event: 'suppressed',
      detail: { suppressed: 15, byEvent: { rejected: 15 }, maxPerSecond: 10 },
    });
    expect(clock.armedTimers).toBe(0);

    await refuse('busy-pool', 1);
    expect(written.at(-1)!.record.event).toBe('rejected');
  });

  it('arms no timer while every policy stays within its limit', async () => {
    const clock = new VirtualClock();
    recording({ clock });
    await refuse('calm-pool', 10);
    expect(clock.armedTimers).toBe(0);
  });

  it('leaves keys out unless asked, and renders errors and outcomes small', async () => {
    const failing = Object.assign(new Error('no route'), { code: 'EHOSTUNREACH', huge: 'x' });
    const written = recording();
    const withKeys = recording({ includeKeys: true });
    const safe = fallback({ name: 'safe', value: 'cached' });
    await safe.execute(() => Promise.reject(failing), { key: 'tenant-42' });
    await safe.execute(() => ({ status: 503, body: 'a large body' }), {
      key: 'tenant-43',
      classify: () => 'failure',
    });

    expect(written.map((w) => w.record.detail)).toEqual([
      {
        outcome: { ok: false, error: { name: 'Error', message: 'no route', code: 'EHOSTUNREACH' } },
      },
      { outcome: { ok: true } },
    ]);
    expect(withKeys.map((w) => w.record.detail.key)).toEqual(['tenant-42', 'tenant-43']);
  });

  it('calls a pino logger object first, and console-shaped ones message first', async () => {
    const calls: unknown[][] = [];
    const pinoLike = {
      bindings: () => ({}),
      error: (...args: unknown[]) => calls.push(args),
      warn: (...args: unknown[]) => calls.push(args),
      info: (...args: unknown[]) => calls.push(args),
      debug: (...args: unknown[]) => calls.push(args),
    };
    stops.push(logTelemetry(pinoLike));
    await refuse('pino-pool', 1);
    expect(typeof calls[0]![0]).toBe('object');
    expect(calls[0]![1]).toBe('bulwark bulkhead "pino-pool": rejected (full)');
  });

  it('writes what it owes and stops when disposed', async () => {
    const clock = new VirtualClock();
    const written: string[] = [];
    const logger = { error() {}, warn: (message: string) => written.push(message), info() {} };
    const stop = logTelemetry(logger, { clock, maxPerSecond: 1 });
    await refuse('closing-pool', 3);
    stop();
    stop();
    expect(written).toEqual([
      'bulwark bulkhead "closing-pool": rejected (full)',
      'bulwark bulkhead "closing-pool": suppressed 2 records over the limit of 1 a second',
    ]);
    expect(clock.armedTimers).toBe(0);
    await refuse('closing-pool', 1);
    expect(written).toHaveLength(2);
  });

  it('refuses bad options, naming them', () => {
    expect(() => logTelemetry(console, { level: 'trace' as never })).toThrow(
      /logTelemetry: option "level" must be one of/,
    );
    expect(() => logTelemetry(console, { maxPerSecond: 0 })).toThrow(
      'logTelemetry: option "maxPerSecond" must be an integer >= 1 or Infinity (got 0)',
    );
    expect(() => logTelemetry({ error() {}, info() {} }, { level: 'info' })).toThrow(
      "logTelemetry: logger must have a warn() method to write level 'info' (got undefined)",
    );
    expect(() => logTelemetry(null as never)).toThrow(/logger must be an object/);
  });
});
