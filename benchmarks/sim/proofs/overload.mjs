/**
 * Issue #8, proof 1: a load shedder (CoDel + adaptive LIFO) at the server keeps goodput near
 * capacity and the latency of the work it admits near the unloaded latency at 2x and 5x
 * capacity; without it the service collapses.
 */
const CAPACITY = 50;
const DEADLINE_MS = 1_000;
// SRE book ("Addressing Cascading Failures"): for steady traffic, a queue of at most half the
// thread pool.
const QUEUE = CAPACITY / 2;

const ms = (value) => value.toLocaleString('en-US', { maximumFractionDigits: 1 });
const pct = (share) => `${(share * 100).toFixed(1)}%`;

export default {
  id: 'overload',
  title: '1. Overload: a load shedder (CoDel + LIFO) at 1x, 2x and 5x capacity',
  async run({ seed, quick, bulwark, sim }) {
    const { bulkhead, loadShedder, pipeline, timeout } = bulwark;
    const { dependency, formatResults, formatSeries, latency, openLoop, simulate } = sim;
    const durationMs = quick ? 5_000 : 30_000;
    // Requests of tens of milliseconds: the scale CoDel's defaults (target 5 ms, interval
    // 100 ms) are made for, so they are kept.
    const service = dependency({
      capacity: CAPACITY,
      latency: latency.logNormal({ medianMs: 20, p99Ms: 100 }),
    });
    const capacityRps = service.capacityRps;
    const shedder = ({ clock }) =>
      loadShedder({ limit: CAPACITY, queue: QUEUE, lifo: true, clock });
    const fifo = ({ clock }) => loadShedder({ limit: CAPACITY, queue: QUEUE, codel: false, clock });
    const guard = ({ clock }) =>
      pipeline(bulkhead({ limit: CAPACITY, queue: QUEUE, clock }), timeout(250, { clock }));

    const scenarios = {
      '0.5x, no policy (unloaded)': { load: 0.5 },
      '0.5x, load shedder': { load: 0.5, server: shedder },
      '1x, no policy': { load: 1 },
      '1x, load shedder': { load: 1, server: shedder },
      '2x, no policy': { load: 2 },
      '2x, client bulkhead + timeout 250 ms': { load: 2, policy: guard },
      '2x, load shedder': { load: 2, server: shedder },
      '5x, no policy': { load: 5 },
      '5x, load shedder': { load: 5, server: shedder },
      '5x, load shedder, FIFO, CoDel off': { load: 5, server: fifo },
    };
    const results = {};
    for (const [name, { load, policy, server }] of Object.entries(scenarios)) {
      results[name] = await simulate({
        seed,
        durationMs,
        load: openLoop({ rps: capacityRps * load }),
        dependency: service,
        deadlineMs: DEADLINE_MS,
        policy,
        server,
      });
    }

    const unloadedP99 = results['0.5x, no policy (unloaded)'].latency.admitted.p99;
    const admittedRows = Object.entries(results).map(([name, r]) => {
      const a = r.latency.admitted;
      const shed = r.outcomes.LOAD_SHED ?? 0;
      return `| ${name} | ${a.count.toLocaleString('en-US')} | ${ms(a.p50)} | ${ms(a.p99)} | ${(a.p99 / unloadedP99).toFixed(2)} | ${pct(shed / r.offered)} | ${r.dependency.wasted.toLocaleString('en-US')} |`;
    });

    const claims = [];
    for (const load of [2, 5]) {
      const r = results[`${load}x, load shedder`];
      const bare = results[`${load}x, no policy`];
      claims.push({
        claim: `with the load shedder at ${load}x capacity, goodput >= 90% of capacity`,
        measured: `${pct(r.goodput.ofCapacity)} of capacity (${ms(r.goodput.rps)}/s of ${ms(capacityRps)}/s); without it ${pct(bare.goodput.ofCapacity)}`,
        holds: r.goodput.ofCapacity >= 0.9,
      });
    }
    for (const load of [2, 5]) {
      const r = results[`${load}x, load shedder`];
      const bare = results[`${load}x, no policy`];
      const p99 = r.latency.admitted.p99;
      claims.push({
        claim: `with the load shedder at ${load}x capacity, p99 of admitted work < 2x the unloaded p99 (${ms(unloadedP99)} ms at 0.5x)`,
        measured: `${ms(p99)} ms = ${(p99 / unloadedP99).toFixed(2)}x; without it ${ms(bare.latency.admitted.p99)} ms`,
        holds: p99 < 2 * unloadedP99,
      });
    }

    const markdown = [
      `Dependency: ${CAPACITY} workers, log-normal service time (median 20 ms, p99 100 ms, mean ${ms(service.initial.latency.meanMs)} ms): capacity C = ${ms(capacityRps)} calls/s; FIFO queue inside, unbounded; abandoned calls keep their worker (\`abandon: 'keep-working'\`, the default: the handler does not watch its client). Load: open loop, Poisson arrivals at 0.5x, 1x, 2x and 5x C for ${durationMs / 1000} s; client deadline ${DEADLINE_MS} ms (the call's signal aborts then). Seed ${seed}.`,
      '',
      `Load shedder, the simulator's \`server\` policy in front of the dependency: \`loadShedder({ limit: ${CAPACITY}, queue: ${QUEUE}, lifo: true })\`, CoDel on with its defaults (target 5 ms, interval 100 ms: the service's requests take tens of ms, the scale the defaults suit). \`limit\` is the service's concurrency; \`queue\` is half of it, the SRE book's ceiling for steady traffic. Every call is \`critical\` (one priority). The bulkhead row is the client-side alternative from the simulator's first demo, and the last row the same shedder with CoDel off and FIFO service, both for context.`,
      '',
      formatResults(results),
      '',
      'Latency of admitted work (calls that reached the dependency at least once, from arrival to answer, whatever the outcome; ratio to the unloaded p99):',
      '',
      '| scenario | admitted | p50 ms | p99 ms | p99 / unloaded p99 | shed | wasted (served after the client left) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...admittedRows,
      '',
      `Without a shedder the dependency's queue grows by the excess every second; within about a second every call waits past its deadline and the workers serve answers nobody waits for (the wasted column; the admitted p99 of 1,000 ms is the deadline, where the client gives up). With it, the excess is refused at the door and the work admitted is served at the unloaded latency. At exactly 1x the shedder refuses ${pct((results['1x, load shedder'].outcomes.LOAD_SHED ?? 0) / results['1x, load shedder'].offered)} of calls: at full utilisation bursts make the queue stand for an interval now and then, and CoDel drops its waiters older than 10 ms, trading goodput of ${pct(results['1x, no policy'].goodput.ofCapacity - results['1x, load shedder'].goodput.ofCapacity)} of capacity for a p99 of ${ms(results['1x, load shedder'].latency.admitted.p99)} ms instead of ${ms(results['1x, no policy'].latency.admitted.p99)} ms.`,
      '',
      'Time series of "2x, no policy" (every 5th second): the collapse.',
      '',
      formatSeries(results['2x, no policy'], 5),
      '',
      'Time series of "2x, load shedder" (every 5th second):',
      '',
      formatSeries(results['2x, load shedder'], 5),
    ].join('\n');
    return { markdown, claims };
  },
};
