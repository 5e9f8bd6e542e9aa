import type { SimulationResult } from './result.js';

/** A number for a table: thousands separated, at most `digits` decimals. */
function num(value: number, digits = 1): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

function percent(share: number): string {
  return `${num(share * 100, 1)}%`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [header, header.map(() => '---'), ...rows].map(
    (cells) => `| ${cells.join(' | ')} |`,
  );
  return lines.join('\n');
}

/** Outcome counts in one cell, 'ok' first, then most frequent first: 'ok 9,512 · LOAD_SHED 300'. */
function outcomes(counts: Readonly<Record<string, number>>): string {
  const rank = ([outcome, n]: [string, number]): number => (outcome === 'ok' ? Infinity : n);
  return Object.entries(counts)
    .sort((a, b) => rank(b) - rank(a) || (a[0] < b[0] ? -1 : 1))
    .map(([outcome, n]) => `${outcome} ${num(n, 0)}`)
    .join(' · ');
}

/**
 * One row per run, for comparing scenarios (say, with and without a policy) side by side:
 * offered and good calls per second, goodput's share of offered load and of capacity, latency
 * of successful calls, load multiplication and how calls ended.
 */
export function formatResults(results: Readonly<Record<string, SimulationResult>>): string {
  const header = [
    'scenario',
    'offered/s',
    'goodput/s',
    'of offered',
    'of capacity',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'attempts/call',
    'outcomes',
  ];
  const rows = Object.entries(results).map(([name, r]) => [
    name,
    num(r.offeredRps),
    num(r.goodput.rps),
    percent(r.goodput.ofOffered),
    percent(r.goodput.ofCapacity),
    num(r.latency.succeeded.p50),
    num(r.latency.succeeded.p99),
    num(r.latency.succeeded.p999),
    num(r.loadMultiplication, 2),
    outcomes(r.outcomes),
  ]);
  return table(header, rows);
}

/** One row per priority of one run: offered, share served in time, how the calls ended. */
export function formatPriorities(result: SimulationResult): string {
  const rows = Object.entries(result.byPriority).map(([priority, p]) => [
    priority,
    num(p!.offered, 0),
    percent(p!.goodShare),
    outcomes(p!.outcomes),
  ]);
  return table(['priority', 'offered', 'good', 'outcomes'], rows);
}

/** The run's time series, one row per bucket (`every` > 1 keeps one row in `every`). */
export function formatSeries(result: SimulationResult, every = 1): string {
  const rows = result.series
    .filter((_, i) => i % every === 0)
    .map((b) => [
      num(b.startMs / 1000, 1),
      num(b.offered, 0),
      num(b.succeeded, 0),
      num(b.failed, 0),
      num(b.attempts, 0),
      num(b.p99Ms),
      num(b.inService),
      num(b.queued),
    ]);
  return table(
    ['t (s)', 'offered', 'good', 'failed', 'attempts', 'p99 ms', 'in service', 'queued'],
    rows,
  );
}
