import { describe, expectTypeOf, it } from 'vitest';
import { backoff, circuitBreaker, fallback, pipeline, retry, timeout } from '../../../index.js';
import { type ResilientFetch, resilientFetch } from './fetch.js';

describe('resilientFetch types', () => {
  it("answers a Response, plus a fallback's substitute when the policy has one", () => {
    const plain = resilientFetch({
      policy: pipeline(
        timeout(2_000),
        retry({ maxAttempts: 3, backoff: backoff.exponential({ initialMs: 50 }) }),
        circuitBreaker({ consecutiveFailures: 5 }),
      ),
    });
    expectTypeOf(plain).toEqualTypeOf<ResilientFetch<never>>();
    expectTypeOf<ReturnType<typeof plain>>().resolves.toEqualTypeOf<Response>();

    const cached = resilientFetch({ policy: fallback({ value: () => 'cached' as const }) });
    expectTypeOf<ReturnType<typeof cached>>().resolves.toEqualTypeOf<Response | 'cached'>();
  });

  it('refuses a policy whose predicates judge something other than a Response', () => {
    const judgesNumbers = retry<number>({ retryOn: (outcome) => outcome.ok && outcome.value > 1 });
    // @ts-expect-error retryOn judges a number; the task returns a Response
    resilientFetch({ policy: judgesNumbers });
  });
});
