/**
 * N calls in flight at once through one timeout policy (1 minute budget, never reached): the
 * heap each in-flight call holds, how many timers are armed while they wait, and how long it
 * takes from releasing them all to every call settling.
 * Usage: node --expose-gc timeout-inflight.mjs <library> <unread|read> [count]
 */
import { opossumLean } from '../micro/breaker.mjs';
import {
  activeTimers,
  argument,
  libraries,
  liveTimers,
  report,
  settledHeap,
  turn,
} from './child.mjs';

const library = argument(0);
const variant = argument(1, 'unread');
const count = Number(argument(2, 100_000));
const budgetMs = 60_000;
const { bulwark, cockatiel: c, CircuitBreaker } = await libraries();

let release;
const gate = new Promise((resolve) => {
  release = resolve;
});
function onAbort() {}
const fns = {
  unread: async () => {
    await gate;
    return 1;
  },
  read: async (ctx) => {
    const signal = ctx.signal;
    signal.throwIfAborted();
    signal.addEventListener('abort', onAbort);
    try {
      await gate;
      return 1;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  },
};
const fn = fns[variant];
if (fn === undefined) throw new Error(`unknown variant ${variant}`);

function starter() {
  switch (library) {
    case 'bare': {
      const idle = { signal: new AbortController().signal };
      return () => fn(idle);
    }
    case 'bulwark': {
      const policy = bulwark.timeout(budgetMs);
      return () => policy.execute(fn);
    }
    case 'cockatiel': {
      const policy = c.timeout(budgetMs, c.TimeoutStrategy.Cooperative);
      return () => policy.execute(fn);
    }
    case 'opossum': {
      // opossum hands the function only the arguments of fire(): pass it its shared signal.
      const controller = new AbortController();
      const context = { signal: controller.signal };
      const breaker = new CircuitBreaker(() => fn(context), {
        ...opossumLean,
        timeout: budgetMs,
        abortController: controller,
      });
      return () => breaker.fire();
    }
    default:
      throw new Error(`unknown library ${library}`);
  }
}

const start = starter();
const calls = new Array(count).fill(undefined);
const timersBefore = liveTimers();
const before = settledHeap();
const t0 = performance.now();
for (let i = 0; i < count; i++) calls[i] = start();
const startMs = performance.now() - t0;
await turn();
const inFlight = settledHeap();
const timers = liveTimers() - timersBefore;
const refTimers = activeTimers();

const t1 = performance.now();
release();
const results = await Promise.allSettled(calls);
const settleMs = performance.now() - t1;
await turn();
const failed = results.filter((r) => r.status === 'rejected').length;

report({
  library,
  variant,
  count,
  bytesPerCall: (inFlight - before) / count,
  heapDeltaMB: (inFlight - before) / 2 ** 20,
  timers,
  refTimers,
  timersAfter: liveTimers(),
  startMs,
  settleMs,
  failed,
});
process.exit(0);
