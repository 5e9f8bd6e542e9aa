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
      const sim = await import('bulwark/sim');
      const otel = await import('bulwark/otel');
      const { chaos, chaosMonkey } = await import('bulwark/chaos');
      const http = await import('bulwark/http');
      const names = ['pipeline', 'retry', 'timeout', 'circuitBreaker', 'bulkhead', 'fallback', 'keyed', 'telemetry', 'backoff'];
      const missing = names.filter((name) => bulwark[name] === undefined);
      const simNames = ['simulate', 'dependency', 'latency', 'openLoop', 'closedLoop', 'rate', 'createRandom', 'formatResults', 'formatSeries', 'formatPriorities'];
      missing.push(...simNames.filter((name) => sim[name] === undefined));
      if (typeof otel.openTelemetry !== 'function') missing.push('openTelemetry');
      const clock = new testing.VirtualClock(5);
      // A clock from 'bulwark/testing' is the simulator's own class: the chunks are shared.
      const result = await sim.simulate({
        clock: new testing.VirtualClock(),
        durationMs: 1000,
        load: sim.openLoop({ rps: 100, arrivals: 'uniform' }),
        dependency: sim.dependency({ capacity: 2, latency: sim.latency.constant(5) }),
        policy: ({ clock }) => bulwark.timeout(50, { clock }),
      });
      // The HTTP adapters are their own entry point, and stay out of the main barrel.
      const httpNames = ['resilientFetch', 'classifyHttp', 'HttpError', 'serverPolicy', 'nodeHttpHandler', 'expressMiddleware', 'fastifyPlugin', 'healthRoutes', 'currentRequest'];
      missing.push(...httpNames.filter((name) => typeof http[name] !== 'function'));
      missing.push(...httpNames.filter((name) => name in bulwark).map((name) => name + ' in the barrel'));
      // Chaos stays out of the main barrel, and its policies are bulwark policies in a pipeline.
      if (bulwark.chaos !== undefined || bulwark.chaosMonkey !== undefined) missing.push('chaos in the barrel');
      const monkey = chaosMonkey({ experiments: [{ name: 'x', probability: 1, impact: chaos.outcome({ value: 'chaos' }) }] });
      if (!(monkey instanceof bulwark.BasePolicy)) missing.push('a shared BasePolicy');
      const injected = await bulwark.pipeline(bulwark.retry(), monkey).execute(() => 'real');
      // bulwark/prometheus listens on the same bus the main entry's policies emit to.
      const { prometheusMetrics } = await import('bulwark/prometheus');
      const { Registry } = await import('prom-client');
      const registry = new Registry();
      const detach = prometheusMetrics({ registry });
      await bulwark.retry({ name: 'probe-retry' }).execute(() => 1);
      const scraped = (await registry.metrics()).includes('retry_attempts_total{policy="probe-retry",result="success"} 1');
      detach();
      console.log(JSON.stringify({ missing, now: clock.now(), ok: result.outcomes.ok, injected, scraped }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: root,
    });
    expect(JSON.parse(stdout)).toEqual({
      missing: [],
      now: 5,
      ok: 100,
      injected: 'chaos',
      scraped: true,
    });
  });
});
