/** Helpers for the scale cases, each of which runs alone in a child process. */
import { createRequire } from 'node:module';
import { activeTimers, benchDir, loadBulwark, settledHeap } from '../lib/env.mjs';

const require = createRequire(`${benchDir}/package.json`);

export { activeTimers, settledHeap };

/**
 * Every timer made in this process, so that live ones can be counted even when unref'd:
 * `process.getActiveResourcesInfo()` lists only referenced timers, and opossum unrefs its
 * per-breaker intervals. A Node Timeout is `_destroyed` once cleared or fired.
 */
const made = [];
for (const name of ['setTimeout', 'setInterval']) {
  const original = globalThis[name];
  globalThis[name] = function tracked(...args) {
    const timer = original(...args);
    made.push(timer);
    return timer;
  };
}

/** Live timers, referenced or not, made since the last call; forgets the dead ones. */
export function liveTimers() {
  let live = 0;
  for (let i = 0; i < made.length; i++) {
    if (made[i]._destroyed) continue;
    made[live++] = made[i];
  }
  made.length = live;
  return live;
}

export async function libraries() {
  const [bulwark, cockatiel] = await Promise.all([
    loadBulwark(),
    import(require.resolve('cockatiel')),
  ]);
  return { bulwark, cockatiel, CircuitBreaker: require('opossum') };
}

/** Lets pending callbacks, microtasks and immediates run. */
export const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Prints the result as the last line of output, which the parent parses. */
export function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export function argument(at, fallback) {
  const value = process.argv[2 + at];
  return value === undefined ? fallback : value;
}

if (typeof globalThis.gc !== 'function') {
  report({ error: 'run with --expose-gc' });
  process.exit(1);
}
