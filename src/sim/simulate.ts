import { type Priority, priorities } from '../core/context.js';
import type { Policy } from '../core/policy.js';
import { checkClock, checkMs, invalid } from '../core/validate.js';
import { VirtualClock } from '../testing/virtual-clock.js';
import { type DependencyModel, DependencyRuntime, SERVED } from './dependency.js';
import { DeadlineExceededError } from './errors.js';
import { type Load, pick } from './load.js';
import { exponential, type Random, streamOf } from './random.js';
import type { PriorityResult, SimulationResult } from './result.js';
import { round, Samples, Series } from './stats.js';

/** What a policy factory receives: build every policy of the run with these. */
export interface SimulationEnvironment {
  /** The run's clock: pass it as every policy's `clock` option. */
  readonly clock: VirtualClock;
  /** A seeded random source: pass it as the `random` option of policies that take one. */
  readonly random: Random;
}

/** A policy, or a function building one for the run (preferred: fresh state every run). */
export type SimulatedPolicy =
  | Policy<unknown, unknown>
  | ((environment: SimulationEnvironment) => Policy<unknown, unknown>);

export interface SimulateOptions {
  /** Seeds every random choice of the run. Default 1. */
  seed?: number;
  /** How long load is offered, in virtual ms. Required. */
  durationMs: number;
  /** The offered load: `openLoop(...)` or `closedLoop(...)`. Required. */
  load: Load;
  /** The modelled dependency: `dependency(...)`. Required. */
  dependency: DependencyModel;
  /** The caller's policies around each call. Default: none, calls go straight to the dependency. */
  policy?: SimulatedPolicy;
  /** Policies at the server, between the network and the dependency (a load shedder). Default none. */
  server?: SimulatedPolicy;
  /** The client's deadline for each call, ms from its start. Default: none. */
  deadlineMs?: number;
  /**
   * Whether each call's signal aborts at its deadline (the client gives up), with a
   * `DeadlineExceededError`. Otherwise policies only see the `deadline` option. Default true.
   */
  abortAtDeadline?: boolean;
  /**
   * The clock to run on. Default: a new `VirtualClock`. Needed only when `policy` or `server`
   * is a policy already built: it must be the clock those policies were built with.
   */
  clock?: VirtualClock;
  /** Width of the time series' buckets, ms. Default 1000. */
  bucketMs?: number;
  /** After `durationMs`, how long calls still outstanding may take to end. Default 60_000. */
  drainMs?: number;
}

/** One logical call, as the caller sees it. */
class Call {
  attempts = 0;
  reached = false;
  done = false;
  controller: AbortController | undefined = undefined;

  constructor(
    readonly priority: Priority,
    readonly key: string | undefined,
    readonly startedAt: number,
    readonly deadline: number,
    /** The closed-loop client that made it, or -1. */
    readonly client: number,
  ) {}
}

/** Cumulative counts per outcome. */
function count(counts: Record<string, number>, outcome: string): void {
  counts[outcome] = (counts[outcome] ?? 0) + 1;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string') return code;
  if (error instanceof Error && error.name === 'AbortError') return 'ABORTED';
  return 'ERROR';
}

const STREAM_ARRIVALS = 1;
const STREAM_MIX = 2;
const STREAM_DEPENDENCY = 3;
const STREAM_CLIENT_POLICY = 4;
const STREAM_SERVER_POLICY = 5;
const STREAM_THINK = 6;

/**
 * Runs a load against a modelled dependency through real policies, in virtual time: every
 * arrival, service completion and policy timer is a timer on a `VirtualClock`, and the run
 * advances it from one to the next. The same options and seed give the same result.
 */
export async function simulate(options: SimulateOptions): Promise<SimulationResult> {
  const run = new Run(options);
  await run.run();
  return run.result();
}

