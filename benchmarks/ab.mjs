// Compares two builds of bulwark in one process: both are loaded side by side and measured in
// interleaved batches, so the noise of a busy machine falls on both alike. For a before/after
// of a change whose cost is a few nanoseconds, below what separate full runs can resolve.
//
//   npx node benchmarks/ab.mjs <before>/dist/index.mjs <after>/dist/index.mjs [case] [batches]
//
// case: timeout | retry | breaker | bulkhead | pipeline | empty (default timeout); batches of
// 100,000 awaited calls (default 15). Prints the median batch and the best batch, in ns a call.
import { pathToFileURL } from 'node:url';

const [beforePath, afterPath, which = 'timeout', batchArg = '15'] = process.argv.slice(2);
if (beforePath === undefined || afterPath === undefined) {
  console.error('usage: ab.mjs <before index.mjs> <after index.mjs> [case] [batches]');
  process.exit(2);
}
const load = (path) => import(pathToFileURL(path).href);
const [before, after] = await Promise.all([load(beforePath), load(afterPath)]);
const batches = Number(batchArg);
const CALLS = 100_000;

const cases = {
  timeout: (b) => b.timeout(1000),
  retry: (b) => b.retry({ maxAttempts: 3 }),
  breaker: (b) => b.circuitBreaker({ consecutiveFailures: 5 }),
  bulkhead: (b) => b.bulkhead({ limit: 10 }),
  pipeline: (b) =>
    b.pipeline(
      b.bulkhead({ limit: 10 }),
      b.retry({ maxAttempts: 3 }),
      b.circuitBreaker({ consecutiveFailures: 5 }),
      b.timeout(1000),
    ),
  empty: (b) => b.pipeline(),
};
const make = cases[which];
if (make === undefined) {
  console.error(`unknown case ${which}; one of ${Object.keys(cases).join(', ')}`);
  process.exit(2);
}

const fn = () => Promise.resolve(1);
const policies = { before: make(before), after: make(after) };

async function batch(policy, n) {
  const start = process.hrtime.bigint();
  if (policy === undefined) for (let i = 0; i < n; i++) await fn();
  else for (let i = 0; i < n; i++) await policy.execute(fn);
  return Number(process.hrtime.bigint() - start) / n;
}

for (let i = 0; i < 3; i++) {
  await batch(undefined, CALLS / 2);
  await batch(policies.before, CALLS / 2);
  await batch(policies.after, CALLS / 2);
}
const times = { bare: [], before: [], after: [] };
for (let i = 0; i < batches; i++) {
  times.bare.push(await batch(undefined, CALLS));
  // Alternate which build goes first, so neither always runs right after the other.
  const order = i % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
  for (const side of order) times[side].push(await batch(policies[side], CALLS));
}
const median = (xs) => xs.toSorted((x, y) => x - y)[xs.length >> 1];
const show = (side) =>
  `${side} ${median(times[side]).toFixed(1)} (best ${Math.min(...times[side]).toFixed(1)})`;
console.log(
  `${which}: bare ${median(times.bare).toFixed(1)} ns; ${show('before')}; ${show('after')}`,
);
