import { work } from '../lib/tasks.mjs';

/**
 * Reference rows, no library: what any wrapper that waits for the outcome of `fn` costs at the
 * least. A policy that must see the outcome (to count a failure, release a slot, retry) adds
 * at least one promise reaction; these rows show that floor in the same run.
 */
async function wrap1() {
  return await work();
}

async function layer(depth) {
  return depth === 0 ? await work() : await layer(depth - 1);
}

const identity = (value) => value;

// Read the way bulwark's system clock reads it, so the row shows what one read costs a policy.
const perf = performance;

export default [
  {
    id: 'floor',
    title: 'reference: the least a wrapper that waits for fn can cost',
    cases: [
      {
        library: 'reference',
        label: 'fn().then(identity)',
        make: () => () => work().then(identity),
      },
      {
        library: 'reference',
        label: 'a clock read and one reaction: the least a timeout can cost',
        make: () => () => {
          perf.now();
          return work().then(identity);
        },
      },
      {
        library: 'reference',
        label: 'one async wrapper: async () => await fn()',
        make: () => wrap1,
      },
      {
        library: 'reference',
        label: 'four chained reactions: fn().then(identity) ×4',
        make: () => () => work().then(identity).then(identity).then(identity).then(identity),
      },
      {
        library: 'reference',
        label: 'four nested async wrappers',
        make: () => () => layer(3),
      },
      {
        library: 'bulwark',
        label: 'pipeline() with no policies: the cost of execute() alone',
        make({ bulwark }) {
          const empty = bulwark.pipeline();
          return () => empty.execute(work);
        },
      },
    ],
  },
];
