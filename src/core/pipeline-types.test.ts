import { describe, expectTypeOf, it } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import { circuitBreaker } from '../circuit-breaker/index.js';
import { fallback } from '../fallback/index.js';
import { keyed } from '../keyed/index.js';
import { retry } from '../retry/index.js';
import { timeout } from '../timeout/index.js';
import type { Outcome } from './outcome.js';
import { pipeline } from './pipeline.js';
import type { Policy } from './policy.js';

interface Reply {
  readonly status: number;
}
const fetchString = async (): Promise<string> => 'text';
const fetchReply = async (): Promise<Reply> => ({ status: 200 });

// Type tests: `tsc --noEmit` (part of `npm test`) fails on a regression.
describe('pipeline types', () => {
  it('a policy without a substitute answers the task type', () => {
    const policy = pipeline(retry(), circuitBreaker({ consecutiveFailures: 5 }), timeout(100));
    expectTypeOf(policy.execute(() => fetchString())).toEqualTypeOf<Promise<string>>();
    expectTypeOf(policy.execute(() => 42)).toEqualTypeOf<Promise<number>>();
  });

  it('a fallback adds its substitute type', () => {
    const items = fallback({ value: () => ({ items: [] as string[] }) });
    expectTypeOf(items.execute(() => fetchString())).toEqualTypeOf<
      Promise<string | { items: string[] }>
    >();
    const policy = pipeline(items, retry(), timeout(100));
    expectTypeOf(policy.execute(() => fetchString())).toEqualTypeOf<
      Promise<string | { items: string[] }>
    >();
    const constant = pipeline(fallback({ value: 'cached' }), bulkhead({ limit: 1 }));
    expectTypeOf(constant.execute(() => 1)).toEqualTypeOf<Promise<number | string>>();
  });

  it('nested pipelines combine their members', () => {
    const inner = pipeline(fallback({ value: () => null }), timeout(10));
    const outer = pipeline(fallback({ value: () => 0 }), inner);
    expectTypeOf(outer.execute(() => 'x')).toEqualTypeOf<Promise<string | number | null>>();
  });

  it('predicates see the task type, and tasks must give it', () => {
    const unavailable = (outcome: Outcome<Reply>): boolean =>
      !outcome.ok || outcome.value.status === 503;
    const typed = pipeline(
      retry({ retryOn: unavailable }),
      circuitBreaker({
        consecutiveFailures: 5,
        failureOn: unavailable,
      }),
    );
    expectTypeOf(typed.execute(() => fetchReply())).toEqualTypeOf<Promise<Reply>>();
    // @ts-expect-error: retryOn judges a Reply; a task answering a string cannot be run.
    typed.execute(() => fetchString());

    const replaced = fallback({
      value: (): Reply => ({ status: 200 }),
      handle: (outcome) => !outcome.ok || outcome.value.status >= 500,
    });
    expectTypeOf(replaced.execute(() => fetchReply())).toEqualTypeOf<Promise<Reply>>();
  });

  it('refuses an inner fallback whose substitute an outer predicate cannot judge', () => {
    const judgesReplies = retry({ retryOn: (outcome: Outcome<Reply>) => !outcome.ok });
    pipeline(judgesReplies, fallback({ value: (): Reply => ({ status: 200 }) }));
    // @ts-expect-error: the outer retry judges Replies, the inner fallback answers strings.
    pipeline(judgesReplies, fallback({ value: 'nope' }));
  });

  it('a keyed policy and its handles type as the policy they keep per key', () => {
    const perHost = keyed(() => pipeline(fallback({ value: () => null }), timeout(100)));
    expectTypeOf(perHost.execute(() => 1, { key: 'a' })).toEqualTypeOf<Promise<number | null>>();
    expectTypeOf(perHost.get('a').execute(() => 'x')).toEqualTypeOf<Promise<string | null>>();
    const judged = keyed(() => retry({ retryOn: (outcome: Outcome<Reply>) => !outcome.ok }));
    // @ts-expect-error: the per-key retry judges Replies.
    judged.execute(() => fetchString(), { key: 'a' });
  });

  it('a policy that is not bulwark’s joins as adding nothing', () => {
    const foreign: Policy = { execute: async (task) => task({} as never) };
    const policy = pipeline(fallback({ value: 0 }), foreign);
    expectTypeOf(policy.execute(() => 'x')).toEqualTypeOf<Promise<string | number>>();
  });
});
