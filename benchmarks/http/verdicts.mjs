/**
 * What the HTTP families are judged by: the fastify budget, the cost of `propagate: true`, and
 * the overload claims the simulator makes in virtual time, here on real sockets.
 */

const pct = (share) => `${(share * 100).toFixed(1)}%`;
const row = (rows, variant) => rows?.find((r) => r.variant === variant && r.status === 'ok');

function fastifyBudget(rows) {
  const claim =
    'fastify: fastifyPlugin (shedder + rate limiter) keeps ≥ 90% of bare fastify’s req/s';
  const bare = row(rows, 'bare');
  const guarded = row(rows, 'bulwark');
  if (bare === undefined || guarded === undefined)
    return { claim, holds: false, measured: 'not measured' };
  const byCpu = bare.cpuUsPerRequest / guarded.cpuUsPerRequest;
  return {
    claim,
    holds: guarded.ratio >= 0.9,
    measured: `${pct(guarded.ratio)} (median of paired rounds); by server CPU per request ${pct(byCpu)}`,
  };
}

/**
 * What `propagate: true` adds to a request, as a share of a bare node:http request: from req/s
 * (each a median ratio to bare, paired by round) and from server CPU time per request.
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
  const byCpu = (scoped.cpuUsPerRequest - guarded.cpuUsPerRequest) / bare.cpuUsPerRequest;
  return {
    claim,
    holds: byRps <= 0.1,
    measured: `${pct(byRps)} of a bare request by req/s; ${pct(byCpu)} by server CPU (${(scoped.cpuUsPerRequest - guarded.cpuUsPerRequest).toFixed(2)} µs of ${bare.cpuUsPerRequest.toFixed(2)} µs)`,
  };
}

function overloadClaims(result) {
  const plain = row(result?.rows, 'unprotected');
  const shed = row(result?.rows, 'shedder');
  const goodput = 'overload: with the load shedder at 3× capacity, goodput ≥ 90% of capacity';
  const latency =
    'overload: with the load shedder at 3× capacity, p99 of admitted requests < 2× the unloaded p99';
  if (plain === undefined || shed === undefined) {
    return [goodput, latency].map((claim) => ({ claim, holds: false, measured: 'not measured' }));
  }
  const ms = (v) => `${v.toFixed(1)} ms`;
  const unloadedP99 = result.unloaded.p99Ms;
  return [
    {
      claim: goodput,
      holds: shed.ofCapacity >= 0.9,
      measured: `${pct(shed.ofCapacity)} (${shed.goodputRps.toFixed(0)}/s of ${result.capacityRps.toFixed(0)}/s); without it ${pct(plain.ofCapacity)}`,
    },
    {
      claim: latency,
      holds: shed.p99Ms < 2 * unloadedP99,
      measured: `${ms(shed.p99Ms)} against ${ms(unloadedP99)} unloaded (${(shed.p99Ms / unloadedP99).toFixed(2)}×); without it ${ms(plain.p99Ms)}`,
    },
  ];
}

/** `[{ claim, holds, measured }]` for the families that ran. */
export function httpVerdicts(results) {
  const of = (id) => results.find((r) => r.family.id === id)?.result;
  const out = [];
  if (of('http-fastify') !== undefined) out.push(fastifyBudget(of('http-fastify').rows));
  if (of('http-node') !== undefined) out.push(propagationCost(of('http-node').rows));
  if (of('http-overload') !== undefined) out.push(...overloadClaims(of('http-overload')));
  return out;
}
