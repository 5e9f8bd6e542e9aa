/**
 * An open-loop load generator: requests leave at a fixed rate whatever the server does, as
 * independent callers would send them, each given up after `timeoutMs` as a real caller would.
 * (A closed loop slows down with the server and so cannot overload it.)
 */
import http from 'node:http';

/** The result of one request: its status (0 when it failed or timed out) and latency. */
function send(agent, url, headers, timeoutMs) {
  return new Promise((resolve) => {
    const started = performance.now();
    let timedOut = false;
    let settled = false;
    const done = (status, outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, outcome, ms: performance.now() - started });
    };
    const req = http.get(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode, 'answered'));
      res.on('error', failed);
    });
    const failed = () => done(0, timedOut ? 'timeout' : 'error');
    req.on('error', failed);
    req.on('close', failed);
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy();
    }, timeoutMs);
  });
}

/**
 * Sends `rate` requests a second to `url` for `settleS + durationS` seconds, each sent at its
 * scheduled time (checked every millisecond), and resolves once every one has been answered or
 * given up. Only the requests sent after the first `settleS` seconds are counted: the load is
 * already at full rate then, the server's code warm and the client's connections open.
 */
export async function openLoop(url, { rate, durationS, settleS = 0, timeoutMs, headers = {} }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const settling = Math.round(rate * settleS);
  const total = settling + Math.round(rate * durationS);
  const pending = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let lagMs = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - started) * rate) / 1000));
      if (due > pending.length)
        lagMs = Math.max(lagMs, now - started - (pending.length * 1000) / rate);
      while (pending.length < due) pending.push(send(agent, url, headers, timeoutMs));
      if (pending.length < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const results = await Promise.all(pending);
  const { user, system } = process.cpuUsage(cpuBefore);
  const clientCpu = (user + system) / 1000 / (performance.now() - started);
  agent.destroy();
  return { ...summarise(results.slice(settling), { durationS, timeoutMs }), clientCpu, lagMs };
}

function percentile(sorted, p) {
  return sorted.length === 0
    ? undefined
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function summarise(results, { durationS, timeoutMs }) {
  const count = (test) => results.filter(test).length;
  const inTime = (r) => r.status >= 200 && r.status < 300 && r.ms <= timeoutMs;
  const shed = (r) => r.status === 503;
  // Every request the server did not refuse: answered, late, timed out or failed. A request the
  // caller gave up on counts at the timeout, so the percentiles say "at least" there.
  const admitted = results
    .filter((r) => !shed(r))
    .map((r) => (r.outcome === 'answered' ? r.ms : timeoutMs))
    .sort((a, b) => a - b);
  return {
    durationS,
    offered: results.length,
    good: count(inTime),
    goodputRps: count(inTime) / durationS,
    shed: count(shed),
    timeouts: count((r) => r.outcome === 'timeout'),
    errors: count((r) => r.outcome === 'error'),
    otherStatus: count((r) => r.status !== 0 && !shed(r) && (r.status < 200 || r.status >= 300)),
    admitted: admitted.length,
    p50Ms: percentile(admitted, 0.5),
    p99Ms: percentile(admitted, 0.99),
  };
}
