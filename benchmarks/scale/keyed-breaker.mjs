/**
 * One keyed circuit breaker, `keyed(() => circuitBreaker(...))`, serving N distinct keys with
 * one successful call each: heap after a full GC, per key, time per call, and live timers.
 * Variants: 'all' keeps every key (maxKeys = N), so bytes/key is the cost of one key's
 * breaker and bookkeeping; 'bounded' keeps the default maxKeys, showing that a stream of
 * distinct keys stays within it.
 * Usage: node --expose-gc keyed-breaker.mjs <all|bounded> [count]
 */
import { work } from '../lib/tasks.mjs';
import { bulwarkConsecutive } from '../micro/breaker.mjs';
import { argument, libraries, liveTimers, report, settledHeap } from './child.mjs';

const variant = argument(0);
const count = Number(argument(1, 1_000_000));
const { bulwark } = await libraries();

const options = { all: { maxKeys: count }, bounded: undefined };
if (!(variant in options)) throw new Error(`unknown variant ${variant}`);

const keys = Array.from({ length: count }, (_, i) => `tenant-${i}`);
const breaker = bulwark.keyed(() => bulwark.circuitBreaker(bulwarkConsecutive), options[variant]);
const call = { key: '' };
const timersBefore = liveTimers();
const before = settledHeap();
const t0 = performance.now();
for (let i = 0; i < count; i++) {
  call.key = keys[i];
  await breaker.execute(work, call);
}
const callNs = ((performance.now() - t0) * 1e6) / count;
const after = settledHeap();

report({
  variant,
  count,
  keysKept: breaker.size,
  bytesPerKey: (after - before) / breaker.size,
  heapDeltaMB: (after - before) / 2 ** 20,
  rssMB: process.memoryUsage.rss() / 2 ** 20,
  callNs,
  timers: liveTimers() - timersBefore,
  // Keeps the key strings alive until after the measurement, as they were before it.
  keys: keys.length,
});
process.exit(0);
