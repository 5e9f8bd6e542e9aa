/** The scale cases: each measurement runs alone in a fresh child process with --expose-gc. */
import { join } from 'node:path';
import { runChild } from './child.mjs';
import { benchDir } from './env.mjs';

const memoryBudget = {
  id: 'breaker-memory',
  text: 'memory per idle breaker ≤500 B',
  check: (r) => ({ measured: r.bytesPerBreaker, unit: 'B', pass: r.bytesPerBreaker <= 500 }),
};
const timerBudget = {
  id: 'inflight-timers',
  text: '100k in-flight timeouts: bounded timers (≤10, not one per call)',
  check: (r) => ({ measured: r.timers, unit: 'live timers', pass: r.timers <= 10 }),
};
const keyedBudget = {
  id: 'keyed-bound',
  text: '1M distinct keys through a keyed breaker: ≤10,000 keys kept (its maxKeys), heap ≤32 MB, runs in a 96 MB old space',
  check: (r) => ({
    measured: r.keysKept,
    unit: `keys kept, heap ${r.heapDeltaMB.toFixed(1)} MB, rss ${r.rssMB.toFixed(0)} MB`,
    pass: r.keysKept <= 10_000 && r.heapDeltaMB <= 32,
  }),
};

const limiterKeysBudget = {
  id: 'rate-limiter-keys',
  text: '1M distinct keys through a rate limiter: ≤100,000 buckets kept (its maxKeys), heap ≤64 MB',
  check: (r) => ({
    measured: r.keysKept,
    unit: `buckets kept, ${Math.round(r.bytesPerKey)} B each, heap ${r.heapDeltaMB.toFixed(1)} MB`,
    pass: r.keysKept <= 100_000 && r.heapDeltaMB <= 64,
  }),
};

export const scaleFamilies = [
  {
    id: 'scale-breaker-memory',
    title: 'memory per idle circuit breaker (each served one call; heap after GC / count)',
    script: 'breaker-memory.mjs',
    count: 100_000,
    runs: [
      { args: ['bulwark-consecutive'], library: 'bulwark', budget: memoryBudget },
      { args: ['bulwark-window'], library: 'bulwark', budget: memoryBudget },
      { args: ['cockatiel-consecutive'], library: 'cockatiel' },
      { args: ['cockatiel-count'], library: 'cockatiel' },
      { args: ['opossum-defaults'], library: 'opossum' },
      { args: ['opossum-lean'], library: 'opossum' },
    ],
  },
  {
    id: 'scale-timeout-inflight',
    title: 'calls in flight at once through one timeout policy (60 s budget, never reached)',
    script: 'timeout-inflight.mjs',
    count: 100_000,
    runs: ['unread', 'read'].flatMap((variant) => [
      { args: ['bare', variant], library: 'bare' },
      { args: ['bulwark', variant], library: 'bulwark', budget: timerBudget },
      { args: ['cockatiel', variant], library: 'cockatiel' },
      { args: ['opossum', variant], library: 'opossum' },
    ]),
  },
  {
    id: 'scale-keyed-breaker',
    title: 'keyed(() => circuitBreaker(...)), one call per distinct key',
    script: 'keyed-breaker.mjs',
    count: 1_000_000,
    runs: [
      { args: ['all'], library: 'bulwark' },
      // A capped heap makes the resident set mean something: V8 otherwise lets old space grow
      // far past what is live before it collects.
      {
        args: ['bounded'],
        library: 'bulwark',
        budget: keyedBudget,
        nodeArgs: ['--max-old-space-size=96'],
      },
    ],
  },
  {
    id: 'scale-rate-limiter-keys',
    title:
      'rateLimiter({ limit: 100, intervalMs: 1000 }).consume({ key }), one call per distinct key',
    script: 'rate-limiter-keys.mjs',
    count: 1_000_000,
    runs: [
      { args: ['all'], library: 'bulwark' },
      { args: ['bounded'], library: 'bulwark', budget: limiterKeysBudget },
    ],
  },
  {
    id: 'scale-shedder-queue',
    title: 'loadShedder with one slot held: time per queued call (or eviction) at a queue depth',
    script: 'shedder-queue.mjs',
    // The depth; scaled like the other counts.
    count: 100_000,
    runs: [
      { args: ['queue'], library: 'bulwark', depth: 10 },
      { args: ['queue'], library: 'bulwark' },
      { args: ['evict'], library: 'bulwark', depth: 10 },
      { args: ['evict'], library: 'bulwark' },
    ],
  },
];

export async function runScaleFamily(family, options, log) {
  const count = Math.max(1, Math.round(family.count * options.scaleFactor));
  const rows = [];
  for (const run of family.runs) {
    const args = [...run.args, String(run.depth ?? count)];
    const result = await runChild(join(benchDir, 'scale', family.script), args, run.nodeArgs);
    const row = {
      family: family.id,
      library: run.library,
      label: [run.args.join(' '), `×${(run.depth ?? count).toLocaleString('en-US')}`]
        .filter(Boolean)
        .join(' '),
      count: run.depth ?? count,
      status: 'ok',
    };
    if (result.error !== undefined) {
      row.status = 'error';
      row.reason = result.error;
      // A budget whose case broke has failed: it must never pass by not running.
      if (run.budget !== undefined) {
        row.scaleBudget = { ...run.budget, pass: false, measured: 'error:', unit: result.error };
      }
    } else {
      row.result = result;
      if (run.budget !== undefined)
        row.scaleBudget = { ...run.budget, ...run.budget.check(result) };
    }
    if (row.status !== 'ok') log(`  ${row.status.padEnd(7)} ${row.label}: ${row.reason}`);
    rows.push(row);
  }
  return rows;
}
