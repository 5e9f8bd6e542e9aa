/**
 * One rate limiter asked about N distinct keys, one decision each (`consume`): heap after a
 * full GC per key kept, time per decision, live timers. Variants: 'all' keeps every key
 * (maxKeys = N), so bytes/key is the cost of one bucket; 'bounded' keeps the default maxKeys,
 * showing that a stream of distinct keys stays within it.
 * Usage: node --expose-gc rate-limiter-keys.mjs <all|bounded> [count]
 */
import { argument, libraries, liveTimers, report, settledHeap } from './child.mjs';

const variant = argument(0);
const count = Number(argument(1, 1_000_000));
const { bulwark } = await libraries();

const options = { all: { maxKeys: count }, bounded: {} };
if (!(variant in options)) throw new Error(`unknown variant ${variant}`);

const keys = Array.from({ length: count }, (_, i) => `tenant-${i}`);
const limiter = bulwark.rateLimiter({ limit: 100, intervalMs: 1000, ...options[variant] });
const ask = { key: '' };
const timersBefore = liveTimers();
const before = settledHeap();
const t0 = performance.now();
for (let i = 0; i < count; i++) {
  ask.key = keys[i];
  await limiter.consume(ask);
}
const callNs = ((performance.now() - t0) * 1e6) / count;
const after = settledHeap();

report({
  variant,
  count,
  keysKept: limiter.store.size,
  bytesPerKey: (after - before) / limiter.store.size,
  heapDeltaMB: (after - before) / 2 ** 20,
  rssMB: process.memoryUsage.rss() / 2 ** 20,
  callNs,
  timers: liveTimers() - timersBefore,
  keys: keys.length,
});
process.exit(0);
