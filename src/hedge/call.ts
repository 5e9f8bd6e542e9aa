import { AbortScope } from '../core/abort-scope.js';
import type { AttemptBudget } from '../core/budget.js';
import { type Classifier, classOf } from '../core/classify.js';
import type { Clock } from '../core/clock.js';
import { Context, type ExecutionContext, next } from '../core/context.js';
import type { Deadline, DeadlineQueue } from '../core/deadline-queue.js';
import { ExecutionRejectedError, HedgeLostError, TimeoutError } from '../core/errors.js';
import type { PolicyEvents } from '../core/events.js';
import type { Outcome } from '../core/outcome.js';
import { verdict } from '../core/validate.js';

/** Decides whether an attempt's outcome starts the next attempt instead of ending the call. */
export type HedgePredicate<T = unknown> = (
  outcome: Outcome<T>,
  context: ExecutionContext,
) => boolean;

/** Why a hedged call ended on an outcome it would rather have hedged on, or without one. */
export type HedgeGiveUpReason = 'notHedgeable' | 'maxHedges' | 'budget' | 'deadline' | 'aborted';

/** Each detail carries the call's `key` (`execute(fn, { key })`), undefined when none. */
export interface HedgeEvents {
  /** An extra attempt started: its delay ran out, or the previous attempt failed hedgeably. */
  hedge: {
    readonly key: string | undefined;
    /** The new attempt's number: 2 for the first hedge. */
    readonly attempt: number;
    /** Milliseconds since the previous attempt started. */
    readonly delayMs: number;
    /** 'delay': no outcome came within the delay; 'outcome': `shouldHedge` accepted a failure. */
    readonly trigger: 'delay' | 'outcome';
  };
  /** A hedge was due but the budget refused it. */
  budgetExhausted: {
    readonly key: string | undefined;
    /** The number the refused attempt would have had. */
    readonly attempt: number;
  };
  /** An acceptable success ended the call. */
  success: {
    readonly key: string | undefined;
    /** The attempt whose result the caller got: 1 when the original won. */
    readonly attempt: number;
    /** Attempts started in all; `attempts - 1` extra requests were sent. */
    readonly attempts: number;
  };
  /** The call ended without an acceptable success. */
  giveUp: {
    readonly key: string | undefined;
    /** Attempts started in all. */
    readonly attempts: number;
    /** The outcome the caller got (the caller's abort reason, for 'aborted'). */
    readonly outcome: Outcome;
    readonly reason: HedgeGiveUpReason;
  };
}

/**
 * What `hedge` hedges on when no `shouldHedge` is given: errors, except refusals (an open
 * breaker, a full bulkhead, a rate limit: another attempt at once would be refused too), but
 * with `TimeoutError`, a slow attempt, counted as a failure to hedge on. Never a result.
 */
export function defaultShouldHedge(outcome: Outcome): boolean {
  if (outcome.ok) return false;
  const error = outcome.error;
  return !(error instanceof ExecutionRejectedError) || error instanceof TimeoutError;
}

/** The call's classifier decides; where it abstains, the default rule does. */
function hedgeAsClassified(policy: string, classify: Classifier, outcome: Outcome): boolean {
  const answer = classOf(policy, classify, outcome);
  return answer === undefined ? defaultShouldHedge(outcome) : answer === 'retryable';
}

/** What the calls of one policy share: its settings and state. @internal */
export interface HedgeRuntime {
  readonly name: string;
  readonly maxHedges: number;
  readonly clock: Clock;
  readonly queue: DeadlineQueue;
  readonly budget: AttemptBudget | undefined;
  readonly shouldHedge: HedgePredicate | undefined;
  readonly events: PolicyEvents<HedgeEvents>;
  /** Whether winning latencies are recorded (a percentile delay). */
  readonly observes: boolean;
  /** The delay before the next hedge, now. */
  readonly delayMs: number;
  observe(ms: number): void;
}

/** What the call keeps of each attempt: its context (with its own abort scope), its start. */
export interface AttemptState {
  readonly context: Context;
  readonly start: number;
  running: boolean;
}

