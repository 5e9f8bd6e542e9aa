/** A closed-loop measurement with autocannon: fixed connections, each sending as fast as answered. */
import autocannon from 'autocannon';

/**
 * Loads `url` for `durationS` seconds and summarises what autocannon saw. Latencies are
 * autocannon's, in whole milliseconds.
 */
export async function closedLoop(url, { connections, pipelining, durationS }) {
  const result = await autocannon({ url, connections, pipelining, duration: durationS });
  const seconds = result.duration;
  return {
    rps: result.latency.totalCount / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    requests: result.latency.totalCount,
    seconds,
  };
}
