/**
 * A closed-loop family: every variant's server runs at once, each in its own process (idle
 * ones cost nothing), and the variants are measured in interleaved rounds, A B C, B C A, ...,
 * so that drift on the machine touches all of them alike.
 */
import { closedLoop } from './closed-loop.mjs';
import { startServer } from './server-process.mjs';
import { serverVariants } from './servers/index.mjs';

/**
 * One measurement of a variant, with the share of a core its server used meanwhile, the CPU
 * time it spent per request, and the share of a core the load generator used (near 100%, it
 * may be what limits the req/s). CPU time counts only while the server runs, so it stays
 * comparable when other processes take turns on the core and the req/s drop.
 */
async function sample(server, load) {
  const before = await server.usage();
  const client = process.cpuUsage();
  const result = await closedLoop(server.url, load);
  const { user, system } = process.cpuUsage(client);
  const after = await server.usage();
  const cpuMs = after.cpuMs - before.cpuMs;
  const elapsedMs = after.atMs - before.atMs;
  return {
    ...result,
    serverCpu: cpuMs / elapsedMs,
    cpuUsPerRequest: (cpuMs * 1000) / result.requests,
    clientCpu: (user + system) / 1000 / elapsedMs,
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Rows of `{ variant, library, label, status, ... }`: the round with the median req/s, and
 * `ratio`, the median over rounds of req/s over the first variant's (the bare server) in the
 * same round.
 */
export async function runClosedFamily(family, settings, pin, log) {
  const items = [];
  for (const variant of serverVariants[family.id]) {
    const row = { variant: variant.id, library: variant.library, label: variant.label };
    try {
      items.push({ row, server: await startServer(family.id, variant.id, {}, pin), rounds: [] });
    } catch (error) {
      log(`  error   ${variant.id}: ${error.message}`);
      items.push({ row: { ...row, status: 'error', reason: error.message } });
    }
  }
  const live = items.filter((item) => item.server !== undefined);
  const load = { connections: settings.connections, pipelining: settings.pipelining };
  for (const item of live) {
    await closedLoop(item.server.url, { ...load, durationS: settings.warmupS });
  }
  for (let round = 0; round < settings.rounds; round++) {
    for (let k = 0; k < live.length; k++) {
      const item = live[(k + round) % live.length];
      item.rounds[round] = await sample(item.server, { ...load, durationS: settings.durationS });
      log(`  round ${round + 1} ${item.row.variant}: ${item.rounds[round].rps.toFixed(0)} req/s`);
    }
  }
  await Promise.all(live.map((item) => item.server.stop()));

  const baseline = items[0];
  return items.map(({ row, rounds }) => {
    if (rounds === undefined) return row;
    const byRps = [...rounds].sort((a, b) => a.rps - b.rps);
    const chosen = byRps[(byRps.length - 1) >> 1];
    const ratios = baseline.rounds?.length
      ? rounds.map((r, i) => r.rps / baseline.rounds[i].rps)
      : [];
    return {
      ...row,
      status: 'ok',
      ...chosen,
      rpsRange: [byRps[0].rps, byRps.at(-1).rps],
      ratio: ratios.length > 0 ? median(ratios) : undefined,
    };
  });
}
