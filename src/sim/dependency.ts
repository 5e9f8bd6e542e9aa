import type { Clock, TimerHandle } from '../core/clock.js';
import { checkFraction, checkInteger, checkOneOf, invalid } from '../core/validate.js';
import { type Distribution, isDistribution } from './distributions.js';
import { DependencyError } from './errors.js';
import type { Random } from './random.js';

/** What happens to a call whose caller aborts (gives up, times out) while it is inside. */
export type AbandonMode = 'free' | 'keep-working';

/** The parts of a dependency's behaviour that can change during a run. */
export interface DependencyState {
  /** Calls served at once; more wait in a FIFO queue inside the dependency. */
  capacity: number;
  /** Share of calls that fail, from 0 to 1, drawn when a call starts its service. */
  failureRate: number;
  /** Service time of a successful call (after any queueing). */
  latency: Distribution;
  /** Service time of a failing call. */
  failureLatency: Distribution;
  /** While true, calls that start service never answer; they fail when the hang ends. */
  hang: boolean;
}

/**
 * A scripted change: from `atMs` (ms from the start) the given fields hold, until `untilMs` if
 * given, when each returns to the value it had just before `atMs`.
 */
export interface DependencyChange extends Partial<DependencyState> {
  atMs: number;
  untilMs?: number;
}

export interface DependencyOptions {
  /** Calls served at once: an integer >= 1, or Infinity. Required. */
  capacity: number;
  /** Service time of a successful call, from `latency`. Required. */
  latency: Distribution;
  /** Share of calls that fail, 0 to 1. Default 0. */
  failureRate?: number;
  /** Service time of a failing call. Default: `latency`. */
  failureLatency?: Distribution;
  /** Calls that may wait for a slot; one more fails at once ('queue-full'). Default Infinity. */
  queueLimit?: number;
  /**
   * What an aborted call does. 'keep-working' (default): the caller is answered at once with
   * the abort reason, but the dependency still serves the call when its turn comes and holds
   * a slot for its whole service time, as most servers do with requests whose client left.
   * 'free': the call leaves the queue, or frees its slot, at once.
   */
  abandon?: AbandonMode;
  /** Scripted changes over time: outages, capacity losses, latency spikes. Default none. */
  changes?: readonly DependencyChange[];
}

/** A modelled dependency, as `dependency()` builds it: a description, run by `simulate`. */
export interface DependencyModel {
  readonly initial: Readonly<DependencyState>;
  readonly queueLimit: number;
  readonly abandon: AbandonMode;
  readonly changes: readonly DependencyChange[];
  /** Calls per second the dependency serves at its initial capacity and mean latency. */
  readonly capacityRps: number;
}

const NAME = 'dependency';

function checkDistribution(option: string, value: unknown): Distribution {
  if (!isDistribution(value)) throw invalid(NAME, option, value, 'a distribution from latency');
  return value;
}

function checkState(prefix: string, value: Partial<DependencyState>): void {
  if (value.capacity !== undefined)
    checkInteger(NAME, `${prefix}capacity`, value.capacity, 1, true);
  if (value.failureRate !== undefined)
    checkFraction(NAME, `${prefix}failureRate`, value.failureRate);
  if (value.latency !== undefined) checkDistribution(`${prefix}latency`, value.latency);
  if (value.failureLatency !== undefined) {
    checkDistribution(`${prefix}failureLatency`, value.failureLatency);
  }
  if (value.hang !== undefined && typeof value.hang !== 'boolean') {
    throw invalid(NAME, `${prefix}hang`, value.hang, 'a boolean');
  }
}

