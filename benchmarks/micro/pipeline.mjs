import { idleSignal, readsSignal, work } from '../lib/tasks.mjs';
import { bulwarkConsecutive } from './breaker.mjs';
import { floors } from './floor.mjs';
import { exponentialBackoff } from './retry.mjs';

/**
 * The four policies a service call typically gets, outermost first: bulkhead (10 slots, no
 * queue), retry (3 attempts in total, exponential backoff), consecutive-failure breaker (5),
 * cooperative timeout (1 s). cockatiel composes the same four with `wrap`.
 */
function cockatielWrap(c) {
  return c.wrap(
    c.bulkhead(10, 0),
    c.retry(c.handleAll, {
      maxAttempts: 2,
      backoff: new c.ExponentialBackoff({ initialDelay: 100 }),
    }),
    c.circuitBreaker(c.handleAll, { halfOpenAfter: 30_000, breaker: new c.ConsecutiveBreaker(5) }),
    c.timeout(1000, c.TimeoutStrategy.Cooperative),
  );
}

export function bulwarkPipeline(b) {
  return b.pipeline(
    b.bulkhead({ limit: 10, queue: 0 }),
    b.retry({ maxAttempts: 3, backoff: exponentialBackoff(b) }),
    b.circuitBreaker(bulwarkConsecutive),
    b.timeout(1000),
  );
}

const cockatielLabel = 'wrap(bulkhead, retry, circuitBreaker, timeout)';
export const bulwarkPipelineLabel = 'pipeline(bulkhead, retry, circuitBreaker, timeout)';
const bulwarkLabel = bulwarkPipelineLabel;

export default [
  {
    id: 'pipeline',
    title: 'four-policy pipeline: bulkhead + retry + breaker + timeout, call succeeds',
    cases: [
      {
        library: 'cockatiel',
        label: cockatielLabel,
        make({ cockatiel }) {
          const policy = cockatielWrap(cockatiel);
          return () => policy.execute(work);
        },
      },
      {
        library: 'bulwark',
        label: bulwarkLabel,
        make({ bulwark }) {
          const policy = bulwarkPipeline(bulwark);
          return () => policy.execute(work);
        },
        budget: {
          id: 'pipeline',
          text: '4-policy pipeline ≤3× bare and ≥10× faster than cockatiel',
          maxRatio: 3,
          floor: floors.fourLayers,
          minSpeedupOver: { library: 'cockatiel', factor: 10 },
        },
      },
      {
        library: 'bulwark',
        label: `${bulwarkLabel} + telemetry.subscribe(fn)`,
        make({ bulwark }) {
          const policy = bulwarkPipeline(bulwark);
          const counts = new Map();
          const listener = (event) => counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
          let dispose;
          // The bus is global: subscribe only while this case is measured.
          return {
            run: () => policy.execute(work),
            attach: () => {
              dispose = bulwark.telemetry.subscribe(listener);
            },
            detach: () => dispose(),
          };
        },
      },
    ],
  },
  {
    id: 'pipeline-signal',
    title: 'four-policy pipeline, the caller passes a signal and the function passes it on',
    baseline: {
      label: 'bare: await fn({ signal }) with the caller signal',
      make: () => () => readsSignal({ signal: idleSignal }),
    },
    cases: [
      {
        library: 'cockatiel',
        label: `${cockatielLabel}.execute(fn, signal)`,
        make({ cockatiel }) {
          const policy = cockatielWrap(cockatiel);
          return () => policy.execute(readsSignal, idleSignal);
        },
      },
      {
        library: 'bulwark',
        label: `${bulwarkLabel}.execute(fn, { signal })`,
        make({ bulwark }) {
          const policy = bulwarkPipeline(bulwark);
          const options = { signal: idleSignal };
          return () => policy.execute(readsSignal, options);
        },
      },
    ],
  },
];
