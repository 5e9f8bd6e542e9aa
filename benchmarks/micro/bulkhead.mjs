import { work } from '../lib/tasks.mjs';
import { floors } from './floor.mjs';

/**
 * A bulkhead with room to spare: 10 slots, calls run one at a time, so nothing ever waits.
 * cockatiel and bulwark get no queue (a full bulkhead refuses at once); p-limit has an
 * unbounded queue and no way to refuse, which does not matter under the limit.
 */
export default [
  {
    id: 'bulkhead',
    title: 'bulkhead, limit 10, under the limit',
    cases: [
      {
        library: 'cockatiel',
        label: 'bulkhead(10, 0)',
        make({ cockatiel: c }) {
          const policy = c.bulkhead(10, 0);
          return () => policy.execute(work);
        },
      },
      {
        library: 'p-limit',
        label: 'pLimit(10)',
        make({ pLimit }) {
          const limit = pLimit(10);
          return () => limit(work);
        },
      },
      {
        library: 'bulwark',
        label: 'bulkhead({ limit: 10, queue: 0 })',
        make({ bulwark }) {
          const policy = bulwark.bulkhead({ limit: 10, queue: 0 });
          return () => policy.execute(work);
        },
        budget: {
          id: 'bulkhead',
          text: 'bulkhead under limit ≤1.3× bare',
          maxRatio: 1.3,
          floor: floors.reaction,
        },
      },
    ],
  },
];
