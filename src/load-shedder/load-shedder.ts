import type { Clock, TimerHandle } from '../core/clock.js';
import { type Context, next, type Priority, priorities } from '../core/context.js';
import { ExecutionRejectedError, LoadShedError, type LoadShedReason } from '../core/errors.js';
import { type GaugeSink, readGauges, registerGauges } from '../core/gauges.js';
import type { ConcurrencyLimit } from '../core/limit.js';
import { LinkedList } from '../core/linked-list.js';
import { BasePolicy } from '../core/policy.js';
import { checkOptions } from '../core/validate.js';
import { Codel } from './codel.js';
import type {
  LoadShedderDequeueResult,
  LoadShedderEvents,
  LoadShedderPriorityStats,
  LoadShedderStats,
} from './events.js';
import { type LoadShedderOptions, settings } from './options.js';
import { type PressureReading, PressureSampler, processPressure } from './pressure.js';
import { Waiter } from './waiter.js';

const rankOf: Readonly<Record<Priority, number>> = {
  'critical-plus': 0,
  critical: 1,
  'sheddable-plus': 2,
  sheddable: 3,
};

/** Ranks from this one down ('sheddable-plus', 'sheddable') are refused under pressure. */
const firstSheddable = 2;

/** Weight of the newest measurement in the smoothed service time behind `retryAfterMs`. */
const smoothing = 0.2;

/**
 * Server-side admission control: at most `limit` calls run and `queue` wait; under load the
 * lower priorities are refused first (occupancy thresholds, eviction from a full queue, process
 * pressure), and CoDel keeps the queue from standing.
 */