/** Describes a dependency for `simulate`: its capacity, latency, failures and scripted changes. */
export function dependency(options: DependencyOptions): DependencyModel {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${NAME}: options must be an object (got ${String(options)})`);
  }
  const capacity = checkInteger(NAME, 'capacity', options.capacity, 1, true);
  const latency = checkDistribution('latency', options.latency);
  const failureRate = checkFraction(NAME, 'failureRate', options.failureRate ?? 0);
  const failureLatency = checkDistribution('failureLatency', options.failureLatency ?? latency);
  const queueLimit = checkInteger(NAME, 'queueLimit', options.queueLimit ?? Infinity, 0, true);
  const abandon = checkOneOf(NAME, 'abandon', options.abandon ?? 'keep-working', [
    'free',
    'keep-working',
  ] as const);
  const changes = options.changes ?? [];
  if (!Array.isArray(changes)) throw invalid(NAME, 'changes', changes, 'an array');
  changes.forEach((change: DependencyChange, i) => {
    const prefix = `changes[${i}].`;
    if (typeof change !== 'object' || change === null) {
      throw invalid(NAME, `changes[${i}]`, change, 'an object');
    }
    const { atMs, untilMs } = change;
    if (typeof atMs !== 'number' || !Number.isFinite(atMs) || atMs < 0) {
      throw invalid(NAME, `${prefix}atMs`, atMs, 'a finite number of milliseconds >= 0');
    }
    if (untilMs !== undefined && !(typeof untilMs === 'number' && untilMs > atMs)) {
      throw invalid(NAME, `${prefix}untilMs`, untilMs, `a number of milliseconds > atMs (${atMs})`);
    }
    checkState(prefix, change);
  });
  return {
    initial: Object.freeze({ capacity, failureRate, latency, failureLatency, hang: false }),
    queueLimit,
    abandon,
    changes: changes.map((change) => ({ ...change })),
    capacityRps: (capacity * 1000) / latency.meanMs,
  };
}

/** What the modelled dependency answers on success; anything else reaching the caller is a substitute. */
export const SERVED: unique symbol = Symbol('bulwark.sim.served');

function ignore(): void {}

const QUEUED = 0;
const RUNNING = 1;
const ENDED = 2;

/** One call inside the dependency. */
class Job {
  state = QUEUED;
  /** The caller gave up but the dependency keeps working on it ('keep-working'). */
  abandoned = false;
  failed = false;
  timer: TimerHandle | undefined = undefined;
  resolve: (value: typeof SERVED) => void = ignore;
  reject: (error: unknown) => void = ignore;
  readonly finish = (): void => this.runtime.finish(this, this.failed ? 'failure' : undefined);

  constructor(
    readonly runtime: DependencyRuntime,
    /** The caller's signal; dropped once the caller has left, with everything it holds. */
    public signal: AbortSignal | undefined,
    readonly arrivedAt: number,
  ) {}

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.runtime.abort(this);
  }
}

/** Counters of the dependency's work, read by the simulation's results. */
export interface DependencyCounters {
  /** Calls that reached the dependency (not refused before it). */
  reached: number;
  /** Calls served successfully, answered or not. */
  served: number;
  /** Calls that failed (drawn failures, hangs, full queue). */
  failed: number;
  /** Calls the dependency finished after their caller had left ('keep-working'). */
  wasted: number;
  /** Calls that left the queue or freed their slot when their caller left ('free'). */
  freed: number;
  peakInService: number;
  peakQueued: number;
}

/** A dependency's state during one run. */
export class DependencyRuntime {
  readonly state: DependencyState;
  readonly counters: DependencyCounters = {
    reached: 0,
    served: 0,
    failed: 0,
    wasted: 0,
    freed: 0,
    peakInService: 0,
    peakQueued: 0,
  };
  inService = 0;
  queued = 0;
  readonly #queue: (Job | undefined)[] = [];
  #head = 0;
  readonly #hung = new Set<Job>();
  /** One error per kind of failure for the whole run: a stack per failure would cost more than the call. */
  readonly #errors = {
    failure: new DependencyError('failure'),
    hang: new DependencyError('hang'),
    'queue-full': new DependencyError('queue-full'),
  };
  readonly #model: DependencyModel;
  readonly #clock: Clock;
  readonly #random: Random;
  /** Told every time `inService` or `queued` changes, and each call's time inside. */
  readonly #onLevel: () => void;
  readonly #onSojourn: (ms: number) => void;

  constructor(
    model: DependencyModel,
    clock: Clock,
    random: Random,
    onLevel: () => void,
    onSojourn: (ms: number) => void,
  ) {
    this.#model = model;
    this.#clock = clock;
    this.#random = random;
    this.#onLevel = onLevel;
    this.#onSojourn = onSojourn;
    this.state = { ...model.initial };
    const start = clock.now();
    for (const change of model.changes) {
      clock.setTimeout(() => {
        const before = this.#apply(change);
        if (change.untilMs !== undefined) {
          clock.setTimeout(() => this.#apply(before), start + change.untilMs - clock.now());
        }
      }, change.atMs);
    }
  }

  /** The modelled call: answers SERVED, or rejects with a DependencyError or the abort reason. */
  call(signal: AbortSignal | undefined): Promise<typeof SERVED> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.counters.reached++;
    if (this.queued >= this.#model.queueLimit && this.inService >= this.state.capacity) {
      this.counters.failed++;
      return Promise.reject(this.#errors['queue-full']);
    }
    const job = new Job(this, signal, this.#clock.now());
    const promise = new Promise<typeof SERVED>((resolve, reject) => {
      job.resolve = resolve;
      job.reject = reject;
    });
    signal?.addEventListener('abort', job);
    this.#queue.push(job);
    this.queued++;
    if (this.queued > this.counters.peakQueued) this.counters.peakQueued = this.queued;
    this.#pump();
    this.#onLevel();
    return promise;
  }

  /** Ends a running job: `failure` undefined means served. */
  finish(job: Job, failure: 'failure' | 'hang' | undefined): void {
    job.state = ENDED;
    this.inService--;
    this.#onSojourn(this.#clock.now() - job.arrivedAt);
    job.signal?.removeEventListener('abort', job);
    if (failure === undefined) this.counters.served++;
    else this.counters.failed++;
    if (job.abandoned) this.counters.wasted++;
    else if (failure === undefined) job.resolve(SERVED);
    else job.reject(this.#errors[failure]);
    this.#pump();
    this.#onLevel();
  }

  abort(job: Job): void {
    const signal = job.signal!;
    signal.removeEventListener('abort', job);
    if (this.#model.abandon === 'keep-working') {
      job.abandoned = true;
      job.reject(signal.reason);
      // The work may wait long in the queue: let the caller's side be collected meanwhile.
      job.signal = undefined;
      job.resolve = ignore;
      job.reject = ignore;
      return;
    }
    if (job.state === QUEUED) {
      this.queued--;
    } else if (job.state === RUNNING) {
      this.inService--;
      if (job.timer !== undefined) this.#clock.clearTimeout(job.timer);
      this.#hung.delete(job);
    }
    job.state = ENDED;
    this.counters.freed++;
    job.reject(signal.reason);
    this.#pump();
    this.#onLevel();
  }

  /** Starts queued jobs while there are free slots. */
  #pump(): void {
    const queue = this.#queue;
    while (this.inService < this.state.capacity && this.queued > 0) {
      const job = queue[this.#head]!;
      queue[this.#head++] = undefined;
      if (job.state !== QUEUED) continue;
      this.queued--;
      this.#start(job);
    }
    // Drop the consumed prefix now and then, so the queue's array does not grow with traffic.
    if (this.#head > 1024 && this.#head * 2 > queue.length) {
      queue.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #start(job: Job): void {
    job.state = RUNNING;
    this.inService++;
    if (this.inService > this.counters.peakInService) this.counters.peakInService = this.inService;
    if (this.state.hang) {
      this.#hung.add(job);
      return;
    }
    const random = this.#random;
    job.failed = random() < this.state.failureRate;
    const ms = (job.failed ? this.state.failureLatency : this.state.latency).sample(random);
    job.timer = this.#clock.setTimeout(job.finish, ms);
  }

  /** Applies a change; returns what it replaced. */
  #apply(change: Partial<DependencyState>): Partial<DependencyState> {
    const before: Partial<DependencyState> = {};
    const state = this.state as unknown as Record<string, unknown>;
    for (const field of ['capacity', 'failureRate', 'latency', 'failureLatency', 'hang'] as const) {
      if (change[field] !== undefined) {
        (before as Record<string, unknown>)[field] = state[field];
        state[field] = change[field];
      }
    }
    if (change.hang === false && this.#hung.size > 0) {
      const hung = [...this.#hung];
      this.#hung.clear();
      for (const job of hung) this.finish(job, 'hang');
    }
    this.#pump();
    this.#onLevel();
    return before;
  }
}