/** A hedge of a call (attempt 2 on): its state and its handlers. The call is attempt 1. */
export class Attempt implements AttemptState {
  running = true;
  readonly onValue = (value: unknown): void => this.call.settled(this, true, value);
  readonly onError = (error: unknown): void => this.call.settled(this, false, error);

  constructor(
    readonly call: HedgedCall,
    readonly context: Context,
    readonly start: number,
  ) {}
}

/**
 * One call under a hedge policy: its place in the delay queue, its promise, its hedges, and
 * its original attempt, whose state it holds itself so that a call whose original wins
 * allocates no attempt object.
 */
export class HedgedCall implements Deadline, AttemptState {
  prev: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  queued = false;
  index = -1;
  due = 0;
  /** The original attempt's context, start and state (see {@link AttemptState}). */
  context!: Context;
  start = 0;
  running = false;
  readonly promise: Promise<unknown>;
  #resolve!: (value: unknown) => void;
  #reject!: (error: unknown) => void;
  #done = false;
  #started = 0;
  /** Attempts started and not yet settled. */
  #inFlight = 0;
  #more: Attempt[] | undefined;
  #onAbort: ((reason: unknown) => void) | undefined;
  readonly #onValue = (value: unknown): void => this.settled(this, true, value);
  readonly #onError = (error: unknown): void => this.settled(this, false, error);

