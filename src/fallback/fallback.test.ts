import { describe, expect, it } from 'vitest';
import { BrokenCircuitError, TimeoutError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import { pipeline } from '../core/pipeline.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { fallback } from './index.js';

interface Reply {
  readonly status: number;
  readonly body: string;
}

/** A task that runs until its signal aborts, then rejects with the signal's reason. */
const hang = ({ signal }: { signal: AbortSignal }): Promise<never> =>
  new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

describe('fallback', () => {
  it('replaces an error with the substitute, which sees the outcome and the context', async () => {
    const error = new Error('down');
    const seen: unknown[] = [];
    const policy = fallback<string>({
      value: (outcome, ctx) => {
        seen.push(outcome, ctx.key, ctx.data);
        return 'cached';
      },
    });
    const result = await policy.execute(
      () => {
        throw error;
      },
      { key: 'prices', data: 7 },
    );
    expect(result).toBe('cached');
    expect(seen).toEqual([{ ok: false, error }, 'prices', 7]);
  });

  it('awaits a substitute promise and accepts a constant', async () => {
    const fromPromise = fallback({ value: async () => 'later' });
    await expect(fromPromise.execute(() => Promise.reject(new Error('x')))).resolves.toBe('later');
    const constant = fallback({ value: { status: 200, body: 'stale' } });
    await expect(constant.execute(() => Promise.reject(new Error('x')))).resolves.toEqual({
      status: 200,
      body: 'stale',
    });
    await expect(fallback({ value: null }).execute(() => Promise.reject('x'))).resolves.toBe(null);
  });

  it('passes successes through without making a substitute', async () => {
    let made = 0;
    const policy = fallback({
      value: () => {
        made++;
        return 'substitute';
      },
    });
    await expect(policy.execute(() => 'real')).resolves.toBe('real');
    await expect(policy.execute(async () => undefined)).resolves.toBeUndefined();
    expect(made).toBe(0);
  });

  it('replaces a bad result (an HTTP 503) when handle says so', async () => {
    const outcomes: Outcome[] = [];
    const policy = fallback<Reply>({
      handle: (outcome) => {
        outcomes.push(outcome);
        return outcome.ok ? (outcome.value as Reply).status >= 500 : true;
      },
      value: () => ({ status: 200, body: 'from cache' }),
    });
    const unavailable: Reply = { status: 503, body: 'busy' };
    await expect(policy.execute(() => unavailable)).resolves.toEqual({
      status: 200,
      body: 'from cache',
    });
    const fine: Reply = { status: 200, body: 'live' };
    await expect(policy.execute(() => fine)).resolves.toBe(fine);
    expect(outcomes).toEqual([
      { ok: true, value: unavailable },
      { ok: true, value: fine },
    ]);
  });

  it('rethrows the original error when handle declines it', async () => {
    const policy = fallback({
      handle: (outcome) => !outcome.ok && outcome.error instanceof TypeError,
      value: () => 'substitute',
    });
    const error = new RangeError('not mine');
    await expect(policy.execute(() => Promise.reject(error))).rejects.toBe(error);
    await expect(policy.execute(() => Promise.reject(new TypeError('mine')))).resolves.toBe(
      'substitute',
    );
  });

  it('treats refusals from policies inside it like any other failure', async () => {
    const clock = new VirtualClock();
    const failures: unknown[] = [];
    const guarded = pipeline(
      fallback({
        value: (outcome) => {
          if (!outcome.ok) failures.push(outcome.error);
          return 'degraded';
        },
      }),
      timeout(100, { clock }),
    );
    await expect(
      guarded.execute(() => Promise.reject(new BrokenCircuitError('open', 5_000))),
    ).resolves.toBe('degraded');

    const timedOut = guarded.execute(hang);
    await clock.advance(100);
    await expect(timedOut).resolves.toBe('degraded');
    expect(failures[0]).toBeInstanceOf(BrokenCircuitError);
    expect(failures[1]).toBeInstanceOf(TimeoutError);
    expect(clock.pendingTimers).toBe(0);
  });

  it("lets the substitute's own error out as it is", async () => {
    const own = new Error('cache is empty');
    const throwing = fallback({
      value: () => {
        throw own;
      },
    });
    await expect(throwing.execute(() => Promise.reject(new Error('down')))).rejects.toBe(own);
    const rejecting = fallback({ value: () => Promise.reject(own) });
    await expect(rejecting.execute(() => Promise.reject(new Error('down')))).rejects.toBe(own);
  });

  it("never replaces a caller's abort, and rethrows the caller's reason", async () => {
    let made = 0;
    const policy = fallback({
      handle: () => true,
      value: () => {
        made++;
        return 'substitute';
      },
    });
    const controller = new AbortController();
    const reason = new Error('caller left');
    const call = policy.execute(
      ({ signal }) =>
        new Promise<string>((_, reject) => {
          signal.addEventListener('abort', () => reject(new Error('socket closed')));
        }),
      { signal: controller.signal },
    );
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(made).toBe(0);
  });

  it('does not replace a result that arrives after the caller aborted, even when handle would', async () => {
    let asked = 0;
    const policy = fallback({
      handle: () => {
        asked++;
        return true;
      },
      value: () => 'substitute',
    });
    const controller = new AbortController();
    let finish!: (value: string) => void;
    const call = policy.execute(
      () =>
        new Promise<string>((resolve) => {
          finish = resolve;
        }),
      { signal: controller.signal },
    );
    controller.abort(new Error('caller left'));
    finish('late but real');
    await expect(call).resolves.toBe('late but real');
    expect(asked).toBe(0);
  });

  it('does not replace the abort of a timeout outside it, but does replace one inside', async () => {
    const clock = new VirtualClock();
    const substitute = fallback({ value: () => 'substitute' });
    const outside = pipeline(timeout(50, { clock }), substitute).execute(hang);
    const rejected = expect(outside).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(50);
    await rejected;

    const inside = pipeline(substitute, timeout(50, { clock })).execute(hang);
    await clock.advance(50);
    await expect(inside).resolves.toBe('substitute');
  });

  it('emits fallback with the outcome it replaced', async () => {
    const policy = fallback({
      name: 'prices-fallback',
      handle: (outcome) => !outcome.ok || outcome.value === 'bad',
      value: () => 'substitute',
    });
    const events: unknown[] = [];
    const dispose = policy.on('fallback', (event) => events.push(event));
    const error = new Error('down');
    await policy.execute(() => Promise.reject(error), { key: 'eu' });
    await policy.execute(() => 'bad');
    await policy.execute(() => 'good');
    dispose();
    await policy.execute(() => Promise.reject(error));
    expect(events).toEqual([
      { key: 'eu', outcome: { ok: false, error } },
      { key: undefined, outcome: { ok: true, value: 'bad' } },
    ]);
  });

  it('lets an error thrown by handle out as it is', async () => {
    const bug = new Error('handle bug');
    const policy = fallback({
      handle: () => {
        throw bug;
      },
      value: () => 'substitute',
    });
    await expect(policy.execute(() => Promise.reject(new Error('down')))).rejects.toBe(bug);
    await expect(policy.execute(() => 'fine')).rejects.toBe(bug);
  });

  it('refuses a handle that answers with a promise instead of counting it as yes', async () => {
    let made = 0;
    const policy = fallback({
      handle: async () => false,
      value: () => {
        made++;
        return 'substitute';
      },
    } as never);
    await expect(policy.execute(() => Promise.reject(new Error('down')))).rejects.toThrow(
      'fallback: option "handle" returned a promise; it must decide synchronously and return a boolean',
    );
    expect(made).toBe(0);
  });

  it('validates its options with clear messages', () => {
    expect(() => fallback(undefined as never)).toThrow(
      /^fallback: option "value" must be a function or a substitute value \(got undefined\)/,
    );
    expect(() => fallback(null as never)).toThrow('fallback: options must be an object (got null)');
    expect(() => fallback({ value: 1, handle: 'yes' as never })).toThrow(
      'fallback: option "handle" must be a function (got "yes")',
    );
    expect(() => fallback({ value: 1, name: '' })).toThrow(/option "name" must be a non-empty/);
    expect(fallback(Object.freeze({ value: 1, name: 'fb' })).name).toBe('fb');
  });
});
