import { work } from '../lib/tasks.mjs';

/**
 * Reference rows, no library: the least a wrapper around `fn` can cost. A policy that must see
 * the outcome (to count a failure, release a slot, retry) adds at least one promise reaction,
 * and a timeout also reads the clock. These rows measure those pieces in the same run as
 * everything else, so a budget can be checked against what is possible at all; bulwark's own
 * row shows what its `execute()` adds before any policy runs (the context handed to `fn`).
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

/**
 * The floor rows that budgets are set against: report.mjs shows each beside its budget, as
 * `short`, so a budget below what any implementation can reach is plain to see.
 */
export const floors = {
  reaction: { label: 'fn().then(identity): one reaction', short: 'one reaction' },
  timeout: { label: 'a clock read and one reaction', short: 'clock read + one reaction' },
  fourLayers: {
    label: 'a clock read and four chained reactions',
    short: 'clock read + four reactions',
  },
};

export default [
  {
    id: 'floor',
    title: 'reference: the least a wrapper around fn can cost',
    cases: [
      {
        library: 'reference',
        label: floors.reaction.label,
        make: () => () => work().then(identity),
      },
      {
        library: 'reference',
        label: floors.timeout.label,
        make: () => () => {
          perf.now();
          return work().then(identity);
        },
      },
      {
        library: 'reference',
        label: floors.fourLayers.label,
        make: () => () => {
          perf.now();
          return work().then(identity).then(identity).then(identity).then(identity);
        },
      },
      {
        library: 'reference',
        label: 'one async wrapper: async () => await fn()',
        make: () => wrap1,
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
