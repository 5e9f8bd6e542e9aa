import { work } from '../lib/tasks.mjs';

/**
 * The admit path of each overload policy when it admits at once: a rate limiter with capacity
 * to spare, a load shedder under its limit, a throttle whose backend accepts everything, a
 * hedge whose first attempt wins, and a bulkhead whose limit is adaptive. Each is held to 1.5
 * times what a plain bulkhead costs in the same rounds: admitting a call should cost about
 * what counting it in and out does.
 */
const bulkheadLabel = 'bulkhead({ limit: 10 })';

const withinBulkhead = (id, text) => ({
  id,
  text: `${text} ≤1.5× bulkhead`,
  relativeTo: { label: bulkheadLabel, short: 'bulkhead', factor: 1.5 },
});

export default [
  {
    id: 'overload-admit',
    title: 'overload policies admitting at once, beside a plain bulkhead',
    cases: [
      {
        library: 'bulwark',
        label: bulkheadLabel,
        make({ bulwark }) {
          const policy = bulwark.bulkhead({ limit: 10 });
          return () => policy.execute(work);
        },
      },
      {
        library: 'bulwark',
        label: 'rateLimiter({ limit: 1e9, intervalMs: 1000 })',
        make({ bulwark }) {
          const policy = bulwark.rateLimiter({ limit: 1e9, intervalMs: 1000 });
          return () => policy.execute(work);
        },
        budget: withinBulkhead('rate-limiter-admit', 'rateLimiter admit'),
      },
      {
        library: 'bulwark',
        label: 'loadShedder({ limit: 10 })',
        make({ bulwark }) {
          const policy = bulwark.loadShedder({ limit: 10 });
          return () => policy.execute(work);
        },
        budget: withinBulkhead('load-shedder-admit', 'loadShedder admit'),
      },
      {
        library: 'bulwark',
        label: 'adaptiveThrottle()',
        make({ bulwark }) {
          const policy = bulwark.adaptiveThrottle();
          return () => policy.execute(work);
        },
        budget: withinBulkhead('throttle-admit', 'adaptiveThrottle admit'),
      },
      {
        library: 'bulwark',
        label: 'hedge({ delayMs: 1000 }), first attempt wins',
        make({ bulwark }) {
          const policy = bulwark.hedge({ delayMs: 1000 });
          return () => policy.execute(work);
        },
        budget: withinBulkhead('hedge-admit', 'hedge, first attempt wins,'),
      },
      {
        library: 'bulwark',
        label: "bulkhead({ limit: adaptiveLimit({ algorithm: 'aimd' }) })",
        make({ bulwark }) {
          const limit = bulwark.adaptiveLimit({ algorithm: 'aimd' });
          const policy = bulwark.bulkhead({ limit });
          return () => policy.execute(work);
        },
        budget: withinBulkhead('adaptive-bulkhead-admit', 'bulkhead with an adaptive limit'),
      },
    ],
  },
];