export class LoadShedderPolicy extends BasePolicy<LoadShedderEvents> {
  readonly queueLimit: number;
  readonly queueTimeoutMs: number;
  readonly #clock: Clock;
  /** The fixed limit; unused when `#adaptive` is set. */
  readonly #fixed: number;
  readonly #adaptive: ConcurrencyLimit | undefined;
  /** By rank: the occupancy that refuses new calls; Infinity for 1 (only a full shedder does). */
  readonly #bars: readonly number[];
  readonly #codel: Codel | undefined;
  readonly #lifo: boolean;
  /** How long the queue must stay non-empty to count as standing: CoDel's interval. */
  readonly #intervalMs: number;
  readonly #sampler: PressureSampler | undefined;
  /** One queue per priority rank; within each, the head is the oldest waiter. */
  readonly #lists: readonly LinkedList<Waiter>[] = priorities.map(() => new LinkedList<Waiter>());
  #running = 0;
  #queued = 0;
  readonly #runningBy = [0, 0, 0, 0];
  readonly #shedBy = [0, 0, 0, 0];
  /** By rank: when that priority's queue last went from empty to not empty. */
  readonly #lastEmpty = [0, 0, 0, 0];
  /** Smoothed service time of the calls the shedder timed; undefined before the first. */
  #serviceMs: number | undefined;
  /** One timer for every queue timeout, armed for the earliest head's. */
  #timer: TimerHandle | undefined;
  readonly #onTimer = (): void => this.#expire();
  /** By rank: the reactions that release a free-path call's slot, made once per policy. */
  readonly #onValue = priorities.map((_, rank) => (value: unknown): unknown => {
    this.#release(rank);
    return value;
  });
  readonly #onError = priorities.map((_, rank) => (error: unknown): never => {
    this.#release(rank);
    throw error;
  });

  /** By rank: what gives back a slot taken by `tryAcquire`, made once per policy. */
  readonly #releasers = priorities.map((_, rank) => (): void => this.#release(rank));

  constructor(options: LoadShedderOptions) {
    const opts = checkOptions<LoadShedderOptions>('loadShedder', options);
    super('load-shedder', opts.name);
    const s = settings(this.name, opts);
    this.#clock = this.useClock(opts.clock);
    this.queueLimit = s.queue;
    this.queueTimeoutMs = s.queueTimeoutMs;
    this.#fixed = typeof s.limit === 'number' ? s.limit : 0;
    this.#adaptive = typeof s.limit === 'number' ? undefined : s.limit;
    this.#bars = s.thresholds.map((t) => (t >= 1 ? Number.POSITIVE_INFINITY : t));
    const now = this.#clock.now();
    this.#codel = s.codel && new Codel(s.codel.targetMs, s.codel.intervalMs, now);
    this.#lifo = s.lifo;
    this.#intervalMs = s.codel?.intervalMs ?? 100;
    if (s.pressure !== undefined) {
      const given = s.pressureSource;
      const source = given === undefined ? processPressure() : { read: given, close() {} };
      this.#sampler = new PressureSampler(s.pressure, this.#clock, source, this.#onPressure);
    }
    registerGauges(this);
  }

  /** @internal */
  [readGauges](sink: GaugeSink): void {
    sink.value(this.name, 'load-shedder', 'running', this.#running);
    sink.value(this.name, 'load-shedder', 'queued', this.#queued);
    sink.value(this.name, 'load-shedder', 'limit', this.limit);
  }

  /** Calls holding a slot now. */
  get running(): number {
    return this.#running;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.#queued;
  }

  /** The concurrency limit now: the fixed one, or an adaptive limit's current value. */
  get limit(): number {
    return this.#adaptive === undefined ? this.#fixed : this.#adaptive.current;
  }

  /**
   * Whether CoDel counts the queue as overloaded now: the shortest wait of its last interval
   * stayed above target, or the queue has not been empty for a whole interval. False without
   * CoDel.
   */
  get overloaded(): boolean {
    return this.#codel !== undefined && this.#overloadedAt(this.#clock.now());
  }

  /** Whether the last pressure sample reached a threshold (false without `pressure`). */
  get underPressure(): boolean {
    return this.#sampler?.underPressure ?? false;
  }

  /** Counts now, in total and by priority. */
  stats(): LoadShedderStats {
    const byPriority = {} as Record<Priority, LoadShedderPriorityStats>;
    for (const [rank, priority] of priorities.entries()) {
      byPriority[priority] = {
        running: this.#runningBy[rank]!,
        queued: this.#lists[rank]!.size,
        shed: this.#shedBy[rank]!,
      };
    }
    return {
      running: this.#running,
      queued: this.#queued,
      limit: this.limit,
      queueLimit: this.queueLimit,
      overloaded: this.overloaded,
      underPressure: this.underPressure,
      byPriority,
    };
  }

  /**
   * Stops the pressure sampler and releases what it measures with; pressure no longer sheds
   * anything afterwards. The shedder itself keeps working. Without `pressure`, does nothing.
   */
  close(): void {
    this.#sampler?.close();
  }

  /** `close()`, for `using shedder = loadShedder(...)`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    if (context.scope.aborted) return Promise.reject(context.scope.reason);
    const rank = rankOf[context.priority];
    if (rank >= firstSheddable && this.#sampler?.underPressure === true) {
      return Promise.reject(this.#shed(rank, 'pressure', context.key));
    }
    const limit = this.limit;
    if ((this.#running + this.#queued) / (limit + this.queueLimit) >= this.#bars[rank]!) {
      return Promise.reject(this.#shed(rank, 'capacity', context.key));
    }
    // A grown adaptive limit frees slots that belong to the waiters, who came first.
    if (this.#running < limit && this.#queued > 0) this.#dispatch();
    if (this.#running >= limit) return this.#runQueued(context, index, rank);
    this.#running++;
    this.#runningBy[rank]!++;
    this.#codel?.idle();
    if (this.#adaptive !== undefined) return this.#runTimed(context, index, rank, this.#running);
    // Handlers made once per policy: the free-slot path allocates nothing of its own.
    return next(context, index + 1).then(this.#onValue[rank], this.#onError[rank]);
  }

  /**
   * Takes a slot for a call of `priority` at once, as `execute` would for a call that finds one
   * free, and returns what gives it back (call it exactly once). Undefined, having changed
   * nothing, when the call would not simply start now (it would queue or be shed), when the
   * limit is adaptive (calls are timed), or when someone listens to execution events: `execute`
   * decides those. For server adapters, which hold a slot until a response closes. @internal
   */
  tryAcquire(priority: Priority): (() => void) | undefined {
    if (this.#adaptive !== undefined || this.#queued > 0 || this.events.executionInterest !== 0)
      return undefined;
    const rank = rankOf[priority];
    if (rank >= firstSheddable && this.#sampler?.underPressure === true) return undefined;
    const limit = this.#fixed;
    if (this.#running >= limit) return undefined;
    if (this.#running / (limit + this.queueLimit) >= this.#bars[rank]!) return undefined;
    this.#running++;
    this.#runningBy[rank]!++;
    this.#codel?.idle();
    return this.#releasers[rank];
  }

  /**
   * A call timed for its limit and the `retryAfterMs` hint: every call under an adaptive limit,
   * and the ones that waited (their clock reads are already paid for).
   */
  async #runTimed(context: Context, index: number, rank: number, inflight: number) {
    let start = Number.NaN;
    let dropped = false;
    try {
      start = this.#clock.now();
      return await next(context, index + 1);
    } catch (error) {
      dropped = error instanceof ExecutionRejectedError;
      throw error;
    } finally {
      this.#finish(rank, start, inflight, dropped);
    }
  }

  async #runQueued(context: Context, index: number, rank: number): Promise<unknown> {
    const inflight = await this.#wait(context, rank);
    // The slot came, but the caller may have aborted in the moment before this resumed.
    if (context.scope.aborted) {
      this.#release(rank);
      throw context.scope.reason;
    }
    return this.#runTimed(context, index, rank, inflight);
  }

  /** Times a call that settled, tells an adaptive limit, and frees its slot whatever happens. */
  #finish(rank: number, start: number, inflight: number, dropped: boolean): void {
    try {
      const rtt = this.#clock.now() - start;
      // NaN when the clock threw before the call started: there is nothing to report.
      if (rtt >= 0) {
        this.#serviceMs =
          this.#serviceMs === undefined
            ? rtt
            : this.#serviceMs + smoothing * (rtt - this.#serviceMs);
        this.#adaptive?.sample(rtt, inflight, dropped);
      }
    } finally {
      this.#release(rank);
    }
  }

  /**
   * Queues the call; resolves with the calls running once it got a slot (itself included), or
   * rejects when it is shed or its caller aborts.
   */
  #wait(context: Context, rank: number): Promise<number> {
    const { scope, key } = context;
    // An eviction only ever empties a lower priority's queue, never this one.
    const wasEmpty = this.#lists[rank]!.size === 0;
    if (this.#queued >= this.queueLimit && !this.#evictBelow(rank)) {
      return Promise.reject(this.#shed(rank, 'capacity', key));
    }
    const now = this.#clock.now();
    const waiter = new Waiter(scope, key, rank, now, now + this.queueTimeoutMs);
    const promise = new Promise<number>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    waiter.onAbort = (reason) => this.#abandon(waiter, reason);
    if (wasEmpty) this.#lastEmpty[rank] = now;
    this.#lists[rank]!.push(waiter);
    this.#queued++;
    // Waiters join in due order, so a timer already armed is armed for an earlier one.
    if (this.#timer === undefined && waiter.due !== Number.POSITIVE_INFINITY) {
      this.#arm(this.queueTimeoutMs);
    }
    if (this.events.enabled) {
      const priority = priorities[rank]!;
      this.events.emit('queued', { key, priority, running: this.#running, queued: this.#queued });
    }
    scope.watch(waiter.onAbort);
    return promise;
  }

  /** Makes room in a full queue by shedding the newest waiter of the lowest priority below `rank`. */
  #evictBelow(rank: number): boolean {
    for (let lowest = this.#lists.length - 1; lowest > rank; lowest--) {
      const victim = this.#lists[lowest]!.tail;
      if (victim === undefined) continue;
      this.#drop(victim, 'evicted', this.#clock.now());
      return true;
    }
    return false;
  }

  #release(rank: number): void {
    this.#running--;
    this.#runningBy[rank]!--;
    if (this.#queued > 0) this.#dispatch();
  }

  /** Hands free slots to waiters, most critical first; CoDel sheds the ones that waited too long. */
  #dispatch(): void {
    const codel = this.#codel;
    const now = this.#clock.now();
    const limit = this.limit;
    while (this.#running < limit && this.#queued > 0) {
      const waiter = this.#pick(now);
      const waitedMs = now - waiter.since;
      // Every dequeue is a CoDel sample, whether or not the queue already stands.
      if (
        codel !== undefined &&
        (codel.drop(waitedMs, now) || this.#tooOld(waitedMs, waiter.rank, now))
      ) {
        this.#drop(waiter, 'codel', now);
        continue;
      }
      this.#unlink(waiter);
      this.#running++;
      this.#runningBy[waiter.rank]!++;
      this.#left(waiter, 'started', waitedMs);
      waiter.resolve(this.#running);
    }
    if (codel === undefined) return;
    // Served newest first, the oldest waiters would never come up for CoDel to judge.
    for (let rank = 0; rank < this.#lists.length; rank++) {
      const list = this.#lists[rank]!;
      if (codel.overloaded || this.#standing(rank, now)) {
        for (let head = list.head; head !== undefined; head = list.head) {
          if (now - head.since <= codel.sloughMs) break;
          this.#drop(head, 'codel', now);
        }
      }
    }
  }

  /**
   * Whether the queue counts as overloaded: CoDel found the shortest wait of its last interval
   * above target, or the queue has not been empty for a whole interval ("Fail at Scale"'s test,
   * which still holds when newest-first service keeps every served wait short).
   */
  #overloadedAt(now: number): boolean {
    if (this.#codel?.overloaded === true) return true;
    for (let rank = 0; rank < this.#lists.length; rank++)
      if (this.#standing(rank, now)) return true;
    return false;
  }

  /**
   * Whether a priority's own queue has not been empty for a whole interval: a standing queue of
   * sheddable calls says nothing about the critical ones, which are served before them.
   */
  #standing(rank: number, now: number): boolean {
    return this.#lists[rank]!.size > 0 && now - this.#lastEmpty[rank]! >= this.#intervalMs;
  }

  /** A waiter that its standing queue should not serve any more. */
  #tooOld(waitedMs: number, rank: number, now: number): boolean {
    return waitedMs > this.#codel!.sloughMs && this.#standing(rank, now);
  }

  /** The next waiter to serve: the most critical priority's oldest, or its newest under LIFO. */
  #pick(now: number): Waiter {
    for (let rank = 0; rank < this.#lists.length; rank++) {
      const list = this.#lists[rank]!;
      if (list.size === 0) continue;
      return this.#lifo && this.#standing(rank, now) ? list.tail! : list.head!;
    }
    throw new Error('unreachable: a non-empty queue with no waiter');
  }

  #abandon(waiter: Waiter, reason: unknown): void {
    if (!waiter.queued) return;
    this.#unlink(waiter);
    this.#left(waiter, 'aborted', this.#clock.now() - waiter.since);
    waiter.reject(reason);
  }

  /** Sheds every waiter whose queue wait ran out, then re-arms for the earliest one left. */
  #expire(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    let earliest = Number.POSITIVE_INFINITY;
    for (const list of this.#lists) {
      for (let head = list.head; head !== undefined; head = list.head) {
        if (head.due > now) {
          earliest = Math.min(earliest, head.due);
          break;
        }
        this.#drop(head, 'queue-timeout', now);
      }
    }
    if (earliest !== Number.POSITIVE_INFINITY) this.#arm(earliest - now);
  }

  #arm(ms: number): void {
    // A listener of an event emitted while expiring may have queued a call and armed a timer.
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(this.#onTimer, ms);
  }

  /** Takes a waiter off its queue and refuses it. */
  #drop(waiter: Waiter, reason: LoadShedReason & LoadShedderDequeueResult, now: number): void {
    this.#unlink(waiter);
    this.#left(waiter, reason, now - waiter.since);
    waiter.reject(this.#shed(waiter.rank, reason, waiter.key));
  }

  #unlink(waiter: Waiter): void {
    this.#lists[waiter.rank]!.remove(waiter);
    this.#queued--;
    waiter.scope.unwatch(waiter.onAbort);
    if (this.#queued === 0 && this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #left(waiter: Waiter, result: LoadShedderDequeueResult, waitedMs: number): void {
    if (this.events.enabled) {
      const priority = priorities[waiter.rank]!;
      this.events.emit('dequeued', { key: waiter.key, priority, waitedMs, result });
    }
  }

  #shed(rank: number, reason: LoadShedReason, key: string | undefined): LoadShedError {
    this.#shedBy[rank]!++;
    const priority = priorities[rank]!;
    const running = this.#running;
    const queued = this.#queued;
    const retryAfterMs =
      reason === 'pressure'
        ? this.#sampler?.limits.sampleIntervalMs
        : this.#serviceMs === undefined
          ? undefined
          : Math.max(1, Math.ceil(this.#serviceMs));
    if (this.events.enabled) {
      this.events.emit('shed', { key, priority, reason, running, queued, retryAfterMs });
    }
    return new LoadShedError(
      `${this.name} shed a ${priority} call: ${this.#why(reason)} (${running} of ${this.limit} running, ${queued} of ${this.queueLimit} queued)`,
      reason,
      priority,
      retryAfterMs,
    );
  }

  #why(reason: LoadShedReason): string {
    switch (reason) {
      case 'capacity':
        return 'over its occupancy threshold';
      case 'pressure':
        return 'the process is under pressure';
      case 'queue-timeout':
        return `timed out in the queue after ${this.queueTimeoutMs} ms`;
      case 'codel':
        return `waited over ${this.#codel?.sloughMs} ms in a standing queue`;
      case 'evicted':
        return 'evicted from the full queue by a more critical call';
    }
  }

  readonly #onPressure = (underPressure: boolean, reading: PressureReading): void => {
    if (this.events.enabled) this.events.emit('pressure', { underPressure, reading });
  };
}

/**
 * Admission control for a server: runs at most `limit` calls at once with up to `queue` more
 * waiting, and refuses the rest with `LoadShedError`, least critical first.
 */
export function loadShedder(options: LoadShedderOptions): LoadShedderPolicy {
  return new LoadShedderPolicy(options);
}
