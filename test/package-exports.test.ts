import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');

describe('the built package', () => {
  it('builds, and its subpath exports load by name', async () => {
    await run(process.execPath, [join(root, 'node_modules/tsdown/dist/run.mjs')], { cwd: root });
    const probe = `
      const bulwark = await import('bulwark');
      const testing = await import('bulwark/testing');
      const names = ['pipeline', 'retry', 'timeout', 'circuitBreaker', 'bulkhead', 'fallback', 'keyed', 'telemetry', 'backoff'];
      const missing = names.filter((name) => bulwark[name] === undefined);
      const clock = new testing.VirtualClock(5);
      console.log(JSON.stringify({ missing, now: clock.now() }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: root,
    });
    expect(JSON.parse(stdout)).toEqual({ missing: [], now: 5 });
  });
});