class Run {
  readonly #seed: number;
  readonly #durationMs: number;
  readonly #deadlineMs: number | undefined;
  readonly #abortAtDeadline: boolean;
  readonly #drainMs: number;
  readonly #clock: VirtualClock;
  readonly #load: Load;
  readonly #model: DependencyModel;
  readonly #dependency: DependencyRuntime;
  readonly #policy: Policy<unknown, unknown> | undefined;
  readonly #server: Policy<unknown, unknown> | undefined;
  readonly #start: number;
  readonly #series: Series;
  readonly #mixRandom: Random;
  readonly #arrivalRandom: Random;
  readonly #thinkRandom: Random;
  readonly #outcomes: Record<string, number> = {};
  readonly #byPriority = new Map<Priority, { offered: number; outcomes: Record<string, number> }>();
  readonly #succeeded = new Samples();
  readonly #admitted = new Samples();
  readonly #sojourn = new Samples();
  /** Calls waiting for their deadline, in deadline order (deadlines only grow). */
  readonly #deadlines: (Call | undefined)[] = [];
  #deadlineHead = 0;
  #deadlineTimerArmed = false;
  /** Every call's abort reason: one instance, as capturing a stack per call costs more than the rest of the call. */
  #deadlineError: DeadlineExceededError | undefined;
  #offered = 0;
  #attempts = 0;
  #outstanding = 0;
  #lastEnd = 0;
  #closed = false;
  /** The task the client policy runs: one function for every call. */
  readonly #clientTask = (ctx: {
    data: unknown;
    signal: AbortSignal;
    deadline: number;
    priority: Priority;
    key: string | undefined;
  }): Promise<unknown> =>
    this.#attempt(ctx.data as Call, ctx.signal, ctx.deadline, ctx.priority, ctx.key);
  readonly #serverTask = (ctx: { data: unknown; signal: AbortSignal }): Promise<unknown> =>
    this.#reach(ctx.data as Call, ctx.signal);

  constructor(options: SimulateOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`simulate: options must be an object (got ${String(options)})`);
    }
    const seed = options.seed ?? 1;
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw invalid('simulate', 'seed', seed, 'a finite number');
    }
    this.#seed = seed;
    this.#durationMs = checkMs('simulate', 'durationMs', options.durationMs, 1);
    this.#deadlineMs =
      options.deadlineMs === undefined
        ? undefined
        : checkMs('simulate', 'deadlineMs', options.deadlineMs, 1);
    const abort = options.abortAtDeadline ?? true;
    if (typeof abort !== 'boolean') {
      throw invalid('simulate', 'abortAtDeadline', abort, 'a boolean');
    }
    this.#abortAtDeadline = abort;
    if (this.#deadlineMs !== undefined) {
      this.#deadlineError = new DeadlineExceededError(this.#deadlineMs);
    }
    this.#drainMs = checkMs('simulate', 'drainMs', options.drainMs ?? 60_000);
    const bucketMs = checkMs('simulate', 'bucketMs', options.bucketMs ?? 1000, 1);
    const load = options.load;
    if (load?.kind !== 'open' && load?.kind !== 'closed') {
      throw invalid('simulate', 'load', load, 'a load from openLoop() or closedLoop()');
    }
    this.#load = load;
    const model = options.dependency;
    if (typeof model !== 'object' || model === null || !('initial' in model)) {
      throw invalid('simulate', 'dependency', model, 'a model from dependency()');
    }
    this.#model = model;
    for (const option of ['policy', 'server'] as const) {
      const value = options[option];
      if (typeof value === 'object' && value !== null && options.clock === undefined) {
        throw invalid(
          'simulate',
          option,
          value,
          'a function ({ clock, random }) => policy, or a policy built with the clock passed as option "clock"',
        );
      }
    }
    this.#clock = checkClock('simulate', options.clock, undefined) ?? new VirtualClock();
    if (!(this.#clock instanceof VirtualClock)) {
      throw invalid('simulate', 'clock', options.clock, 'a VirtualClock');
    }
    this.#start = this.#clock.now();
    this.#series = new Series(this.#start, bucketMs);
    this.#arrivalRandom = streamOf(seed, STREAM_ARRIVALS);
    this.#mixRandom = streamOf(seed, STREAM_MIX);
    this.#thinkRandom = streamOf(seed, STREAM_THINK);
    this.#dependency = new DependencyRuntime(
      model,
      this.#clock,
      streamOf(seed, STREAM_DEPENDENCY),
      () =>
        this.#series.level(this.#clock.now(), this.#dependency.inService, this.#dependency.queued),
      (ms) => this.#sojourn.add(ms),
    );
    this.#policy = this.#build('policy', options.policy, STREAM_CLIENT_POLICY);
    this.#server = this.#build('server', options.server, STREAM_SERVER_POLICY);
  }

  #build(
    option: string,
    value: SimulatedPolicy | undefined,
    stream: number,
  ): Policy<unknown, unknown> | undefined {
    const policy =
      typeof value === 'function'
        ? value({ clock: this.#clock, random: streamOf(this.#seed, stream) })
        : value;
    if (
      policy !== undefined &&
      (typeof policy !== 'object' ||
        policy === null ||
        typeof (policy as Policy).execute !== 'function')
    ) {
      throw invalid('simulate', option, policy, 'a policy (an object with execute())');
    }
    return policy;
  }

  async run(): Promise<void> {
    if (this.#load.kind === 'open') {
      // Evenly spaced arrivals sit mid-interval: 100/s puts one at 5 ms, 15 ms, ... 995 ms.
      this.#nextArrival(this.#load.arrivals === 'uniform' ? -0.5 : 0, [0]);
    } else {
      const { clients, startSpreadMs } = this.#load;
      for (let i = 0; i < clients; i++) {
        this.#clock.setTimeout(() => this.#issue(i), (i * startSpreadMs) / clients);
      }
    }
    const clock = this.#clock;
    const endAt = this.#start + this.#durationMs;
    const stopAt = endAt + this.#drainMs;
    // Steps of a second: advance() fires every timer on the way in order, settling promise
    // reactions after each, so the step only bounds how often the end condition is checked.
    for (;;) {
      const now = clock.now();
      if ((now >= endAt && this.#outstanding === 0) || now >= stopAt) break;
      await clock.advance(Math.min(now < endAt ? endAt : stopAt, now + 1000) - now);
    }
    this.#closed = true;
  }

  #nextArrival(expected: number, cursor: [number]): void {
    const load = this.#load;
    if (load.kind !== 'open') return;
    const next = expected + (load.arrivals === 'poisson' ? exponential(this.#arrivalRandom) : 1);
    const at = load.rate.timeOf(next, cursor);
    if (!(at < this.#durationMs)) return;
    this.#clock.setTimeout(
      () => {
        this.#issue(-1);
        this.#nextArrival(next, cursor);
      },
      this.#start + at - this.#clock.now(),
    );
  }

  #issue(client: number): void {
    const clock = this.#clock;
    const now = clock.now();
    const load = this.#load;
    const priority: Priority =
      load.priorities === undefined ? 'critical' : pick(load.priorities, this.#mixRandom());
    const key = load.keys === undefined ? undefined : pick(load.keys, this.#mixRandom());
    const deadlineMs = this.#deadlineMs;
    const deadline = deadlineMs === undefined ? Number.POSITIVE_INFINITY : now + deadlineMs;
    const call = new Call(priority, key, now, deadline, client);
    this.#offered++;
    this.#outstanding++;
    this.#series.offered(now);
    let stats = this.#byPriority.get(priority);
    if (stats === undefined) {
      stats = { offered: 0, outcomes: {} };
      this.#byPriority.set(priority, stats);
    }
    stats.offered++;
    let signal: AbortSignal | undefined;
    if (deadlineMs !== undefined && this.#abortAtDeadline) {
      call.controller = new AbortController();
      signal = call.controller.signal;
      this.#deadlines.push(call);
      this.#armDeadline();
    }
    const promise =
      this.#policy === undefined
        ? this.#attempt(call, signal, deadline, priority, key)
        : this.#policy.execute(this.#clientTask, {
            signal,
            deadline: deadlineMs === undefined ? undefined : deadline,
            priority,
            key,
            data: call,
          });
    promise.then(
      (value) => this.#ended(call, value === SERVED ? undefined : 'fallback'),
      (error: unknown) => this.#ended(call, codeOf(error)),
    );
  }

  #attempt(
    call: Call,
    signal: AbortSignal | undefined,
    deadline: number,
    priority: Priority,
    key: string | undefined,
  ): Promise<unknown> {
    call.attempts++;
    this.#attempts++;
    if (this.#server === undefined) return this.#reach(call, signal);
    return this.#server.execute(this.#serverTask, {
      signal,
      deadline: deadline === Number.POSITIVE_INFINITY ? undefined : deadline,
      priority,
      key,
      data: call,
    });
  }

  #reach(call: Call, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    call.reached = true;
    this.#series.attempt(this.#clock.now());
    return this.#dependency.call(signal);
  }

  /** `failure` is undefined for a success, else the outcome's name. */
  #ended(call: Call, failure: string | undefined): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    call.done = true;
    this.#outstanding--;
    this.#lastEnd = now;
    const latency = now - call.startedAt;
    const outcome = failure ?? (now <= call.deadline ? 'ok' : 'late');
    count(this.#outcomes, outcome);
    count(this.#byPriority.get(call.priority)!.outcomes, outcome);
    if (failure === undefined) this.#succeeded.add(latency);
    if (call.reached) this.#admitted.add(latency);
    this.#series.ended(now, outcome === 'ok', latency);
    if (call.client >= 0) this.#think(call);
  }

  /** A closed-loop client's next call, after its think time. */
  #think(call: Call): void {
    const now = this.#clock.now();
    if (this.#load.kind !== 'closed') return;
    let pause = this.#load.thinkTime.sample(this.#thinkRandom);
    // A call refused at once and no think time would let a client spin in one instant forever.
    if (pause === 0 && now === call.startedAt) pause = 1;
    if (now + pause >= this.#start + this.#durationMs) return;
    this.#clock.setTimeout(() => this.#issue(call.client), pause);
  }

  #armDeadline(): void {
    if (this.#deadlineTimerArmed) return;
    const queue = this.#deadlines;
    while (this.#deadlineHead < queue.length && queue[this.#deadlineHead]!.done) {
      queue[this.#deadlineHead++] = undefined;
    }
    if (this.#deadlineHead === queue.length) {
      queue.length = 0;
      this.#deadlineHead = 0;
      return;
    }
    this.#deadlineTimerArmed = true;
    this.#clock.setTimeout(this.#expire, queue[this.#deadlineHead]!.deadline - this.#clock.now());
  }

  readonly #expire = (): void => {
    this.#deadlineTimerArmed = false;
    const queue = this.#deadlines;
    const now = this.#clock.now();
    while (this.#deadlineHead < queue.length) {
      const call = queue[this.#deadlineHead]!;
      if (call.deadline > now) break;
      queue[this.#deadlineHead++] = undefined;
      if (!call.done) call.controller!.abort(this.#deadlineError);
    }
    if (this.#deadlineHead > 1024 && this.#deadlineHead * 2 > queue.length) {
      queue.splice(0, this.#deadlineHead);
      this.#deadlineHead = 0;
    }
    this.#armDeadline();
  };

  result(): SimulationResult {
    const seconds = this.#durationMs / 1000;
    const offered = this.#offered;
    const good = this.#outcomes.ok ?? 0;
    const successes = good + (this.#outcomes.late ?? 0);
    const ratio = (x: number, y: number): number => (y === 0 ? 0 : round(x / y));
    const endMs = Math.max(this.#durationMs, this.#lastEnd - this.#start);
    const byPriority: Partial<Record<Priority, PriorityResult>> = {};
    for (const [priority, stats] of [...this.#byPriority].sort((a, b) => rank(a[0]) - rank(b[0]))) {
      const ok = stats.outcomes.ok ?? 0;
      byPriority[priority] = {
        offered: stats.offered,
        good: ok,
        goodShare: ratio(ok, stats.offered),
        outcomes: sortOutcomes(stats.outcomes),
      };
    }
    const capacityRps = this.#model.capacityRps;
    return {
      seed: this.#seed,
      durationMs: this.#durationMs,
      deadlineMs: this.#deadlineMs,
      load: this.#load.label,
      offered,
      offeredRps: round(offered / seconds),
      goodput: {
        count: good,
        rps: round(good / seconds),
        ofOffered: ratio(good, offered),
        ofCapacity:
          capacityRps === Number.POSITIVE_INFINITY ? 0 : ratio(good / seconds, capacityRps),
      },
      throughputRps: round(successes / seconds),
      outcomes: sortOutcomes(this.#outcomes),
      byPriority,
      latency: { succeeded: this.#succeeded.percentiles(), admitted: this.#admitted.percentiles() },
      loadMultiplication: ratio(this.#dependency.counters.reached, offered),
      attemptsPerCall: ratio(this.#attempts, offered),
      dependency: {
        ...this.#dependency.counters,
        capacityRps: round(capacityRps),
        sojourn: this.#sojourn.percentiles(),
      },
      unfinished: this.#outstanding,
      endMs: round(endMs),
      series: this.#series.buckets(this.#start + endMs),
    };
  }
}

function rank(priority: Priority): number {
  return priorities.indexOf(priority);
}

/** 'ok' first, then the rest by name, so equal runs give equal objects and stable tables. */
function sortOutcomes(counts: Record<string, number>): Record<string, number> {
  const sorted: Record<string, number> = {};
  if (counts.ok !== undefined) sorted.ok = counts.ok;
  for (const key of Object.keys(counts).sort()) if (key !== 'ok') sorted[key] = counts[key]!;
  return sorted;
}
