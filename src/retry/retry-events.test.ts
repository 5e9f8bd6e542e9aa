import { describe, expect, it } from 'vitest';
import { BrokenCircuitError } from '../core/errors.js';
import { telemetry } from '../core/events.js';
import type { Outcome } from '../core/outcome.js';
import { VirtualClock } from '../testing/index.js';
import { backoff } from './backoff.js';
import { type RetryEvents, retry } from './retry.js';
import { drain, failing } from './test-helpers.js';

describe('retry: events', () => {
  it('emits retry before each sleep, then giveUp with the reason', async () => {
    const clock = new VirtualClock();
    const errors = [new Error('1'), new Error('2'), new Error('3')];
    const { task } = failing(clock, ...errors);
    const policy = retry({ clock, backoff: backoff.linear({ initialMs: 10, stepMs: 10 }) });
    const log: unknown[] = [];
    policy.on('retry', (e) => log.push(['retry', e, clock.now()]));
    policy.on('giveUp', (e) => log.push(['giveUp', e, clock.now()]));
    policy.on('success', (e) => log.push(['success', e]));
    const check = expect(policy.execute(task)).rejects.toBe(errors[2]);
    await drain(clock);
    await check;
    const failed = (error: Error): Outcome => ({ ok: false, error });
    expect(log).toEqual([
      ['retry', { attempt: 1, delayMs: 10, outcome: failed(errors[0]!) }, 0],
      ['retry', { attempt: 2, delayMs: 20, outcome: failed(errors[1]!) }, 10],
      ['giveUp', { attempts: 3, outcome: failed(errors[2]!), reason: 'maxAttempts' }, 30],
    ]);
  });

  it('emits success with the attempt count, on the first try too', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, backoff: backoff.constant(5) });
    const successes: RetryEvents['success'][] = [];
    const dispose = policy.on('success', (e) => successes.push(e));
    await policy.execute(() => 'first');
    let n = 0;
    const p = policy.execute(() => {
      if (++n < 3) throw new Error('again');
      return 'third';
    });
    await drain(clock);
    await expect(p).resolves.toBe('third');
    expect(successes).toEqual([{ attempts: 1 }, { attempts: 3 }]);
    dispose();
    await policy.execute(() => 'unseen');
    expect(successes).toHaveLength(2);
  });

  it("emits giveUp 'notRetryable' and reaches the telemetry bus", async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, name: 'payments' });
    const bus: unknown[] = [];
    const unsubscribe = telemetry.subscribe((e) => bus.push(e));
    try {
      const open = new BrokenCircuitError();
      await expect(policy.execute(() => Promise.reject(open))).rejects.toBe(open);
      expect(bus).toEqual([
        {
          policy: 'payments',
          kind: 'retry',
          type: 'giveUp',
          detail: { attempts: 1, outcome: { ok: false, error: open }, reason: 'notRetryable' },
        },
      ]);
    } finally {
      unsubscribe();
    }
  });
});

describe('retry: events carry the call key', () => {
  it('puts context.key on retry, giveUp and success, on the fast path and the loop alike', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, maxAttempts: 2, backoff: backoff.constant(10) });
    const log: [string, string | undefined][] = [];
    policy.on('retry', (e) => log.push(['retry', e.key]));
    policy.on('giveUp', (e) => log.push([`giveUp ${e.reason}`, e.key]));
    policy.on('success', (e) => log.push([`success ${e.attempts}`, e.key]));

    await policy.execute(() => 'first try', { key: 'eu-1' });
    let n = 0;
    const second = policy.execute(() => (++n === 1 ? Promise.reject(new Error('x')) : 'ok'), {
      key: 'eu-2',
    });
    await drain(clock);
    await second;
    const lost = policy.execute(() => Promise.reject(new Error('down')), { key: 'eu-3' });
    const check = expect(lost).rejects.toThrow('down');
    await drain(clock);
    await check;
    await expect(
      policy.execute(() => Promise.reject(new BrokenCircuitError()), { key: 'eu-4' }),
    ).rejects.toBeInstanceOf(BrokenCircuitError);
    await policy.execute(() => 'no key');
    const judged = retry({ clock, retryOn: () => false });
    const judgedLog: unknown[] = [];
    judged.on('success', (e) => judgedLog.push(e));
    await judged.execute(() => 'kept', { key: 'eu-5' });

    expect(log).toEqual([
      ['success 1', 'eu-1'],
      ['retry', 'eu-2'],
      ['success 2', 'eu-2'],
      ['retry', 'eu-3'],
      ['giveUp maxAttempts', 'eu-3'],
      ['giveUp notRetryable', 'eu-4'],
      ['success 1', undefined],
    ]);
    expect(judgedLog).toStrictEqual([{ attempts: 1, key: 'eu-5' }]);
  });
});

describe('retry: options', () => {
  it('refuses bad options, naming option and value', () => {
    const cases: [unknown, string][] = [
      [
        { maxAttempts: 0 },
        'retry: option "maxAttempts" must be an integer >= 1 or Infinity (got 0)',
      ],
      [
        { maxAttempts: 2.5 },
        'retry: option "maxAttempts" must be an integer >= 1 or Infinity (got 2.5)',
      ],
      [
        { maxAttempts: '3' },
        'retry: option "maxAttempts" must be an integer >= 1 or Infinity (got "3")',
      ],
      [
        { maxElapsedMs: -1 },
        'retry: option "maxElapsedMs" must be a number of milliseconds >= 0 or Infinity (got -1)',
      ],
      [
        { maxElapsedMs: Number.NaN },
        'retry: option "maxElapsedMs" must be a number of milliseconds >= 0 or Infinity (got NaN)',
      ],
      [{ backoff: 100 }, 'retry: option "backoff" must be a function (got 100)'],
      [{ retryOn: true }, 'retry: option "retryOn" must be a function (got true)'],
      [{ random: 0.5 }, 'retry: option "random" must be a function (got 0.5)'],
      [
        { clock: {} },
        'retry: option "clock" must be a Clock with now(), setTimeout() and clearTimeout() (got {})',
      ],
      [{ name: '' }, 'retry: option "name" must be a non-empty string (got "")'],
      [
        { name: 'api', maxAttempts: -1 },
        'api: option "maxAttempts" must be an integer >= 1 or Infinity (got -1)',
      ],
      [5, 'retry: options must be an object (got 5)'],
      [null, 'retry: options must be an object (got null)'],
    ];
    for (const [options, message] of cases) {
      expect(() => retry(options as never)).toThrow(new TypeError(message));
    }
  });

  it('does not mutate the options object and exposes its limits', () => {
    const options = Object.freeze({ maxAttempts: 7, maxElapsedMs: 1_000 });
    const policy = retry(options);
    expect(policy.maxAttempts).toBe(7);
    expect(policy.maxElapsedMs).toBe(1_000);
    expect(retry().maxAttempts).toBe(3);
    expect(retry().maxElapsedMs).toBe(Number.POSITIVE_INFINITY);
    expect(retry().name).toBe('retry');
  });
});
