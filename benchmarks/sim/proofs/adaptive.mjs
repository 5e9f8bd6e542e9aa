/**
 * Proof 5: an adaptive concurrency limit in front of a dependency whose capacity halves, then
 * doubles, follows it to within 20%.
 */
const CAPACITIES = [100, 50, 100];
const CLIENTS = 300;
const BAND = 0.2;
/** Share of the rest of a phase the limit must spend in the band, once it got there. */
const HOLD = 0.5;

const s = (ms) => (ms / 1000).toFixed(2);
const pct = (x) => `${(x * 100).toFixed(0)}%`;

/** The limit's steps, as [ms, value], judged phase by phase against the capacity then. */
function judge(trace, phaseMs) {
  return CAPACITIES.map((capacity, p) => {
    const start = p * phaseMs;
    const end = start + phaseMs;
    const inBand = (v) => Math.abs(v - capacity) <= BAND * capacity;
    let value = trace.filter(([t]) => t <= start).at(-1)[1];
    let reach = inBand(value) ? 0 : undefined;
    let held = 0;
    let last = start;
    let low = Infinity;
    let high = -Infinity;
    let area = 0;
    const half = start + phaseMs / 2;
    const steps = trace.filter(([t]) => t > start && t < end).concat([[end, undefined]]);
    for (const [t, next] of steps) {
      if (reach !== undefined && inBand(value)) held += t - last;
      if (t > half) {
        low = Math.min(low, value);
        high = Math.max(high, value);
        area += value * (t - Math.max(last, half));
      }
      last = t;
      if (next === undefined) break;
      value = next;
      if (reach === undefined && inBand(value)) reach = t - start;
    }
    const share = reach === undefined ? 0 : held / (phaseMs - reach);
    return { capacity, reach, share, low, high, mean: area / (phaseMs / 2) };
  });
}

/** The limit at each bucket's start. */
function sampled(trace, everyMs, untilMs) {
  const out = [];
  let i = 0;
  for (let t = 0; t < untilMs; t += everyMs) {
    while (i + 1 < trace.length && trace[i + 1][0] <= t) i++;
    out.push(trace[i][1]);
  }
  return out;
}

