/**
 * What the HTTP families are judged by: the fastify budget, the cost of `propagate: true`, and
 * the overload claims the simulator makes in virtual time, here on real sockets.
 */

const pct = (share) => (Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : 'not measured');
const row = (rows, variant) => rows?.find((r) => r.variant === variant && r.status === 'ok');

/** Below this share of a core in a round, the server was not the bottleneck. */
const SATURATED = 0.9;

/**
 * Whether `variant` keeps `minRatio` of the bare server's throughput. req/s measure the server
 * only while it is the bottleneck; when either server had less than 90% of its core (the load
 * generator or another process held it back), the verdict uses the throughput their CPU time
 * per request allows instead, and says so.
 */
function throughputBudget(claim, rows, variant, minRatio) {
  const bare = row(rows, 'bare');
  const guarded = row(rows, variant);
  if (bare === undefined || guarded === undefined)
    return { claim, holds: false, measured: 'not measured' };
  const byCpu = bare.cpuUsPerRequest / guarded.cpuUsPerRequest;
  const saturated = bare.serverCpu >= SATURATED && guarded.serverCpu >= SATURATED;
  const byRps = `${pct(guarded.ratio)} by req/s (median of paired rounds)`;
  const cpu = `${pct(byCpu)} by server CPU per request`;
  return {
    claim,
    holds: (saturated ? guarded.ratio : byCpu) >= minRatio,
    measured: saturated
      ? `${byRps}; ${cpu}`
      : `${cpu} (judged by CPU: a server used < ${pct(SATURATED)} of its core, so req/s measured something else); ${byRps}`,
  };
}

/**
 * What `propagate: true` adds to a request, as a share of a bare node:http request: from req/s
 * (each a median ratio to bare, paired by round) and from server CPU time per request; judged
 * by CPU when a server was not saturated, as above.
 */
function propagationCost(rows) {
  const claim =
    'node:http: propagate: true costs ≤ 10% of a bare request (else it stays off by default)';
  const bare = row(rows, 'bare');
  const guarded = row(rows, 'bulwark');
  const scoped = row(rows, 'bulwark-propagate');
  if (bare === undefined || guarded === undefined || scoped === undefined) {
    return { claim, holds: false, measured: 'not measured' };
  }
  const byRps = 1 / scoped.ratio - 1 / guarded.ratio;
  const extraUs = scoped.cpuUsPerRequest - guarded.cpuUsPerRequest;
  const byCpu = extraUs / bare.cpuUsPerRequest;
  const saturated = [bare, guarded, scoped].every((r) => r.serverCpu >= SATURATED);
  const cpu = `${pct(byCpu)} by server CPU (${extraUs.toFixed(2)} µs of ${bare.cpuUsPerRequest.toFixed(2)} µs)`;
  return {
    claim,
    holds: (saturated ? byRps : byCpu) <= 0.1,
    measured: `${pct(byRps)} of a bare request by req/s; ${cpu}${saturated ? '' : '; judged by CPU (a server was not saturated)'}`,
  };
}

/**
 * Goodput against capacity, by req/s when the server had its core through both measurements;
 * else by the share of its CPU time that went to requests answered in time, which a busy
 * machine does not skew (the capacity was measured at another moment than the scenario).
 */
function goodputClaim(claim, result, plain, shed) {
  const saturated = result.capacity.serverCpu >= SATURATED && shed.serverCpu >= SATURATED;
  const byRps = `${pct(shed.ofCapacity)} of capacity (${shed.goodputRps.toFixed(0)}/s of ${result.capacityRps.toFixed(0)}/s; without it ${pct(plain.ofCapacity)})`;
  const byCpu = `${pct(shed.usefulCpu)} of the server's CPU on requests answered in time (without it ${pct(plain.usefulCpu)})`;
  return {
    claim,
    holds: (saturated ? shed.ofCapacity : shed.usefulCpu) >= 0.9,
    measured: saturated
      ? `${byRps}; ${byCpu}`
      : `${byCpu}, judged by CPU (the server had < ${pct(SATURATED)} of its core); ${byRps}`,
  };
}

function overloadClaims(result, settings) {
  const plain = row(result.rows, 'unprotected');
  const shed = row(result.rows, 'shedder');
  const goodput = `overload: with the load shedder at ${settings.loadFactor}× capacity, goodput ≥ 90% of capacity`;
  const bound = settings.timeoutMs / 10;
  const latency = `overload: with the load shedder at ${settings.loadFactor}× capacity, p99 of admitted requests ≤ ${bound} ms (a tenth of the client timeout)`;
  if (plain === undefined || shed === undefined) {
    return [goodput, latency].map((claim) => ({ claim, holds: false, measured: 'not measured' }));
  }
  const ms = (v) => `${v.toFixed(1)} ms`;
  const unloadedP99 = result.unloaded.p99Ms;
  return [
    goodputClaim(goodput, result, plain, shed),
    {
      claim: latency,
      holds: shed.p99Ms <= bound,
      measured: `${ms(shed.p99Ms)}; without it ${ms(plain.p99Ms)}; unloaded (${result.settings.unloadedFactor}× capacity) ${ms(unloadedP99)}`,
    },
  ];
}

/**
 * `[{ claim, holds, measured }]` for the families that ran; a family whose run failed has its
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
