import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { prometheusMetrics } from '../src/adapters/prometheus/index.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const rules = join(root, 'alerts/bulwark.rules.yml');
const tests = readdirSync(join(root, 'alerts/tests'))
  .filter((name) => name.endsWith('.yml'))
  .map((name) => join(root, 'alerts/tests', name));

/** promtool's path, or undefined when it is not installed (`.ci/run` installs it). */
function findPromtool(): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, 'promtool'))
    .find((path) => existsSync(path));
}

describe('alerts/bulwark.rules.yml', () => {
  it('passes promtool check rules and its unit tests (promtool test rules)', async (context) => {
    const promtool = findPromtool();
    if (promtool === undefined) {
      if (process.env.CI) throw new Error('promtool is not installed: .ci/run installs it');
      context.skip('promtool is not installed (Debian: apt-get install prometheus); CI runs it');
      return;
    }
    const checked = await run(promtool, ['check', 'rules', rules]);
    expect(checked.stdout).toContain('SUCCESS: 8 rules found');
    const tested = await run(promtool, ['test', 'rules', ...tests]);
    expect(tested.stdout).not.toContain('FAILED');
    expect(tested.stdout.match(/SUCCESS/g)).toHaveLength(tests.length);
  });

  it('uses only metrics that prometheusMetrics exports', async () => {
    const registry = new Registry();
    const stop = prometheusMetrics({ registry });
    const exported = new Set<string>();
    for (const metric of await registry.getMetricsAsJSON()) {
      exported.add(metric.name);
      if (metric.type === ('histogram' as never)) {
        for (const part of ['_bucket', '_sum', '_count']) exported.add(`${metric.name}${part}`);
      }
    }
    stop();
    const text = readFileSync(rules, 'utf8');
    const expressions = [...text.matchAll(/expr: (?:\|\n)?((?:.+\n)+?)\s+(?:for|labels):/g)];
    const used = new Set(
      expressions.flatMap(([, expr]) =>
        [...expr!.matchAll(/\b([a-z_]+)(?=\{|\[| ==)/g)].map((m) => m[1]!),
      ),
    );
    const functions = ['rate', 'increase', 'sum', 'histogram_quantile', 'without'];
    const missing = [...used].filter((name) => !functions.includes(name) && !exported.has(name));
    expect(used.size).toBeGreaterThan(5);
    expect(missing).toEqual([]);
  });
});
