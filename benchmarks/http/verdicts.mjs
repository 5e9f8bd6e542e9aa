/**
 * What the HTTP families are judged by: the fastify budget, the cost of `propagate: true`, and
 * the overload claims the simulator makes in virtual time, here on real sockets.
 *
 * A verdict is HOLDS or FAILS only when every server it compares had its core: below 90% of a
 * core, other processes took turns on it, and neither req/s nor CPU per request can be trusted
 * (on this 2-core VM, CPU per request rose by up to 40% while other jobs ran). It is UNSURE then,
 * with what was measured, and the run is worth repeating on an idle machine.
 */

const pct = (share) => (Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : 'not measured');
const ms = (v) => `${v.toFixed(1)} ms`;
const row = (rows, variant) => rows?.find((r) => r.variant === variant && r.status === 'ok');

/** Below this share of a core, the server was not the bottleneck of its own run. */
const SATURATED = 0.9;

function verdict(claim, measurements, pass, measured) {
  const busy = measurements.filter((m) => !(m.serverCpu >= SATURATED));
  if (busy.length === 0) return { claim, status: pass ? 'HOLDS' : 'FAILS', measured };
  const shares = busy.map((m) => pct(m.serverCpu)).join(', ');
  return {
    claim,
    status: 'UNSURE',
    measured: `${measured} (a server had only ${shares} of its core)`,
  };
}

const notMeasured = (claim) => ({ claim, status: 'FAILS', measured: 'not measured' });

/** Whether `variant` keeps `minRatio` of the bare server's req/s (median of paired rounds). */
function throughputBudget(claim, rows, variant, minRatio) {
  const bare = row(rows, 'bare');
  const guarded = row(rows, variant);
  if (bare === undefined || guarded === undefined) return notMeasured(claim);
  const byCpu = bare.cpuUsPerRequest / guarded.cpuUsPerRequest;
  return verdict(
    claim,
    [bare, guarded],
    guarded.ratio >= minRatio,
    `${pct(guarded.ratio)} by req/s (median of paired rounds); ${pct(byCpu)} by server CPU per request`,
  );
}

/**
 * What `propagate: true` adds to a request, as a share of a bare node:http request: from req/s
 * (each a median ratio to bare, paired by round), and from server CPU time per request.
 */
function propagationCost(rows) {
  const claim =
    'node:http: propagate: true costs ≤ 10% of a bare request (else it stays off by default)';
  const bare = row(rows, 'bare');
  const guarded = row(rows, 'bulwark');
  const scoped = row(rows, 'bulwark-propagate');
  if (bare === undefined || guarded === undefined || scoped === undefined) {
    return notMeasured(claim);
  }
  const byRps = 1 / scoped.ratio - 1 / guarded.ratio;
  const extraUs = scoped.cpuUsPerRequest - guarded.cpuUsPerRequest;
  const byCpu = extraUs / bare.cpuUsPerRequest;
  return verdict(
    claim,
    [bare, guarded, scoped],
    byRps <= 0.1,
    `${pct(byRps)} of a bare request by req/s; ${pct(byCpu)} by server CPU (${extraUs.toFixed(2)} µs of ${bare.cpuUsPerRequest.toFixed(2)} µs)`,
  );
}

function overloadClaims(result, settings) {
  const plain = row(result.rows, 'unprotected');
  const shed = row(result.rows, 'shedder');
  const at = `overload: with the load shedder at ${settings.loadFactor}× capacity`;
  const goodput = `${at}, goodput ≥ 90% of capacity`;
  const bound = settings.timeoutMs / 10;
  const latency = `${at}, p99 of admitted requests ≤ ${bound} ms (a tenth of the client timeout)`;
  if (plain === undefined || shed === undefined)
    return [notMeasured(goodput), notMeasured(latency)];
  const capacity = result.capacity;
  return [
    verdict(
      goodput,
      [capacity, shed],
      shed.ofCapacity >= 0.9,
      `${pct(shed.ofCapacity)} (${shed.goodputRps.toFixed(0)}/s of ${result.capacityRps.toFixed(0)}/s; without it ${pct(plain.ofCapacity)})`,
    ),
    verdict(
      latency,
      [shed],
      shed.p99Ms <= bound,
      `${ms(shed.p99Ms)}; without it ${ms(plain.p99Ms)}; unloaded (${result.settings.unloadedFactor}× capacity) ${ms(result.unloaded.p99Ms)}`,
    ),
  ];
}

/**
 * `[{ claim, status, measured }]` for the families that ran; a family whose run failed has its
 * claims reported as not measured.
 */
export function httpVerdicts(results, settings) {
  const ran = (id) => results.find((r) => r.family.id === id)?.result;
  const of = (id) => {
    const result = ran(id);
    return result?.error === undefined ? result : { rows: [] };
  };
  const out = [];
  if (ran('http-fastify') !== undefined) {
    const claim =
      'fastify: fastifyPlugin (shedder + rate limiter) keeps ≥ 90% of bare fastify’s req/s';
    out.push(throughputBudget(claim, of('http-fastify').rows, 'bulwark', 0.9));
  }
  if (ran('http-node') !== undefined) out.push(propagationCost(of('http-node').rows));
  if (ran('http-overload') !== undefined) {
    out.push(...overloadClaims(of('http-overload'), settings.overload));
  }
  return out;
}
