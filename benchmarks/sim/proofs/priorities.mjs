/**
 * Issue #8, proof 2: at 3x capacity with 20% critical and 80% sheddable calls, the load
 * shedder's priority thresholds and eviction keep the critical calls served.
 */
const CAPACITY = 50;
const QUEUE = CAPACITY / 2;
const DEADLINE_MS = 1_000;
const LOAD = 3;
const MIX = { critical: 0.2, sheddable: 0.8 };

const num = (value) => value.toLocaleString('en-US', { maximumFractionDigits: 1 });
const pct = (share) => `${(share * 100).toFixed(1)}%`;

export default {
  id: 'priorities',
  title: '2. Priorities: 3x overload, 20% critical and 80% sheddable, through a load shedder',
  async run({ seed, quick, bulwark, sim }) {
    const { bulkhead, loadShedder } = bulwark;
    const { dependency, formatPriorities, formatResults, latency, openLoop, simulate } = sim;
    const durationMs = quick ? 5_000 : 30_000;
    const service = dependency({
      capacity: CAPACITY,
      latency: latency.logNormal({ medianMs: 20, p99Ms: 100 }),
    });
    const capacityRps = service.capacityRps;

    const reasons = {};
    const scenarios = {
      'no policy': {},
      'server bulkhead (priority-blind)': {
        server: ({ clock }) => bulkhead({ limit: CAPACITY, queue: QUEUE, clock }),
      },
      'load shedder': {
        server: ({ clock }) => {
          const policy = loadShedder({ limit: CAPACITY, queue: QUEUE, lifo: true, clock });
          policy.on('shed', ({ priority, reason }) => {
            const key = `${priority} ${reason}`;
            reasons[key] = (reasons[key] ?? 0) + 1;
          });
          return policy;
        },
      },
      'load shedder, FIFO (lifo off)': {
        server: ({ clock }) => loadShedder({ limit: CAPACITY, queue: QUEUE, clock }),
      },
    };
    const results = {};
    for (const [name, { server }] of Object.entries(scenarios)) {
      results[name] = await simulate({
        seed,
        durationMs,
        load: openLoop({ rps: capacityRps * LOAD, priorities: MIX }),
        dependency: service,
        deadlineMs: DEADLINE_MS,
        server,
      });
    }

    const shed = results['load shedder'];
    const critical = shed.byPriority.critical;
    const sheddable = shed.byPriority.sheddable;
    const fifo = results['load shedder, FIFO (lifo off)'].byPriority.critical;
    const blind = results['server bulkhead (priority-blind)'].byPriority.critical;
    const claims = [
      {
        claim: `at ${LOAD}x capacity (20% critical), critical goodput >= 99% of critical offered load`,
        measured: `${pct(critical.goodShare)} (${num(critical.good)} of ${num(critical.offered)} critical calls in time; sheddable ${pct(sheddable.goodShare)}; a priority-blind bulkhead serves ${pct(blind.goodShare)} of critical calls)`,
        holds: critical.goodShare >= 0.99,
      },
    ];

    const markdown = [
      `Dependency: ${CAPACITY} workers, log-normal service time (median 20 ms, p99 100 ms): C = ${num(capacityRps)} calls/s, unbounded FIFO queue, abandoned calls keep their worker. Load: open loop, Poisson, ${LOAD}x C (${num(capacityRps * LOAD)} calls/s) for ${durationMs / 1000} s, priorities drawn 20% \`critical\` / 80% \`sheddable\` (critical alone is ${num(capacityRps * LOAD * MIX.critical)}/s = ${num(LOAD * MIX.critical)}x C); client deadline ${DEADLINE_MS} ms. Seed ${seed}.`,
      '',
      `Load shedder (server side): \`loadShedder({ limit: ${CAPACITY}, queue: ${QUEUE}, lifo: true })\`, CoDel defaults (5 ms / 100 ms), default thresholds: \`sheddable\` refused once ${0.8 * (CAPACITY + QUEUE)} of the ${CAPACITY + QUEUE} places (running + queued) are taken, \`critical\` only when all are and no sheddable waiter is left to evict; waiters are served most critical first. For comparison: no policy, a server-side bulkhead of the same size, which ignores priority, and the same shedder serving its queue first in, first out.`,
      '',
      formatResults(results),
      '',
      `Why the load shedder (LIFO) refused calls: ${Object.entries(reasons)
        .map(([key, n]) => `${key} ${num(n)}`)
        .join(
          ' · ',
        )}. Adaptive LIFO switches on when the queue as a whole has not emptied for an interval; at this load the sheddable waiters keep it standing, so critical waiters too are served newest first, and the oldest of a burst pass CoDel's 10 ms and are shed. Served first in, first out, ${pct(fifo.goodShare)} of critical calls are in time.`,
      '',
      ...Object.entries(results).flatMap(([name, r]) => [
        `Per priority, ${name}:`,
        '',
        formatPriorities(r),
        '',
      ]),
    ].join('\n');
    return { markdown, claims };
  },
};
