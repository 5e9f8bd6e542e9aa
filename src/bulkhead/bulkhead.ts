import type { AbortScope } from '../core/abort-scope.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { type Context, next } from '../core/context.js';
import { BulkheadRejectedError, ExecutionRejectedError } from '../core/errors.js';
import { type GaugeSink, readGauges, registerGauges } from '../core/gauges.js';
import { type ConcurrencyLimit, isConcurrencyLimit } from '../core/limit.js';
import { LinkedList } from '../core/linked-list.js';
import { BasePolicy, type PolicyOptions } from '../core/policy.js';
import { checkInteger, checkMs, checkOptions, invalid } from '../core/validate.js';
import { Waiter } from './waiter.js';

export interface BulkheadOptions extends PolicyOptions {
  /**
   * Most calls running at once. Required: an integer >= 1, or a {@link ConcurrencyLimit} such
   * as `adaptiveLimit()`, read whenever a call arrives or a slot frees and told how each call
   * went.
   */
  limit: number | ConcurrencyLimit;
  /**
   * Most calls waiting for a slot, served first in, first out. An integer >= 0 or Infinity.
   * Default: 0 (no queue: a call that finds every slot taken is refused at once).
   */
  queue?: number;
  /**
   * Longest a call may wait in the queue before it is refused with `BulkheadRejectedError`, in
   * milliseconds (>= 0, or Infinity). Default: Infinity.
   */
  queueTimeoutMs?: number;
}

/** Why a bulkhead refused a call. */
export type BulkheadRejectReason = 'full' | 'queueTimeout';

/** How a call left the queue. */
export type BulkheadDequeueResult = 'started' | 'queueTimeout' | 'aborted';

export interface BulkheadEvents {
  /** A call was refused: every slot and queue place taken, or its queue wait ran out. */
  rejected: {
    /** The refused call's key. */
    readonly key: string | undefined;
    readonly reason: BulkheadRejectReason;
    /** Calls running at the refusal. */
    readonly running: number;
    /** Calls still waiting at the refusal (the refused call not counted). */
    readonly queued: number;
  };
  /** A call found every slot taken and joined the queue. */
  queued: {
    /** The waiting call's key. */
    readonly key: string | undefined;
    readonly running: number;
    /** Calls waiting, this one included. */
    readonly queued: number;
  };
  /** A call left the queue: it got a slot, its wait ran out, or its caller aborted. */
  dequeued: {
    /** The call's key. */
    readonly key: string | undefined;
    readonly waitedMs: number;
    readonly result: BulkheadDequeueResult;
  };
}

/**
 * Limits how many calls run at once, with an optional FIFO queue for the overflow. A running
 * call that settles hands its slot straight to the oldest waiter, so a newcomer can never
 * overtake the queue.
 */
export class BulkheadPolicy extends BasePolicy<BulkheadEvents> {
  /** The fixed limit; unused when the limit adapts. */
  readonly #limit: number;
  /** The adaptive limit, if one was given. */
  readonly #adaptive: ConcurrencyLimit | undefined;
  readonly queueLimit: number;
  readonly queueTimeoutMs: number;
  readonly #clock: Clock;
  /** FIFO; a waiter that gives up (abort, queue timeout) leaves from anywhere in O(1). */
  readonly #waiters = new LinkedList<Waiter>();
  #running = 0;
  /** One timer for every queue timeout, armed for the oldest waiter's. */
  #timer: TimerHandle | undefined;
  readonly #onTimer = (): void => this.#expire();

