/** Measures the micro families: the libraries of one family in the same process and rounds. */

import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { measure } from 'mitata';
import { runChild } from './child.mjs';
import { benchDir } from './env.mjs';
import { failure, VALUE, work } from './tasks.mjs';

/** What mitata itself uses on Node to estimate the bytes a benchmark allocates. */
function heap() {
  const stats = getHeapStatistics();
  return stats.used_heap_size + stats.malloced_memory;
}

const bare = { label: 'bare: await fn()', make: () => () => work() };

/**
 * A family's first entry is its baseline (by default the bare `await fn()`); every row's
 * ratio is its time over the baseline's, measured in the same rounds.
 */
function entriesOf(family) {
  const baseline = family.baseline ?? bare;
  return [{ ...baseline, library: 'bare', baseline: true }, ...family.cases];
}

function verify(family, result) {
  if (typeof family.expect === 'function') return family.expect(result);
  if (family.expect === 'rejection') {
    if (!(result instanceof Error) || result === failure) {
      throw new Error(`expected a refusal, got ${describe(result)}`);
    }
    return `refused with ${result.constructor.name}`;
  }
  if (result !== VALUE) throw new Error(`returned ${describe(result)}, expected ${VALUE}`);
  return undefined;
}

function describe(value) {
  if (value instanceof Error) return `${value.constructor.name}: ${value.message}`;
  return String(value);
}

function rowOf(family, entry) {
  return {
    family: family.id,
    library: entry.library,
    label: entry.label,
    baseline: entry.baseline === true,
    budget: entry.budget,
    status: 'ok',
  };
}

async function prepare(family, entry, libs) {
  const row = rowOf(family, entry);
  try {
    const made = await entry.make(libs);
    const hooks = typeof made === 'function' ? { run: made } : made;
    // The default baseline is the bare call whatever the family checks in its cases; a
    // family's own baseline does what its cases do, and is checked the same way.
    const checked = entry.baseline === true && family.baseline === undefined ? {} : family;
    row.note = verify(checked, await hooks.run());
    return { row, hooks };
  } catch (error) {
    row.status = 'error';
    row.reason = describe(error);
    return { row };
  }
}

/**
 * Runs `family` in a fresh child process. Families measured one after another in one process
 * skew each other: code shared by several of them (the task, the promise machinery, a
 * library's dispatch) carries type feedback from the earlier ones, and their garbage and
 * timers stay behind. Seen here: in one shared process the bare call measured 75–130 ns instead
 * of 40 ns, and two libraries' bulkhead rows swapped places.
 */
export async function runFamilyInChild(family, options, log) {
  const script = join(benchDir, 'lib', 'micro-child.mjs');
  const result = await runChild(script, [
    family.id,
    String(options.rounds),
    String(options.cpuTimeNs),
  ]);
  if (result.error !== undefined) {
    log(`  error   ${family.id}: ${result.error}`);
    const reason = `the family's process failed: ${result.error}`;
    return entriesOf(family).map((entry) => ({
      ...rowOf(family, entry),
      status: 'error',
      reason,
    }));
  }
  for (const line of result.log) log(line);
  return result.rows;
}

/**
 * Measures every entry in `rounds` rounds, the order rotating each round. Within a round each
 * case is measured right after the baseline, and its ratio is taken from that pair, so a burst
 * of load from elsewhere on the machine skews both sides of a ratio alike. A row reports its
 * fastest round (noise only ever adds time) and the median of its paired ratios.
 */
export async function runFamily(family, libs, options, log) {
  const prepared = [];
  for (const entry of entriesOf(family)) prepared.push(await prepare(family, entry, libs));
  for (const { row } of prepared) {
    if (row.status !== 'ok') log(`  ${row.status.padEnd(7)} ${row.library}: ${row.reason}`);
  }
  const baseline = prepared[0].hooks === undefined ? undefined : prepared[0];
  const cases = prepared.slice(1).filter((p) => p.hooks !== undefined);
  for (const item of [baseline, ...cases]) if (item !== undefined) item.ratios = [];
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const item = cases[(k + round) % cases.length];
      const base = baseline === undefined ? undefined : await sample(baseline, options);
      const stats = await sample(item, options);
      if (base !== undefined) item.ratios.push(stats.avg / base.avg);
    }
    if (cases.length === 0 && baseline !== undefined) await sample(baseline, options);
  }
  for (const item of prepared) await item.hooks?.teardown?.();

  return prepared.map(({ row, best, ratios }) => {
    if (best === undefined) return row;
    return {
      ...row,
      avgNs: best.avg,
      p50Ns: best.p50,
      p99Ns: best.p99,
      heapBytes: best.heap?.avg,
      samples: best.ticks,
      ratio: row.baseline ? 1 : median(ratios),
    };
  });
}

async function sample(item, options) {
  item.hooks.attach?.();
  try {
    const stats = await measure(item.hooks.run, { heap, min_cpu_time: options.cpuTimeNs });
    if (item.best === undefined || stats.avg < item.best.avg) item.best = stats;
    return stats;
  } finally {
    item.hooks.detach?.();
  }
}

function median(values) {
  if (values === undefined || values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