export default {
  id: 'adaptive',
  title: '5. Adaptive concurrency: the limit follows the capacity down and up',
  async run({ seed, quick, bulwark, sim }) {
    const { adaptiveLimit, bulkhead, pipeline, timeout, ExecutionRejectedError } = bulwark;
    const phaseMs = quick ? 5_000 : 30_000;

    // A dependency that refuses what it cannot start answers, say, 503: thrown inside the
    // bulkhead as a refusal, so the limit counts it as a drop.
    class DependencyFullError extends ExecutionRejectedError {
      code = 'DEPENDENCY_FULL';
    }
    const full = new DependencyFullError('the dependency has no free worker');
    const refusalsAsDrops = {
      execute: (fn, options) =>
        fn(options).catch((error) => {
          throw error?.reason === 'queue-full' ? full : error;
        }),
    };

    const models = {
      'p99 80 ms': sim.latency.logNormal({ medianMs: 50, p99Ms: 80 }),
      'p99 55 ms': sim.latency.logNormal({ medianMs: 50, p99Ms: 55 }),
    };
    const setups = {
      aimd: { algorithm: 'aimd', refuses: true, signal: 'refusals beyond capacity' },
      'aimd, timeoutMs 100': {
        algorithm: 'aimd',
        options: { timeoutMs: 100 },
        signal: 'calls slower than 100 ms',
      },
      'aimd, timeout(100) inside': {
        algorithm: 'aimd',
        timeoutMs: 100,
        signal: 'calls cut off at 100 ms',
      },
      vegas: { algorithm: 'vegas', signal: 'latency (queueing)' },
      gradient2: { algorithm: 'gradient2', signal: 'latency (queueing)' },
      // The same, fed one aggregate sample per window (WindowedLimit's remedy).
      'aimd, window': {
        algorithm: 'aimd',
        refuses: true,
        windowed: true,
        signal: 'refusals beyond capacity',
      },
      'aimd, timeoutMs 100, window': {
        algorithm: 'aimd',
        options: { timeoutMs: 100 },
        windowed: true,
        signal: 'calls slower than 100 ms',
      },
      'aimd, timeout(100) inside, window': {
        algorithm: 'aimd',
        timeoutMs: 100,
        windowed: true,
        signal: 'calls cut off at 100 ms',
      },
      'vegas, window': { algorithm: 'vegas', windowed: true, signal: 'latency (queueing)' },
      'gradient2, window': { algorithm: 'gradient2', windowed: true, signal: 'latency (queueing)' },
    };

    const runs = [];
    for (const [modelName, latency] of Object.entries(models)) {
      for (const [name, setup] of Object.entries(setups)) {
        let trace;
        const result = await sim.simulate({
          seed,
          durationMs: phaseMs * CAPACITIES.length,
          load: sim.closedLoop({ clients: CLIENTS }),
          dependency: sim.dependency({
            capacity: CAPACITIES[0],
            latency,
            // Refusing at once (no queue) for AIMD; queueing, so latency grows, for the others.
            queueLimit: setup.refuses ? 0 : Infinity,
            changes: CAPACITIES.slice(1).map((capacity, i) => ({
              atMs: (i + 1) * phaseMs,
              capacity,
            })),
          }),
          policy: ({ clock, random }) => {
            const limit = adaptiveLimit({
              algorithm: setup.algorithm,
              ...(setup.algorithm === 'vegas' ? { random } : {}),
              ...setup.options,
              ...(setup.windowed ? { window: setup.windowed, clock } : {}),
            });
            const start = clock.now();
            trace = [[0, limit.current]];
            limit.on('limitChange', ({ to }) => trace.push([clock.now() - start, to]));
            const pool = bulkhead({ limit, queue: Infinity, clock });
            if (setup.refuses) return pipeline(pool, refusalsAsDrops);
            return setup.timeoutMs ? pipeline(pool, timeout(setup.timeoutMs, { clock })) : pool;
          },
        });
        runs.push({ modelName, name, setup, result, trace, phases: judge(trace, phaseMs) });
      }
    }

    const table = (header, body) =>
      [header, header.map(() => '---'), ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
    const phaseCell = (p) =>
      p.reach === undefined
        ? `never · 2nd half ${p.low}-${p.high}`
        : `${s(p.reach)} s · ${pct(p.share)} · 2nd half ${p.low}-${p.high} (mean ${p.mean.toFixed(0)})`;
    const summary = runs.map((r) => [
      r.modelName,
      r.name,
      r.setup.signal,
      ...r.phases.map(phaseCell),
      r.result.goodput.rps.toFixed(0),
      r.result.dependency.sojourn.p99.toFixed(0),
    ]);
    const main = runs.filter((r) => r.modelName === Object.keys(models)[0]);
    const every = quick ? 1000 : 3000;
    const limits = main.map((r) => sampled(r.trace, every, phaseMs * CAPACITIES.length));
    const seriesRows = limits[0].map((_, i) => [
      (i * every) / 1000,
      CAPACITIES[Math.floor((i * every) / phaseMs)],
      ...limits.map((l) => l[i]),
    ]);

    const markdown = [
      `Scenario: a dependency whose capacity (workers serving at once, beyond which calls ` +
        `queue inside it and latency grows) is ${CAPACITIES.join(', then ')}, for ` +
        `${phaseMs / 1000} s each; service time log-normal with median 50 ms and p99 80 ms ` +
        `(a second model: p99 55 ms, nearly steady, the better case for the latency-based ` +
        `algorithms; a constant latency is not used: closed-loop calls then move in lockstep ` +
        `waves). ${CLIENTS} closed-loop clients with no ` +
        'think time, so the offered load always needs more than the capacity. In front of it, ' +
        '`bulkhead({ limit: adaptiveLimit({ algorithm }), queue: Infinity })` (the queue holds ' +
        `at most the ${CLIENTS} clients), every algorithm with its defaults (initial 20; aimd ` +
        'and gradient2 within 20-200, vegas 1-1000). Each algorithm sees overload its own way: ' +
        'for aimd the dependency refuses a call that finds every worker busy (no queue), and ' +
        'the refusal is thrown inside the bulkhead as an `ExecutionRejectedError`, a drop; a ' +
        'second aimd row has no refusals, only `timeoutMs: 100` (twice the median), and a third ' +
        'a `timeout(100)` policy inside the bulkhead that cuts calls off (the dependency keeps ' +
        'working on them, as most servers do); vegas and ' +
        'gradient2 face a dependency that queues without bound, so they see latency grow. The ' +
        "limit is read at every `limitChange` event, on the run's virtual clock. " +
        `Seed ${seed}.`,
      '',
      `Per phase: time from the capacity change until the limit first came within ` +
        `${BAND * 100}% of the capacity, the share of the rest of the phase it spent there, and ` +
        'the range (time-weighted mean) of the limit in the second half of the phase. The first ' +
        'phase starts from the initial limit of 20.',
      '',
      table(
        [
          'latency',
          'algorithm',
          'overload signal',
          ...CAPACITIES.map(
            (c, i) => `${i === 0 ? 'start' : i === 1 ? 'halved' : 'doubled'}: C = ${c}`,
          ),
          'goodput/s',
          'dependency p99 ms',
        ],
        summary,
      ),
      '',
      'How to read it: aimd with refusals learns of overload the instant it happens and backs ' +
        'off by 10% per refusal, so it saw-tooths just under the capacity. With only a timeout ' +
        'it hears nothing until latency has doubled, then a whole round of slow calls comes back ' +
        'at once and each one cuts the limit by 10%: it swings between its min and max. Vegas ' +
        'reads the queue as limit x (1 - rttNoLoad / rtt), where rttNoLoad is the lowest RTT it ' +
        'has seen: with a latency spread that alone reads as a queue, and with its defaults ' +
        '(keep the queue between 3 and 6 calls below a limit of 100) it holds the limit where ' +
        "the spread's queue reaches 6, whatever the capacity. Gradient2 compares the latest RTT " +
        'with its own long-run average, which follows the steady queueing latency up, so it ' +
        'keeps adding its queueSize until max. The rows marked "window" feed the same ' +
        'algorithms one sample per window (`window: true`: twice the lowest RTT in it, at ' +
        'least 100 ms, at least 10 calls; the mean RTT, the most calls in flight, any drop), ' +
        "on the run's clock: a round of slow calls then backs aimd off once, and vegas " +
        'compares window means, whose spread is far smaller than that of single calls, yet ' +
        'its no-load RTT (the lowest window mean in hundreds of windows) still sits a few ' +
        'percent under a typical mean, which below a limit of 100 reads as the 3 to 6 queued ' +
        'calls it holds still at. Gradient2 compares the same way as before, so it still ' +
        'drifts up, more slowly.',
      '',
      `The limit over time (${Object.keys(models)[0]}), every ${every / 1000} s:`,
      '',
      table(['t (s)', 'capacity', ...main.map((r) => r.name)], seriesRows),
      '',
      sim.formatResults(Object.fromEntries(main.map((r) => [r.name, r.result]))),
    ].join('\n');

    const claims = main.map((r) => {
      const [, halved, doubled] = r.phases;
      const ok = (p) => p.reach !== undefined && p.share >= HOLD;
      const said = (p) =>
        p.reach === undefined
          ? `C = ${p.capacity}: never within 20% (2nd half ${p.low}-${p.high})`
          : `C = ${p.capacity}: within 20% after ${s(p.reach)} s, then ${pct(p.share)} of the phase`;
      return {
        claim: `${r.name} (${r.setup.signal}): after the capacity halves and after it doubles, the limit comes within 20% of the new capacity and stays there for most (>= ${HOLD * 100}%) of the rest of the phase`,
        measured: `${said(halved)}; ${said(doubled)}`,
        holds: ok(halved) && ok(doubled),
      };
    });
    return { markdown, claims };
  },
};
