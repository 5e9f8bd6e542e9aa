/**
 * Memory per idle circuit breaker: heap after a full GC, divided by the number of breakers.
 * Each breaker has served one successful call first, so state a library builds lazily on
 * first use is counted. Usage: node --expose-gc breaker-memory.mjs <variant> [count]
 */

import { work } from '../lib/tasks.mjs';
import { bulwarkConsecutive, bulwarkWindow, opossumLean } from '../micro/breaker.mjs';
import { activeTimers, argument, libraries, liveTimers, report, settledHeap } from './child.mjs';

const variant = argument(0);
const count = Number(argument(1, 100_000));
const { bulwark, cockatiel: c, CircuitBreaker } = await libraries();

const makers = {
  'bulwark-consecutive': () => bulwark.circuitBreaker?.(bulwarkConsecutive),
  'bulwark-window': () => bulwark.circuitBreaker?.(bulwarkWindow),
  'cockatiel-consecutive': () =>
    c.circuitBreaker(c.handleAll, { halfOpenAfter: 30_000, breaker: new c.ConsecutiveBreaker(5) }),
  'cockatiel-count': () =>
    c.circuitBreaker(c.handleAll, {
      halfOpenAfter: 30_000,
      breaker: new c.CountBreaker({ threshold: 0.5, size: 100, minimumNumberOfCalls: 20 }),
    }),
  'opossum-defaults': () => new CircuitBreaker(work, { timeout: false }),
  'opossum-lean': () =>
    new CircuitBreaker(work, { ...opossumLean, volumeThreshold: 20, resetTimeout: 30_000 }),
};

const make = makers[variant];
if (make === undefined) throw new Error(`unknown variant ${variant}`);
const call = variant.startsWith('opossum') ? (b) => b.fire() : (b) => b.execute(work);

const breakers = new Array(count).fill(undefined);
const timersBefore = liveTimers();
const refTimersBefore = activeTimers();
const before = settledHeap();
const started = performance.now();
for (let i = 0; i < count; i++) breakers[i] = make();
const builtMs = performance.now() - started;
for (let i = 0; i < count; i++) await call(breakers[i]);
const after = settledHeap();
const timers = liveTimers() - timersBefore;
const refTimers = activeTimers() - refTimersBefore;

report({
  variant,
  count,
  bytesPerBreaker: (after - before) / count,
  heapDeltaMB: (after - before) / 2 ** 20,
  timers,
  timersPerBreaker: timers / count,
  refTimers,
  buildMicrosPerBreaker: (builtMs * 1000) / count,
  alive: breakers.length,
});
process.exit(0);
