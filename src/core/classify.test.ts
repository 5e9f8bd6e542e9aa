import { describe, expect, it } from 'vitest';
import { circuitBreaker } from '../circuit-breaker/index.js';
import { fallback } from '../fallback/index.js';
import { hedge } from '../hedge/index.js';
import { keyed } from '../keyed/index.js';
import { backoff, retry } from '../retry/index.js';
import { VirtualClock } from '../testing/index.js';
import type { Classifier } from './classify.js';
import { BrokenCircuitError } from './errors.js';
import { pipeline } from './pipeline.js';

interface Reply {
  readonly status: number;
  readonly retryAfterMs?: number;
}

/** The HTTP-like rule the classifier exists for: 5xx is worth another try, 4xx is the caller's. */
const byStatus: Classifier = (outcome) => {
  if (!outcome.ok) return undefined;
  const { status } = outcome.value as Reply;
  if (status >= 500) return 'retryable';
  return status === 418 ? 'failure' : 'success';
};

/** A task answering the given replies in turn, counting its runs. */
function replies(...sequence: Reply[]) {
  const task = () => {
    const reply = sequence[Math.min(task.runs, sequence.length - 1)]!;
    task.runs++;
    return reply;
  };
  task.runs = 0;
  return task;
}

describe('execute(fn, { classify })', () => {
  it('retry retries a result classified retryable, and returns the last one when attempts run out', async () => {
    const policy = retry({ maxAttempts: 3, backoff: backoff.constant(0) });
    const flaky = replies({ status: 503 }, { status: 200 });
    expect(await policy.execute(flaky, { classify: byStatus })).toEqual({ status: 200 });
    expect(flaky.runs).toBe(2);

    const down = replies({ status: 503 });
    expect(await policy.execute(down, { classify: byStatus })).toEqual({ status: 503 });
    expect(down.runs).toBe(3);
  });

  it('retry does not retry a result classified success or failure, nor any result without classify', async () => {
    const policy = retry({ maxAttempts: 3, backoff: backoff.constant(0) });
    for (const status of [404, 418]) {
      const task = replies({ status });
      await policy.execute(task, { classify: byStatus });
      expect(task.runs).toBe(1);
    }
    const unclassified = replies({ status: 503 });
    await policy.execute(unclassified);
    expect(unclassified.runs).toBe(1);
  });

  it('retry waits the retryAfterMs a classified result carries', async () => {
    const clock = new VirtualClock();
    const policy = retry({ maxAttempts: 2, backoff: backoff.constant(10), clock });
    const task = replies({ status: 503, retryAfterMs: 2000 }, { status: 200 });
    const call = policy.execute(task, { classify: byStatus });
    await clock.advance(1999);
    expect(task.runs).toBe(1);
    await clock.advance(1);
    expect(await call).toEqual({ status: 200 });
    expect(task.runs).toBe(2);
  });

  it('an abstaining classifier leaves errors to the policy: retry still retries an Error', async () => {
    const policy = retry({ maxAttempts: 2, backoff: backoff.constant(0) });
    let runs = 0;
    const result = await policy.execute(
      () => {
        if (++runs === 1) throw new Error('reset');
        return { status: 200 };
      },
      { classify: byStatus },
    );
    expect(result).toEqual({ status: 200 });
    expect(runs).toBe(2);
  });

  it("a policy's own predicate wins over the call's classifier", async () => {
    const policy = retry({ maxAttempts: 3, backoff: backoff.constant(0), retryOn: () => false });
    const task = replies({ status: 503 });
    await policy.execute(task, { classify: byStatus });
    expect(task.runs).toBe(1);
  });

  it('a circuit breaker counts retryable and failure results as failures, and success errors as successes', async () => {
    const breaker = circuitBreaker({ consecutiveFailures: 2, breakDurationMs: 1000 });
    await breaker.execute(replies({ status: 404 }), { classify: byStatus });
    await breaker.execute(replies({ status: 404 }), { classify: byStatus });
    expect(breaker.state).toBe('closed');

    const alwaysSuccess: Classifier = () => 'success';
    for (let i = 0; i < 3; i++) {
      await expect(
        breaker.execute(
          () => {
            throw new Error('the caller asked for something absent');
          },
          { classify: alwaysSuccess },
        ),
      ).rejects.toThrow('absent');
    }
    expect(breaker.state).toBe('closed');

    await breaker.execute(replies({ status: 503 }), { classify: byStatus });
    await breaker.execute(replies({ status: 418 }), { classify: byStatus });
    expect(breaker.state).toBe('open');
    await expect(breaker.execute(replies({ status: 200 }))).rejects.toBeInstanceOf(
      BrokenCircuitError,
    );
  });

  it('fallback replaces results classified retryable or failure, not success', async () => {
    const policy = fallback({ value: { status: 0 } });
    expect(await policy.execute(replies({ status: 503 }), { classify: byStatus })).toEqual({
      status: 0,
    });
    expect(await policy.execute(replies({ status: 418 }), { classify: byStatus })).toEqual({
      status: 0,
    });
    expect(await policy.execute(replies({ status: 404 }), { classify: byStatus })).toEqual({
      status: 404,
    });
  });

  it('hedge starts the next attempt at once on a retryable result', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 1000, maxHedges: 1, clock });
    const task = replies({ status: 503 }, { status: 200 });
    expect(await policy.execute(task, { classify: byStatus })).toEqual({ status: 200 });
    expect(task.runs).toBe(2);
    expect(clock.now()).toBe(0);
  });

  it('reaches every layer of a pipeline, through retries and keyed policies', async () => {
    const breakers = keyed(() => circuitBreaker({ consecutiveFailures: 3 }));
    const policy = pipeline(retry({ maxAttempts: 3, backoff: backoff.constant(0) }), breakers);
    const task = replies({ status: 503 });
    expect(await policy.execute(task, { key: 'a', classify: byStatus })).toEqual({ status: 503 });
    expect(task.runs).toBe(3);
    expect(breakers.peek('a')?.state).toBe('open');
  });

  it('refuses a classifier that is not a function, or that answers anything but a class', async () => {
    const policy = retry({ name: 'fetch-retry', backoff: backoff.constant(0) });
    await expect(
      policy.execute(() => 1, { classify: 'retryable' as unknown as Classifier }),
    ).rejects.toThrow(/fetch-retry: execute\(\) option "classify" must be a function/);
    await expect(
      policy.execute(() => 1, { classify: (() => 'retry') as unknown as Classifier }),
    ).rejects.toThrow(
      /fetch-retry: the call's "classify" returned "retry"; expected 'success', 'retryable', 'failure' or undefined/,
    );
    await expect(
      policy.execute(() => 1, {
        classify: (async () => 'success') as unknown as Classifier,
      }),
    ).rejects.toThrow(/returned a promise; it must decide synchronously/);
  });
});
