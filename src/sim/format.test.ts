import { describe, expect, it } from 'vitest';
import {
  dependency,
  formatPriorities,
  formatResults,
  formatSeries,
  latency,
  openLoop,
  simulate,
} from './index.js';

describe('formatters', () => {
  it('print results as markdown tables', async () => {
    const result = await simulate({
      durationMs: 2_000,
      load: openLoop({ rps: 100, arrivals: 'uniform', priorities: { critical: 1, sheddable: 1 } }),
      dependency: dependency({
        capacity: 10,
        latency: latency.constant(10),
        changes: [{ atMs: 1_000, failureRate: 1 }],
      }),
      deadlineMs: 100,
    });
    expect(formatResults({ outage: result }).split('\n')).toEqual([
      '| scenario | offered/s | goodput/s | of offered | of capacity | p50 ms | p99 ms | p99.9 ms | attempts/call | outcomes |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      '| outage | 100 | 50 | 50% | 5% | 10 | 10 | 10 | 1 | ok 100 · DEPENDENCY_FAILED 100 |',
    ]);
    const priorities = formatPriorities(result).split('\n');
    expect(priorities[0]).toBe('| priority | offered | good | outcomes |');
    expect(priorities[2]).toMatch(
      /^\| critical \| \d+ \| 5\d(\.\d)?% \| ok \d+ · DEPENDENCY_FAILED \d+ \|$/,
    );
    expect(priorities[3]).toMatch(/^\| sheddable \| /);
    expect(formatSeries(result).split('\n')).toEqual([
      '| t (s) | offered | good | failed | attempts | p99 ms | in service | queued |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      // Calls count where they end: the one from 995 ms ends at 1005, the last one at 2005.
      '| 0 | 100 | 99 | 0 | 100 | 10 | 1 | 0 |',
      '| 1 | 100 | 1 | 99 | 100 | 10 | 1 | 0 |',
      '| 2 | 0 | 0 | 1 | 0 | 0 | 1 | 0 |',
    ]);
  });
});
