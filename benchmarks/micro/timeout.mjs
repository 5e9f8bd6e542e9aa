import { idleSignal, readsSignal, work } from '../lib/tasks.mjs';
import { opossumLean } from './breaker.mjs';
import { floors } from './floor.mjs';

const budgetMs = 1000;

/**
 * opossum has no timeout of its own: its `timeout` option belongs to a circuit breaker, so its
 * rows include the breaker's cost (with the same lean options as the breaker rows). Its
 * timeout rejects at the deadline whether or not the function stops; cockatiel and bulwark
 * are measured in their cooperative modes, which abort the signal and let the function stop.
 */
function opossumTimeout(CircuitBreaker, action, extra) {
  return new CircuitBreaker(action, {
    ...opossumLean,
    timeout: budgetMs,
    errorThresholdPercentage: 50,
    resetTimeout: 30_000,
    ...extra,
  });
}

async function handRolled() {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), budgetMs);
  try {
    return await readsSignal({ signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

export default [
  {
    id: 'timeout',
    title: 'timeout 1 s, the function ignores its signal',
    cases: [
      {
        library: 'cockatiel',
        label: 'timeout(1000, TimeoutStrategy.Cooperative)',
        make({ cockatiel: c }) {
          const policy = c.timeout(budgetMs, c.TimeoutStrategy.Cooperative);
          return () => policy.execute(work);
        },
      },
      {
        library: 'opossum',
        label: 'breaker with { timeout: 1000 }, lean options',
        make({ CircuitBreaker }) {
          const breaker = opossumTimeout(CircuitBreaker, work);
          return { run: () => breaker.fire(), teardown: () => breaker.shutdown() };
        },
      },
      {
        library: 'bulwark',
        label: 'timeout(1000)',
        make({ bulwark }) {
          const policy = bulwark.timeout(budgetMs);
          return () => policy.execute(work);
        },
        budget: {
          id: 'timeout-unread',
          text: 'timeout, signal unread ≤2× bare',
          maxRatio: 2,
          floor: floors.timeout,
        },
      },
    ],
  },
  {
    id: 'timeout-signal',
    title: 'timeout 1 s, the function passes ctx.signal to its I/O (check + add/remove listener)',
    baseline: {
      label: 'bare: await fn({ signal }) with a signal nobody aborts',
      make: () => () => readsSignal({ signal: idleSignal }),
    },
    cases: [
      {
        library: 'node',
        label: 'hand-rolled: AbortController + setTimeout, cleared when fn settles',
        make: () => handRolled,
      },
      {
        library: 'cockatiel',
        label: 'timeout(1000, TimeoutStrategy.Cooperative)',
        make({ cockatiel: c }) {
          const policy = c.timeout(budgetMs, c.TimeoutStrategy.Cooperative);
          return () => policy.execute(readsSignal);
        },
      },
      {
        library: 'opossum',
        label: 'breaker with { timeout: 1000, abortController } (one controller for all calls)',
        make({ CircuitBreaker }) {
          const controller = new AbortController();
          const context = { signal: controller.signal };
          const breaker = opossumTimeout(CircuitBreaker, () => readsSignal(context), {
            abortController: controller,
          });
          return { run: () => breaker.fire(), teardown: () => breaker.shutdown() };
        },
      },
      {
        library: 'bulwark',
        label: 'timeout(1000)',
        make({ bulwark }) {
          const policy = bulwark.timeout(budgetMs);
          return () => policy.execute(readsSignal);
        },
        budget: { id: 'timeout-read', text: 'timeout, signal read ≤4× bare', maxRatio: 4 },
      },
    ],
  },
];
