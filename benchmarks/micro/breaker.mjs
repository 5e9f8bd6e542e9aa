import { caught, fails, refuses, work } from '../lib/tasks.mjs';
import { floors } from './floor.mjs';

const breakMs = 30_000;

/**
 * opossum's breaker is always a time-bucketed rolling window (no consecutive-failure mode and
 * no count window), so it appears only in the sliding-window row. Features bulwark's breaker
 * does not have are turned off: its timeout, latency percentiles and snapshot events. It still
 * emits 'fire' and 'success' on an EventEmitter for every call; that cannot be turned off.
 */
export const opossumLean = {
  timeout: false,
  rollingPercentilesEnabled: false,
  enableSnapshots: false,
};

function opossumWindow(CircuitBreaker, action) {
  return new CircuitBreaker(action, {
    ...opossumLean,
    errorThresholdPercentage: 50,
    volumeThreshold: 20,
    rollingCountTimeout: 10_000,
    rollingCountBuckets: 10,
    resetTimeout: breakMs,
  });
}

export const bulwarkConsecutive = { consecutiveFailures: 5, breakDurationMs: breakMs };
export const bulwarkWindow = {
  window: { type: 'count', size: 100 },
  failureRate: 0.5,
  minimumCalls: 20,
  breakDurationMs: breakMs,
};

const closedBudget = {
  id: 'breaker-closed',
  text: 'breaker closed ≤1.5× bare',
  maxRatio: 1.5,
  floor: floors.reaction,
};

async function trip(execute, times) {
  for (let i = 0; i < times; i++) await execute(fails).catch(() => {});
}

export default [
  {
    id: 'breaker-consecutive',
    title: 'circuit breaker closed, consecutive-failure breaker, call succeeds',
    cases: [
      {
        library: 'cockatiel',
        label: 'circuitBreaker(handleAll, { breaker: ConsecutiveBreaker(5) })',
        make({ cockatiel: c }) {
          const policy = c.circuitBreaker(c.handleAll, {
            halfOpenAfter: breakMs,
            breaker: new c.ConsecutiveBreaker(5),
          });
          return () => policy.execute(work);
        },
      },
      {
        library: 'bulwark',
        label: 'circuitBreaker({ consecutiveFailures: 5 })',
        make({ bulwark }) {
          const policy = bulwark.circuitBreaker(bulwarkConsecutive);
          return () => policy.execute(work);
        },
        budget: closedBudget,
      },
    ],
  },
  {
    id: 'breaker-window',
    title:
      'circuit breaker closed, sliding window (50% of the last 100 calls, min 20), call succeeds',
    cases: [
      {
        library: 'cockatiel',
        label: 'CountBreaker({ threshold: 0.5, size: 100, minimumNumberOfCalls: 20 })',
        make({ cockatiel: c }) {
          const policy = c.circuitBreaker(c.handleAll, {
            halfOpenAfter: breakMs,
            breaker: new c.CountBreaker({ threshold: 0.5, size: 100, minimumNumberOfCalls: 20 }),
          });
          return () => policy.execute(work);
        },
      },
      {
        library: 'opossum',
        label: '50% over a 10 s rolling window, volumeThreshold 20, lean options',
        make({ CircuitBreaker }) {
          const breaker = opossumWindow(CircuitBreaker, work);
          return { run: () => breaker.fire(), teardown: () => breaker.shutdown() };
        },
      },
      {
        library: 'bulwark',
        label: "circuitBreaker({ window: { type: 'count', size: 100 }, failureRate: 0.5 })",
        make({ bulwark }) {
          const policy = bulwark.circuitBreaker(bulwarkWindow);
          return () => policy.execute(work);
        },
        budget: closedBudget,
      },
    ],
  },
  {
    id: 'breaker-open',
    title: 'circuit breaker open: the call is refused',
    expect: 'rejection',
    baseline: {
      label: 'bare: await a call that throws a new Error',
      make: () => () => refuses().then(undefined, caught),
    },
    cases: [
      {
        library: 'cockatiel',
        label: 'ConsecutiveBreaker(5) after 5 failures',
        async make({ cockatiel: c }) {
          const policy = c.circuitBreaker(c.handleAll, {
            halfOpenAfter: breakMs,
            breaker: new c.ConsecutiveBreaker(5),
          });
          await trip((fn) => policy.execute(fn), 5);
          return () => policy.execute(work).then(undefined, caught);
        },
      },
      {
        library: 'opossum',
        label: 'rolling window, opened with breaker.open()',
        make({ CircuitBreaker }) {
          const breaker = opossumWindow(CircuitBreaker, work);
          breaker.open();
          return {
            run: () => breaker.fire().then(undefined, caught),
            teardown: () => breaker.shutdown(),
          };
        },
      },
      {
        library: 'bulwark',
        label: 'consecutiveFailures: 5, after 5 failures',
        async make({ bulwark }) {
          const policy = bulwark.circuitBreaker(bulwarkConsecutive);
          await trip((fn) => policy.execute(fn), 5);
          return () => policy.execute(work).then(undefined, caught);
        },
      },
    ],
  },
];
