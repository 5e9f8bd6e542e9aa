/**
 * Proof 3: during an outage, retries multiply the load on the dependency; a retry budget, or
 * an adaptive throttle, is supposed to keep it near what the callers offer.
 */
const RPS = 1000;
const OUTAGE = { atMs: 20_000, untilMs: 30_000 };

const x = (n, digits = 2) => `${n.toFixed(digits)}x`;
const sum = (buckets, field) => buckets.reduce((a, b) => a + b[field], 0);

/** Attempts reaching the dependency per call offered, for buckets starting in [fromMs, toMs). */
function multiplication(result, fromMs, toMs) {
  const buckets = result.series.filter((b) => b.startMs >= fromMs && b.startMs < toMs);
  return sum(buckets, 'attempts') / sum(buckets, 'offered');
}

function goodShare(result, fromMs, toMs) {
  const buckets = result.series.filter((b) => b.startMs >= fromMs && b.startMs < toMs);
  return sum(buckets, 'succeeded') / sum(buckets, 'offered');
}

export default {
  id: 'retry-storm',
  title: '3. Retry storm: load on a dependency that fails every call for 10 s',
  async run({ seed, quick, bulwark, sim }) {
    const { adaptiveThrottle, defaultAcceptedOn, pipeline, retry, retryBudget } = bulwark;
    const scale = quick ? 0.2 : 1;
    const outage = { atMs: OUTAGE.atMs * scale, untilMs: OUTAGE.untilMs * scale };
    const durationMs = 50_000 * scale;
    const dependency = sim.dependency({
      capacity: 100,
      latency: sim.latency.logNormal({ medianMs: 20, p99Ms: 100 }),
      changes: [{ ...outage, failureRate: 1 }],
    });
    // The outage answers every call with a failure, as a 503 would: the throttle must count it
    // as a rejection. Its default counts any answer as accepted (see the last row).
    const failureRejects = (o) =>
      !(o.ok === false && o.error?.code === 'DEPENDENCY_FAILED') && defaultAcceptedOn(o);
    const retry3 = (clock, random, budget) => retry({ maxAttempts: 3, clock, random, budget });
    const variants = {
      'retry x3, no budget': ({ clock, random }) => retry3(clock, random),
      'retry x3 + budget': ({ clock, random }) => retry3(clock, random, retryBudget({ clock })),
      'retry x3 + budget, no floor': ({ clock, random }) =>
        retry3(clock, random, retryBudget({ clock, minRetriesPerSecond: 0 })),
      'retry x3 + throttle': ({ clock, random }) =>
        pipeline(
          retry3(clock, random),
          adaptiveThrottle({ clock, random, acceptedOn: failureRejects }),
        ),
      'retry x3 + throttle, 10 s window': ({ clock, random }) =>
        pipeline(
          retry3(clock, random),
          adaptiveThrottle({ clock, random, windowMs: 10_000, acceptedOn: failureRejects }),
        ),
      'retry x3 + budget + throttle': ({ clock, random }) =>
        pipeline(
          retry3(clock, random, retryBudget({ clock })),
          adaptiveThrottle({ clock, random, acceptedOn: failureRejects }),
        ),
      'retry x3 + throttle, default acceptedOn': ({ clock, random }) =>
        pipeline(retry3(clock, random), adaptiveThrottle({ clock, random })),
    };
    const results = {};
    for (const [name, policy] of Object.entries(variants)) {
      results[name] = await sim.simulate({
        seed,
        durationMs,
        load: sim.openLoop({ rps: RPS }),
        dependency,
        policy,
      });
    }

    const during = (name) => multiplication(results[name], outage.atMs, outage.untilMs);
    const rows = Object.entries(results).map(([name, r]) => [
      name,
      x(multiplication(r, outage.atMs, outage.untilMs)),
      x(r.loadMultiplication),
      `${(goodShare(r, 0, outage.atMs) * 100).toFixed(1)}%`,
      `${(goodShare(r, outage.untilMs, durationMs) * 100).toFixed(1)}%`,
    ]);
    const names = Object.keys(results);
    const shown = [0, 1, 3, 4, 5].map((i) => names[i]);
    const from = outage.atMs - 3_000 * scale;
    const to = outage.untilMs + 15_000 * scale;
    const series = results[names[0]].series
      .map((b, i) => [b, i])
      .filter(([b]) => b.startMs >= from && b.startMs < to)
      .map(([b, i]) => [
        (b.startMs / 1000).toFixed(0),
        b.offered,
        ...shown.map((n) => `${results[n].series[i].attempts} / ${results[n].series[i].succeeded}`),
      ]);
    const table = (header, body) =>
      [header, header.map(() => '---'), ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
    const around = (r) => ({
      ...r,
      series: r.series.filter(
        (b) => b.startMs >= from && b.startMs < outage.untilMs + 3_000 * scale,
      ),
    });

    const markdown = [
      `Scenario: a dependency with 100 workers, log-normal latency (median 20 ms, p99 100 ms; ` +
        `about ${Math.round(dependency.capacityRps)} calls/s of capacity) that fails every call ` +
        `from ${outage.atMs / 1000} s to ${outage.untilMs / 1000} s of a ${durationMs / 1000} s run; ` +
        `open-loop Poisson load of ${RPS} calls/s, no deadline. Every client retries: ` +
        '`retry({ maxAttempts: 3 })` with its default backoff (exponential from 100 ms, full ' +
        'jitter). Budget: `retryBudget()` with its defaults (ratio 0.2 over a 10 s window, plus a ' +
        'floor of 10 retries/s), or with `minRetriesPerSecond: 0`. Throttle: ' +
        '`adaptiveThrottle()` inside the retry (k 2, 2 min window by default, or 10 s), with ' +
        "`acceptedOn` counting the dependency's failures as rejections; the last row keeps the " +
        'default `acceptedOn`, which counts any answer, failures included, as accepted. ' +
        `Seed ${seed}.`,
      '',
      'Attempts reaching the dependency per logical call (load multiplication), during the ' +
        'outage (calls and attempts in its buckets) and over the whole run, and the share of ' +
        'calls served before and after the outage:',
      '',
      table(['policy', 'during outage', 'whole run', 'good before', 'good after'], rows),
      '',
      sim.formatResults(results),
      '',
      `Attempts / good calls per second around the outage (${outage.atMs / 1000} s to ` +
        `${outage.untilMs / 1000} s):`,
      '',
      table(['t (s)', 'offered', ...shown], series),
      '',
      "How to read it: the budget's allowance is 20% of the calls in its last 10 s plus the " +
        'floor. When the outage starts, the window holds 10 s of healthy calls and no retries, ' +
        'so the allowance is spent within the first seconds of the outage; after that the ' +
        'window is full of retries and almost only first attempts go out. The throttle with its 2 min ' +
        'window starts refusing only once requests pass k = 2 times the accepts it remembers from ' +
        'before the outage, late in the outage, and keeps refusing some calls after it. With a ' +
        '10 s window it refuses sooner, but once the pre-outage accepts have aged out it refuses ' +
        'almost everything, and since refused calls count as requests, accepts can only grow ' +
        'about k-fold per window: after the outage it lets through a few calls per second.',
      '',
      `Without a budget (\`formatSeries\`, ${from / 1000} s to ${outage.untilMs / 1000 + 3 * scale} s):`,
      '',
      sim.formatSeries(around(results[names[0]])),
      '',
      'With the budget:',
      '',
      sim.formatSeries(around(results[names[1]])),
    ].join('\n');

    const none = during(names[0]);
    const budget = [during(names[1]), results[names[1]].loadMultiplication];
    const throttle = [during(names[3]), results[names[3]].loadMultiplication];
    const claims = [
      {
        claim:
          'without a budget, retry({ maxAttempts: 3 }) multiplies the load about 3x during the outage (2.7x to 3x)',
        measured: `${x(none, 3)} during the outage, ${x(results[names[0]].loadMultiplication)} over the run`,
        holds: none >= 2.7 && none <= 3,
      },
      {
        claim:
          'with retryBudget() (defaults), load multiplication <= 1.2x during the outage and overall',
        measured: `${x(budget[0], 3)} during the outage, ${x(budget[1], 3)} overall; without the 10/s floor ${x(during(names[2]), 3)} during the outage`,
        holds: budget[0] <= 1.2 && budget[1] <= 1.2,
      },
      {
        claim:
          'with adaptiveThrottle() (k 2, defaults, failures counted as rejections), load multiplication <= 1.2x during the outage and overall',
        measured: `${x(throttle[0], 3)} during the outage, ${x(throttle[1], 3)} overall; with a 10 s window ${x(during(names[4]), 3)} during the outage, ${x(results[names[4]].loadMultiplication, 3)} overall, but ${(goodShare(results[names[4]], outage.untilMs, durationMs) * 100).toFixed(1)}% of calls served in the ${(durationMs - outage.untilMs) / 1000} s after it`,
        holds: throttle[0] <= 1.2 && throttle[1] <= 1.2,
      },
    ];
    return { markdown, claims };
  },
};
