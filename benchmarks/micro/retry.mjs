import { work } from '../lib/tasks.mjs';
import { floors } from './floor.mjs';

/**
 * The success path of a retry: the first attempt succeeds, so what is measured is the cost of
 * being ready to retry. All three allow 3 attempts in total (cockatiel and p-retry count
 * retries, bulwark counts attempts) with exponential backoff.
 */
export default [
  {
    id: 'retry',
    title: 'retry, first attempt succeeds',
    cases: [
      {
        library: 'cockatiel',
        label: 'retry(handleAll, { maxAttempts: 2, backoff: ExponentialBackoff })',
        make({ cockatiel: c }) {
          const policy = c.retry(c.handleAll, {
            maxAttempts: 2,
            backoff: new c.ExponentialBackoff({ initialDelay: 100 }),
          });
          return () => policy.execute(work);
        },
      },
      {
        library: 'p-retry',
        label: 'pRetry(fn, { retries: 2, minTimeout: 100 })',
        make({ pRetry }) {
          const options = { retries: 2, minTimeout: 100 };
          return () => pRetry(work, options);
        },
      },
      {
        library: 'bulwark',
        label: 'retry({ maxAttempts: 3, backoff: backoff.exponential() })',
        make({ bulwark }) {
          const policy = bulwark.retry({ maxAttempts: 3, backoff: exponentialBackoff(bulwark) });
          return () => policy.execute(work);
        },
        budget: {
          id: 'retry-success',
          text: 'retry success ≤1.5× bare',
          maxRatio: 1.5,
          floor: floors.reaction,
        },
      },
    ],
  },
];

/** bulwark's exponential backoff starting at 100 ms. */
export function exponentialBackoff(bulwark) {
  return bulwark.backoff.exponential({ initialMs: 100 });
}
