import { describe, expect, it } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import type { ExecuteOptions, Task } from '../core/context.js';
import { BulkheadRejectedError, TimeoutError } from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
import type { Policy } from '../core/policy.js';
import { retry } from '../retry/index.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { keyed } from './index.js';

/** A policy not made by bulwark: logs its name and hands the function a context of its own. */
function recorder(name: string, log: string[], attempt?: number): Policy {
  return {
    execute<T, D>(task: Task<T, D>, options?: ExecuteOptions<D>): Promise<T> {
      log.push(`${name}:${options?.key}`);
      return Promise.resolve(
        task({
          priority: options?.priority ?? 'critical',
          signal: options?.signal ?? new AbortController().signal,
          attempt: attempt ?? 1,
          key: options?.key,
          data: options?.data as D,
          deadline: options?.deadline ?? Number.POSITIVE_INFINITY,
        }),
      );
    },
  };
}

describe('keyed with a pipeline or a foreign policy per key', () => {
  it('runs the key’s pipeline in the keyed layer’s place, then the rest of the outer chain', async () => {
    const log: string[] = [];
    const clock = new VirtualClock(1_000);
    const perKey = keyed((key) =>
      pipeline(recorder(`inner-${key}`, log), bulkhead({ limit: 1 }), timeout(30, { clock })),
    );
    const outer = pipeline(
      recorder('before', log),
      perKey,
      recorder('after', log, 7),
      timeout(1_000, { clock }),
    );
    const seen = await outer.execute((ctx) => [ctx.key, ctx.attempt, ctx.deadline], {
      key: 'a',
    });
    expect(log).toEqual(['before:a', 'inner-a:a', 'after:a']);
    expect(seen).toEqual(['a', 7, 1_030]);
  });

  it('gives each key its own pipeline state, with the limits and timeouts of that pipeline', async () => {
    const clock = new VirtualClock();
    const perKey = keyed(() => pipeline(bulkhead({ limit: 1 }), timeout(30, { clock })));
    const outer = pipeline(retry({ maxAttempts: 1, clock }), perKey);
    const hanging = outer.execute(
      ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
      { key: 'a' },
    );
    await expect(outer.execute(() => 'x', { key: 'a' })).rejects.toBeInstanceOf(
      BulkheadRejectedError,
    );
    await expect(outer.execute(() => 'served', { key: 'b' })).resolves.toBe('served');
    const outcome = expect(hanging).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(30);
    await outcome;
    expect(perKey.snapshot('a')?.inFlight).toBe(0);
    await expect(outer.execute(() => 'again', { key: 'a' })).resolves.toBe('again');
  });

  it('reuses its spliced chain and still splices right when used from another chain', async () => {
    const log: string[] = [];
    const perKey = keyed(() => pipeline(recorder('one', log), recorder('two', log)));
    const outer = pipeline(perKey, recorder('tail', log));
    await outer.execute(() => 1, { key: 'k' });
    await perKey.execute(() => 2, { key: 'k' });
    await outer.execute(() => 3, { key: 'k' });
    expect(log).toEqual(['one:k', 'two:k', 'tail:k', 'one:k', 'two:k', 'one:k', 'two:k', 'tail:k']);
  });

  it('accepts an empty pipeline and a foreign policy as a key’s policy', async () => {
    const log: string[] = [];
    const empty = keyed(() => pipeline());
    await expect(
      pipeline(empty, recorder('after', log)).execute((ctx) => ctx.key, { key: 'e' }),
    ).resolves.toBe('e');
    const foreign = keyed((key) => recorder(`foreign-${key}`, log, 3));
    await expect(foreign.execute((ctx) => ctx.attempt, { key: 'f' })).resolves.toBe(3);
    expect(log).toEqual(['after:e', 'foreign-f:f']);
    expect(foreign.peek('f')).toBeDefined();
  });

  it('names what a factory returned when it is no policy, without dumping it', async () => {
    class Config {
      readonly nested = { deep: 'x'.repeat(1_000) };
    }
    const perKey = keyed<Policy>(() => new Config() as never);
    await expect(perKey.execute(() => 1, { key: 'k' })).rejects.toThrow(
      'keyed: the factory must return a policy, an object with execute(), for key "k" (got an instance of Config)',
    );
    const nothing = keyed<Policy>(() => undefined as never);
    await expect(nothing.execute(() => 1, { key: 'k' })).rejects.toThrow('(got undefined)');
  });
});