  constructor(
    readonly runtime: HedgeRuntime,
    readonly outer: Context,
    readonly position: number,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Starts the original attempt and, unless it has already ended the call, arms the delay. */
  begin(): void {
    // The clock first: if it throws, nothing is left watching the caller's signal.
    const now = this.runtime.clock.now();
    const scope = this.outer.scope;
    if (scope !== AbortScope.none) {
      this.#onAbort = (reason) => this.#aborted(reason);
      scope.watch(this.#onAbort);
      if (this.#done) return;
    }
    this.#start(now);
    if (!this.#done) this.#schedule(now);
  }

  /** The delay ran out with no outcome in: hedge, if the budget and deadline allow. */
  expire(): void {
    if (!this.#done) this.#hedge('delay', this.runtime.clock.now());
  }

  /** An attempt settled. @internal */
  settled(attempt: AttemptState, ok: boolean, payload: unknown): void {
    attempt.running = false;
    attempt.context.scope.dispose();
    // A loser, settling after the call ended (or the caller left): nobody wants its outcome.
    if (this.#done) return;
    this.#inFlight--;
    const runtime = this.runtime;
    const classify = attempt.context.classify;
    let hedgeable: boolean;
    if (runtime.shouldHedge === undefined && classify === undefined) {
      hedgeable = !ok && defaultShouldHedge({ ok: false, error: payload });
    } else {
      const outcome: Outcome = ok ? { ok: true, value: payload } : { ok: false, error: payload };
      try {
        hedgeable =
          runtime.shouldHedge !== undefined
            ? verdict(
                runtime.name,
                'shouldHedge',
                runtime.shouldHedge(outcome, attempt.context),
                outcome,
              )
            : hedgeAsClassified(runtime.name, classify!, outcome);
      } catch (error) {
        // A broken predicate ends the call with its error, like any final failure.
        this.#end(attempt, false, error, undefined);
        return;
      }
    }
    if (!hedgeable) {
      this.#end(attempt, ok, payload, ok ? 'success' : 'notHedgeable');
      return;
    }
    const refused = this.#hedge('outcome', runtime.clock.now());
    // Nothing else will come: the call ends on this, the last outcome to arrive.
    if (refused !== undefined && this.#inFlight === 0) this.#end(attempt, ok, payload, refused);
  }

  #start(now: number): void {
    const number = ++this.#started;
    const c = this.outer;
    const context = new Context(
      c.task,
      c.chain,
      new AbortScope(c.scope),
      number,
      c.key,
      c.data,
      c.deadline,
      c.deadlineEnforced,
      c.priority,
      c.classify,
    );
    this.#inFlight++;
    if (number === 1) {
      this.context = context;
      this.start = now;
      this.running = true;
      next(context, this.position + 1).then(this.#onValue, this.#onError);
      return;
    }
    const attempt = new Attempt(this, context, now);
    if (this.#more === undefined) this.#more = [attempt];
    else this.#more.push(attempt);
    next(context, this.position + 1).then(attempt.onValue, attempt.onError);
  }

  /** Queues the delay before the next hedge, if one may follow and fits the deadline. */
  #schedule(now: number): void {
    const runtime = this.runtime;
    if (this.#started > runtime.maxHedges) return;
    const delay = runtime.delayMs;
    if (now + delay >= this.outer.deadline) return;
    if (delay === 0) {
      this.#hedge('delay', now);
      return;
    }
    this.due = now + delay;
    runtime.queue.add(this);
  }

  /** Starts the next attempt now; answers why not when it may not. */
  #hedge(trigger: 'delay' | 'outcome', now: number): HedgeGiveUpReason | undefined {
    const runtime = this.runtime;
    const number = this.#started + 1;
    if (number > runtime.maxHedges + 1) return 'maxHedges';
    if (now >= this.outer.deadline) return 'deadline';
    const key = this.outer.key;
    if (runtime.budget !== undefined && !runtime.budget.tryAcquire()) {
      if (runtime.events.enabled) runtime.events.emit('budgetExhausted', { key, attempt: number });
      return 'budget';
    }
    runtime.queue.remove(this);
    if (runtime.events.enabled) {
      const previous = this.#more === undefined ? this : this.#more[this.#more.length - 1]!;
      runtime.events.emit('hedge', {
        key,
        attempt: number,
        delayMs: now - previous.start,
        trigger,
      });
    }
    this.#start(now);
    if (!this.#done) this.#schedule(now);
    return undefined;
  }

  /**
   * Ends the call with `winner`'s outcome: the losers' signals abort with a `HedgeLostError`.
   * `reason` is the event to emit: 'success', a give-up reason, or none (a broken predicate).
   */
  #end(
    winner: AttemptState,
    ok: boolean,
    payload: unknown,
    reason: 'success' | HedgeGiveUpReason | undefined,
  ): void {
    this.#done = true;
    const runtime = this.runtime;
    runtime.queue.remove(this);
    if (this.#onAbort !== undefined) this.outer.scope.unwatch(this.#onAbort);
    if (this.#inFlight > 0) {
      const lost = new HedgeLostError(winner.context.attempt);
      if (this.running) this.context.scope.abort(lost);
      if (this.#more !== undefined) {
        for (const attempt of this.#more) if (attempt.running) attempt.context.scope.abort(lost);
      }
    }
    const key = this.outer.key;
    if (reason === 'success') {
      // The call's latency, from its first attempt: a hedge that won is timed from the call's
      // start, not its own, or fast hedges would drag the percentile down and hedge ever more.
      if (runtime.observes) runtime.observe(runtime.clock.now() - this.start);
      if (runtime.events.enabled) {
        runtime.events.emit('success', {
          key,
          attempt: winner.context.attempt,
          attempts: this.#started,
        });
      }
    } else if (reason !== undefined && runtime.events.enabled) {
      const outcome: Outcome = ok ? { ok: true, value: payload } : { ok: false, error: payload };
      runtime.events.emit('giveUp', { key, attempts: this.#started, outcome, reason });
    }
    if (ok) this.#resolve(payload);
    else this.#reject(payload);
  }

  /** The caller aborted (or an enclosing timeout expired): stop everything with its reason. */
  #aborted(reason: unknown): void {
    if (this.#done) return;
    this.#done = true;
    const runtime = this.runtime;
    runtime.queue.remove(this);
    if (this.running) this.context.scope.abort(reason);
    if (this.#more !== undefined) {
      for (const attempt of this.#more) if (attempt.running) attempt.context.scope.abort(reason);
    }
    if (runtime.events.enabled) {
      runtime.events.emit('giveUp', {
        key: this.outer.key,
        attempts: this.#started,
        outcome: { ok: false, error: reason },
        reason: 'aborted',
      });
    }
    this.#reject(reason);
  }
}
