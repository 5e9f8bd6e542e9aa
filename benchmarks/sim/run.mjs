/**
 * The simulator's proof of overload protection: one dependency, offered half and then twice
 * its capacity, with no protection, with retries, and with a bulkhead and a timeout. Runs the
 * built package (`npm run build` first; `npm run bench:sim` does both) in virtual time and
 * prints Markdown tables, then how fast the simulation ran on this machine.
 * `node benchmarks/sim/run.mjs [--seed N] [--duration-ms N]`
 */
import { parseArgs } from 'node:util';
import { backoff, bulkhead, pipeline, retry, timeout } from '../../dist/index.mjs';
import {
  dependency,
  formatResults,
  formatSeries,
  latency,
  openLoop,
  simulate,
} from '../../dist/sim/index.mjs';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    'duration-ms': { type: 'string', default: '60000' },
  },
});
const seed = Number(values.seed);
const durationMs = Number(values['duration-ms']);

// 50 workers at a log-normal latency (median 20 ms, p99 100 ms): about 1,970 calls/s.
const service = dependency({
  capacity: 50,
  latency: latency.logNormal({ medianMs: 20, p99Ms: 100 }),
});
const capacityRps = service.capacityRps;
const deadlineMs = 1_000;

const scenarios = {
  '0.5x, no policy': { rps: capacityRps / 2 },
  '2x, no policy': { rps: capacityRps * 2 },
  '2x, retry (3 attempts) + timeout 250 ms per attempt': {
    rps: capacityRps * 2,
    policy: ({ clock, random }) =>
      pipeline(
        retry({ maxAttempts: 3, clock, random, backoff: backoff.exponential({ initialMs: 50 }) }),
        timeout(250, { clock }),
      ),
  },
  '2x, bulkhead (50, queue 25) + timeout 250 ms': {
    rps: capacityRps * 2,
    policy: ({ clock }) =>
      pipeline(bulkhead({ limit: 50, queue: 25, clock }), timeout(250, { clock })),
  },
};

const results = {};
const speed = [];
for (const [name, { rps, policy }] of Object.entries(scenarios)) {
  const started = performance.now();
  const result = await simulate({
    seed,
    durationMs,
    load: openLoop({ rps }),
    dependency: service,
    policy,
    deadlineMs,
  });
  const realMs = performance.now() - started;
  results[name] = result;
  speed.push(
    `| ${name} | ${result.offered.toLocaleString('en-US')} | ${(result.endMs / 1000).toFixed(1)} | ${realMs.toFixed(0)} | ${Math.round(result.offered / (realMs / 1000)).toLocaleString('en-US')} |`,
  );
}

console.log(
  `Dependency: capacity 50, log-normal latency (median 20 ms, p99 100 ms): ${Math.round(capacityRps)} calls/s. ` +
    `Open-loop Poisson load for ${durationMs / 1000} s, client deadline ${deadlineMs} ms, seed ${seed}.\n`,
);
console.log(formatResults(results));
console.log('\nTime series of "2x, no policy" (every 10th second):\n');
console.log(formatSeries(results['2x, no policy'], 10));
console.log(
  '\nTime series of "2x, bulkhead (50, queue 25) + timeout 250 ms" (every 10th second):\n',
);
console.log(formatSeries(results['2x, bulkhead (50, queue 25) + timeout 250 ms'], 10));
console.log(`\nSimulation speed (Node ${process.version}):\n`);
console.log('| scenario | calls | virtual s | real ms | calls per real second |');
console.log('| --- | --- | --- | --- | --- |');
console.log(speed.join('\n'));