  constructor(options: BulkheadOptions) {
    const opts = checkOptions<BulkheadOptions>('bulkhead', options);
    super('bulkhead', opts.name);
    if (isConcurrencyLimit(opts.limit)) {
      this.#adaptive = opts.limit;
      this.#limit = 0;
    } else {
      if (typeof opts.limit === 'object' && opts.limit !== null) {
        throw invalid(
          this.name,
          'limit',
          opts.limit,
          'an integer >= 1 or a ConcurrencyLimit (with current and sample())',
        );
      }
      this.#limit = checkInteger(this.name, 'limit', opts.limit, 1);
    }
    this.queueLimit = checkInteger(this.name, 'queue', opts.queue ?? 0, 0, true);
    this.queueTimeoutMs = checkMs(
      this.name,
      'queueTimeoutMs',
      opts.queueTimeoutMs ?? Number.POSITIVE_INFINITY,
      0,
      true,
    );
    this.#clock = this.useClock(opts.clock);
    registerGauges(this);
  }

  /** @internal */
  [readGauges](sink: GaugeSink): void {
    sink.value(this.name, 'bulkhead', 'running', this.#running);
    sink.value(this.name, 'bulkhead', 'queued', this.#waiters.size);
    sink.value(this.name, 'bulkhead', 'limit', this.limit);
  }

  /** Most calls running at once, now: the fixed limit, or the adaptive limit's `current`. */
  get limit(): number {
    return this.#adaptive === undefined ? this.#limit : this.#adaptive.current;
  }

  /** The adaptive limit this bulkhead follows, or undefined for a fixed one. */
  get adaptiveLimit(): ConcurrencyLimit | undefined {
    return this.#adaptive;
  }

  /** Calls holding a slot now. */
  get running(): number {
    return this.#running;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.#waiters.size;
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    if (context.scope.aborted) return Promise.reject(context.scope.reason);
    if (this.#adaptive !== undefined) return this.#runAdaptive(this.#adaptive, context, index);
    // A slot is only ever free while the queue is empty: release hands it to a waiter first.
    if (this.#running >= this.#limit) return this.#runQueued(context, index);
    this.#running++;
    // Handlers made once per policy: the free-slot path allocates nothing of its own.
    return next(context, index + 1).then(this.#releaseWith, this.#releaseWithError);
  }

  readonly #releaseWith = (value: unknown): unknown => {
    this.#release();
    return value;
  };

  readonly #releaseWithError = (error: unknown): never => {
    this.#release();
    throw error;
  };

  async #runQueued(context: Context, index: number): Promise<unknown> {
    await this.#wait(context.scope, context.key);
    try {
      // The slot came, but the caller may have aborted in the moment before this resumed.
      if (context.scope.aborted) throw context.scope.reason;
      return await next(context, index + 1);
    } finally {
      this.#release();
    }
  }

  /**
   * The adaptive path: the limit may move under running calls, so a slot is taken only while
   * fewer than `current` run, waiters go first, and each call's latency, the calls running at
   * its start (itself included) and whether it was dropped are fed back to the limit.
   */
  async #runAdaptive(limit: ConcurrencyLimit, context: Context, index: number): Promise<unknown> {
    // Another user of the same limit may have raised it since a slot last freed here.
    if (this.#waiters.size > 0) this.#admitWaiters(limit.current);
    if (this.#running < limit.current && this.#waiters.size === 0) this.#running++;
    else {
      await this.#wait(context.scope, context.key);
      if (context.scope.aborted) {
        this.#releaseAdaptive(limit);
        throw context.scope.reason;
      }
    }
    const inflight = this.#running;
    const start = this.#clock.now();
    let dropped = false;
    try {
      return await next(context, index + 1);
    } catch (error) {
      dropped = error instanceof ExecutionRejectedError;
      throw error;
    } finally {
      try {
        const scope = context.scope;
        // A call its caller abandoned says nothing about the dependency; one cut off by a
        // deadline from around the bulkhead (a TimeoutError) was too slow: a drop.
        if (!scope.aborted) limit.sample(this.#clock.now() - start, inflight, dropped);
        else if (scope.reason instanceof ExecutionRejectedError) {
          limit.sample(this.#clock.now() - start, inflight, true);
        }
      } finally {
        // Even if the limit's sample() throws, the slot is not lost.
        this.#releaseAdaptive(limit);
      }
    }
  }

  #releaseAdaptive(limit: ConcurrencyLimit): void {
    this.#running--;
    this.#admitWaiters(limit.current);
  }

  /** Starts waiters, oldest first, while fewer than `limit` calls run. */
  #admitWaiters(limit: number): void {
    while (this.#running < limit) {
      const waiter = this.#waiters.shift();
      if (waiter === undefined) return;
      this.#running++;
      waiter.scope.unwatch(waiter.onAbort);
      this.#left(waiter, 'started');
      waiter.resolve();
    }
  }

  /** Resolves once a slot is handed over; rejects on a full queue, queue timeout or abort. */
  #wait(scope: AbortScope, key: string | undefined): Promise<void> {
    const queued = this.#waiters.size;
    if (queued >= this.queueLimit) {
      return Promise.reject(this.#refuse('full', `${this.name} is full`, key));
    }
    const now = this.#clock.now();
    const waiter = new Waiter(scope, key, now, now + this.queueTimeoutMs);
    const promise = new Promise<void>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    waiter.onAbort = (reason) => this.#abandon(waiter, reason);
    this.#waiters.push(waiter);
    // Waiters join in due order, so a timer already armed is armed for an earlier one.
    if (this.#timer === undefined && waiter.due !== Number.POSITIVE_INFINITY) {
      this.#arm(this.queueTimeoutMs);
    }
    if (this.events.enabled) {
      this.events.emit('queued', { key, running: this.#running, queued: queued + 1 });
    }
    scope.watch(waiter.onAbort);
    return promise;
  }

  /** Frees the caller's slot, or passes it on to the oldest waiter. */
  #release(): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#running--;
      return;
    }
    waiter.scope.unwatch(waiter.onAbort);
    this.#left(waiter, 'started');
    waiter.resolve();
  }

  #abandon(waiter: Waiter, reason: unknown): void {
    if (!waiter.queued) return;
    this.#waiters.remove(waiter);
    this.#left(waiter, 'aborted');
    waiter.reject(reason);
  }

  /** Refuses every waiter whose time is up, then re-arms for the oldest one left. */
  #expire(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    for (let head = this.#waiters.head; head !== undefined; head = this.#waiters.head) {
      if (head.due > now) {
        this.#arm(head.due - now);
        return;
      }
      this.#waiters.remove(head);
      head.scope.unwatch(head.onAbort);
      this.#left(head, 'queueTimeout');
      head.reject(
        this.#refuse(
          'queueTimeout',
          `${this.name} timed out in the queue after ${this.queueTimeoutMs} ms`,
          head.key,
        ),
      );
    }
  }

  #arm(ms: number): void {
    // A listener of an event emitted while expiring may have queued a call and armed a timer.
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(this.#onTimer, ms);
  }

  /** Bookkeeping for a waiter that just left the queue. */
  #left(waiter: Waiter, result: BulkheadDequeueResult): void {
    if (this.#waiters.size === 0 && this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.events.enabled) {
      const waitedMs = this.#clock.now() - waiter.since;
      this.events.emit('dequeued', { key: waiter.key, waitedMs, result });
    }
  }

  #refuse(
    reason: BulkheadRejectReason,
    what: string,
    key: string | undefined,
  ): BulkheadRejectedError {
    const running = this.#running;
    const queued = this.#waiters.size;
    if (this.events.enabled) this.events.emit('rejected', { key, reason, running, queued });
    return new BulkheadRejectedError(
      `${what} (${running} of ${this.limit} running, ${queued} of ${this.queueLimit} queued)`,
      running,
      queued,
    );
  }
}

/**
 * Runs at most `limit` calls at once; up to `queue` more wait their turn in order, each for at
 * most `queueTimeoutMs`. Anything beyond is refused with `BulkheadRejectedError`.
 */
export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  return new BulkheadPolicy(options);
}
