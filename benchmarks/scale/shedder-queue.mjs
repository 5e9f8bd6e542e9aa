/**
 * A load shedder with one slot held and a long queue: the time to queue one more call (and to
 * take it out again by abort) with `depth` calls already waiting, and the time for a critical
 * arrival to evict a sheddable waiter from a full queue. O(1) admission means the times at
 * 10 and at 100,000 queued are about the same.
 * Usage: node --expose-gc shedder-queue.mjs <queue|evict> [depth]
 */
import { argument, libraries, report } from './child.mjs';

const variant = argument(0);
const depth = Number(argument(1, 100_000));
const { bulwark } = await libraries();
const OPS = 20_000;

let release = () => {};
const hold = () => new Promise((resolve) => (release = resolve));
const never = () => new Promise(() => {});
const swallow = () => {};

async function timed(operation) {
  const t0 = performance.now();
  for (let i = 0; i < OPS; i++) operation(i);
  await new Promise((resolve) => setImmediate(resolve));
  return ((performance.now() - t0) * 1e6) / OPS;
}

if (variant === 'queue') {
  const shedder = bulwark.loadShedder({ limit: 1, queue: depth + OPS });
  const running = shedder.execute(hold);
  for (let i = 0; i < depth; i++) shedder.execute(never).catch(swallow);
  const controllers = Array.from({ length: OPS }, () => new AbortController());
  const ns = await timed((i) => {
    shedder.execute(never, { signal: controllers[i].signal }).catch(swallow);
    controllers[i].abort('done');
  });
  report({ variant, depth, queued: shedder.queued, nsPerCall: ns });
  release();
  await running;
} else if (variant === 'evict') {
  const shedder = bulwark.loadShedder({ limit: 1, queue: depth, thresholds: { sheddable: 1 } });
  const running = shedder.execute(hold);
  for (let i = 0; i < depth; i++) {
    shedder.execute(never, { priority: 'sheddable' }).catch(swallow);
  }
  const ns = await timed(() => {
    shedder.execute(never, { priority: 'critical' }).catch(swallow);
  });
  report({ variant, depth, queued: shedder.queued, nsPerCall: ns });
  release();
  await running;
} else {
  throw new Error(`unknown variant ${variant}`);
}
process.exit(0);
