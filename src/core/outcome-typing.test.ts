import { describe, expect, it } from 'vitest';
import { circuitBreaker } from '../circuit-breaker/index.js';
import { fallback } from '../fallback/index.js';
import { retry } from '../retry/index.js';
import { VirtualClock } from '../testing/index.js';
import type { Outcome } from './outcome.js';
import { pipeline } from './pipeline.js';

interface Reply {
  readonly status: number;
}

describe('typed outcomes', () => {
  it('lets one typed predicate decide for retry, breaker and fallback alike', async () => {
    const unavailable = (outcome: Outcome<Reply>): boolean =>
      !outcome.ok || outcome.value.status === 503;
    const clock = new VirtualClock();
    const breaker = circuitBreaker<Reply>({ consecutiveFailures: 2, failureOn: unavailable });
    const policy = pipeline(
      fallback<Reply>({ value: () => ({ status: 200 }), handle: unavailable }),
      retry<Reply>({ maxAttempts: 2, backoff: () => 10, retryOn: unavailable, clock }),
      breaker,
    );
    const replies: Reply[] = [{ status: 503 }, { status: 503 }];
    const call = policy.execute(() => replies.shift() ?? { status: 200 });
    await clock.runAll();
    const reply = await call;
    expect(reply).toEqual({ status: 200 });
    expect(breaker.state).toBe('open');
  });
});
