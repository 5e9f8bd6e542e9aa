/**
 * The overload case on real sockets: the CPU-bound server's capacity measured in a closed loop,
 * then an open-loop load at a multiple of it, with a client timeout, against the server without
 * admission control and behind a load shedder. Each scenario gets a fresh server, killed
 * afterwards: without a shedder it is left with seconds of queued work nobody waits for.
 */
import { closedLoop } from './closed-loop.mjs';
import { listenOverflows } from './listen-drops.mjs';
import { openLoop } from './open-loop.mjs';
import { startServer } from './server-process.mjs';
import { serverVariants } from './servers/index.mjs';

/**
 * Runs `load(url)` against a fresh server of variant `id`, after `warm(url)` if given, adding
 * the share of a core the server had during the load (less than 1 when other processes took
 * turns on it) and the connections the kernel dropped meanwhile, and kills the server.
 */
async function withServer(id, settings, pin, load, warm) {
  const server = await startServer('http-overload', id, { workMs: settings.workMs }, pin);
  try {
    await warm?.(server.url);
    const before = await server.usage();
    const dropsBefore = listenOverflows();
    const result = await load(server.url);
    const listenDrops = listenOverflows() - dropsBefore;
    const after = await server.usage();
    const serverCpu =
      before === undefined || after === undefined
        ? undefined
        : (after.cpuMs - before.cpuMs) / (after.atMs - before.atMs);
    return { ...result, serverCpu, listenDrops };
  } finally {
    await server.kill();
  }
}

/**
 * `{ settings, capacityRps, capacity, unloaded, rows }`: each row one scenario at
 * `settings.loadFactor` × capacity, with its goodput as a share of capacity.
 */
export async function runOverloadFamily(settings, pin, log) {
  const closed = { connections: settings.capacityConnections, pipelining: 1 };
  const capacity = await withServer(
    'unprotected',
    settings,
    pin,
    (url) => closedLoop(url, { ...closed, durationS: settings.capacityS }),
    (url) => closedLoop(url, { ...closed, durationS: settings.warmupS }),
  );
  const capacityRps = capacity.rps;
  log(`  capacity: ${capacityRps.toFixed(0)} req/s in a closed loop`);

  const open = (rate) => ({
    rate,
    durationS: settings.openS,
    settleS: settings.settleS,
    timeoutMs: settings.timeoutMs,
    headers: { 'x-request-timeout-ms': String(settings.timeoutMs) },
  });
  const unloaded = await withServer('unprotected', settings, pin, (url) =>
    openLoop(url, {
      ...open(capacityRps * settings.unloadedFactor),
      durationS: settings.unloadedS,
    }),
  );
  log(`  unloaded (${settings.unloadedFactor}x): p99 ${unloaded.p99Ms?.toFixed(1)} ms`);

  const rows = [];
  for (const variant of serverVariants['http-overload']) {
    const row = { variant: variant.id, library: variant.library, label: variant.label };
    try {
      const result = await withServer(variant.id, settings, pin, (url) =>
        openLoop(url, open(capacityRps * settings.loadFactor)),
      );
      rows.push({
        ...row,
        status: 'ok',
        ...result,
        ofCapacity: result.goodputRps / capacityRps,
      });
      log(
        `  ${variant.id}: goodput ${result.goodputRps.toFixed(0)}/s, p99 ${result.p99Ms?.toFixed(0)} ms`,
      );
    } catch (error) {
      log(`  error   ${variant.id}: ${error.message}`);
      rows.push({ ...row, status: 'error', reason: error.message });
    }
  }
  return { settings, capacityRps, capacity, unloaded, rows };
}
