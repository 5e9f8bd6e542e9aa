import { systemClock, type TimerHandle } from '../core/clock.js';
import { type Context, next } from '../core/context.js';
import {
  BrokenCircuitError,
  ExecutionRejectedError,
  IsolatedCircuitError,
  TimeoutError,
} from '../core/errors.js';
import type { Disposer } from '../core/events.js';
import { failure, success } from '../core/outcome.js';
import { BasePolicy, describe } from '../core/policy.js';
import { checkClock, checkOptions } from '../core/validate.js';
import type { CircuitBreakerEvents, StateChangeReason } from './events.js';
import {
  type CircuitBreakerOptions,
  type CircuitState,
  DEFAULT_BREAK_MS,
  parseOptions,
  type Settings,
} from './options.js';
import { type CircuitBreakerSnapshot, checkSnapshot } from './snapshot.js';
import { type BreakerState, type CircuitBreakerStats, MemoryBreakerState } from './state.js';
import { FAILED, SLOW } from './windows.js';

/** A half-open trial call's claim on a probe slot, and the timer that fails it if it hangs. */
class ProbeSlot {
  timer: TimerHandle | undefined = undefined;

  constructor(readonly start: number) {}
}

/** The probes of one half-open period. */
class Probing {
  readonly slots: ProbeSlot[] = [];
  successes = 0;
}

/**
 * Reports a bug in the user's `breakDurationMs` function as a process warning: the breaker
 * must still open, and the call that opened it has an outcome of its own to report.
 */
function report(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)));
}

/**
 * Stops calling a dependency that keeps failing: after the opening rule is met it refuses
 * calls for a break, then lets a few probe calls through and closes again if they succeed.
 */
export class CircuitBreakerPolicy<T = unknown> extends BasePolicy<CircuitBreakerEvents, T> {
  readonly #settings: Settings;
  readonly #state: BreakerState;
  /** Made on the first probe and kept: most breakers never probe. */
  #probing: Probing | undefined;
  /** The undisposed isolations; replaced by `reset()`, which voids their disposers. */
  #isolation: { count: number } | undefined;

  constructor(options: CircuitBreakerOptions) {
    const opts = checkOptions<CircuitBreakerOptions>('circuit-breaker', options);
    super('circuit-breaker', opts.name);
    const clock = checkClock(this.name, opts.clock, systemClock);
    this.#settings = parseOptions(this.name, opts, clock);
    if (opts.initialState === undefined) {
      this.#state = new MemoryBreakerState(this.#settings);
    } else {
      const initial = checkSnapshot(this.name, opts.initialState);
      this.#state = new MemoryBreakerState(this.#settings, initial, clock.now());
      if (initial.state === 'isolated') this.#isolation = { count: 1 };
    }
  }

  /** The current state; an open breaker whose break has ended turns half-open here. */
  get state(): CircuitState {
    this.#refresh();
    return this.#state.state;
  }

  /** What the breaker has counted since it last closed, and the probes running now. */
  get stats(): CircuitBreakerStats {
    return {
      ...this.#state.stats(this.#settings.clock.now()),
      activeProbes: this.#probing?.slots.length ?? 0,
    };
  }

  /**
   * Holds the breaker open by hand: every call is refused with `IsolatedCircuitError` until
   * every isolation is disposed, which closes the breaker with a clean slate.
   */
  isolate(): Disposer {
    let isolation = this.#isolation;
    if (isolation === undefined) {
      isolation = { count: 0 };
      this.#isolation = isolation;
    }
    isolation.count++;
    if (this.#state.state !== 'isolated') this.#move('isolated', 'isolated');
    let disposed = false;
    return () => {
      if (disposed) return;
      disposed = true;
      if (this.#isolation !== isolation || --isolation.count > 0) return;
      this.#isolation = undefined;
      this.#move('closed', 'isolation-ended');
    };
  }

  /**
   * Closes the breaker, clears its counts and ends every isolation (their disposers then do
   * nothing).
   */
  reset(): void {
    this.#isolation = undefined;
    if (this.#state.state === 'closed') this.#state.close();
    else this.#move('closed', 'reset');
  }

  /** A plain snapshot for `initialState`; `JSON.stringify(breaker)` uses it. */
  toJSON(): CircuitBreakerSnapshot {
    this.#refresh();
    return this.#state.toJSON(this.#settings.clock.now());
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    const state = this.#state;
    if (state.state !== 'closed') {
      const refused = this.#refusal();
      if (refused !== undefined) {
        // The error is made here rather than in a helper: every frame on the stack adds to the
        // cost of its stack capture, and refusals come by the thousand while a dependency is down.
        const message = this.#refusalMessage(refused);
        return Promise.reject(
          refused === 'isolated'
            ? new IsolatedCircuitError(message)
            : new BrokenCircuitError(message, typeof refused === 'number' ? refused : undefined),
        );
      }
      if (context.scope.aborted) return Promise.reject(context.scope.reason);
      return this.#probe(context, index);
    }
    const generation = state.generation;
    const start =
      this.#settings.slowMs === Number.POSITIVE_INFINITY ? 0 : this.#settings.clock.now();
    return next(context, index + 1).then(
      (value) => {
        this.#settleClosed(true, value, context, generation, start);
        return value;
      },
      (error: unknown) => {
        if (!ignored(error, context)) this.#settleClosed(false, error, context, generation, start);
        throw error;
      },
    );
  }

  #settleClosed(
    ok: boolean,
    result: unknown,
    context: Context,
    generation: number,
    start: number,
  ): void {
    if (this.#state.generation !== generation) return;
    const settings = this.#settings;
    let now = 0;
    let flags = ok ? 0 : FAILED;
    if (settings.timed) {
      now = this.#settings.clock.now();
      if (now - start >= settings.slowMs) flags |= SLOW;
    }
    const failureOn = settings.failureOn;
    if (failureOn !== undefined) {
      try {
        flags = judged(failureOn, flags, ok, result, context);
      } catch (error) {
        this.#countClosed(flags | FAILED, now, ok, result);
        throw error;
      }
    }
    this.#countClosed(flags, now, ok, result);
  }

  #countClosed(flags: number, now: number, ok: boolean, result: unknown): void {
    const reason = this.#state.record(flags, now);
    if (this.events.enabled) this.#emitOutcome('closed', flags, ok, result);
    if (reason !== undefined) this.#open(reason);
  }

  /**
   * Whether a call that finds the breaker not closed is refused: the milliseconds until an
   * open breaker admits probes, 'half-open' when every probe slot is taken, 'isolated', or
   * undefined when the call may run as a probe. An open breaker whose break has ended turns
   * half-open here.
   */
  #refusal(): number | 'half-open' | 'isolated' | undefined {
    const state = this.#state;
    let refused: number | 'half-open' | 'isolated' | undefined;
    if (state.state === 'open') {
      const left = state.openUntil - this.#settings.clock.now();
      if (left > 0) refused = left;
      else this.#move('half-open', 'break-ended');
    } else if (state.state === 'isolated') {
      refused = 'isolated';
    }
    if (refused === undefined && (this.#probing?.slots.length ?? 0) >= this.#settings.probes) {
      refused = 'half-open';
    }
    if (refused !== undefined && this.events.enabled) {
      if (typeof refused === 'number') {
        this.events.emit('rejected', { state: 'open', retryAfterMs: refused });
      } else {
        this.events.emit('rejected', { state: refused, retryAfterMs: undefined });
      }
    }
    return refused;
  }

  #refusalMessage(refused: number | 'half-open' | 'isolated'): string {
    const name = JSON.stringify(this.name);
    if (refused === 'isolated') return `Circuit breaker ${name} is isolated`;
    if (refused === 'half-open') {
      return `Circuit breaker ${name} is half-open and its ${this.#settings.probes} probe slot(s) are taken`;
    }
    return `Circuit breaker ${name} is open; probes are admitted in ${Math.ceil(refused)} ms`;
  }

  /**
   * Runs one probe. The call is watched for the caller's abort (which frees the slot and
   * rejects at once) and timed by `maxMs` (which fails the probe but lets the call go on).
   */
  #probe(context: Context, index: number): Promise<unknown> {
    const clock = this.#settings.clock;
    const scope = context.scope;
    const slot = new ProbeSlot(clock.now());
    this.#probing ??= new Probing();
    this.#probing.slots.push(slot);
    return new Promise((resolve, reject) => {
      let done = false;
      const onAbort = (reason: unknown): void => {
        if (done) return;
        done = true;
        this.#free(slot);
        reject(reason);
      };
      const settle = (ok: boolean, result: unknown): void => {
        if (done) return;
        done = true;
        scope.unwatch(onAbort);
        try {
          this.#settleProbe(slot, ok, result, context);
        } catch (error) {
          reject(error);
          return;
        }
        if (ok) resolve(result);
        else reject(result);
      };
      next(context, index + 1).then(
        (value) => settle(true, value),
        (error: unknown) => settle(false, error),
      );
      slot.timer = clock.setTimeout(() => {
        slot.timer = undefined;
        if (this.#free(slot)) this.#open('probe-hung');
      }, this.#settings.maxMs);
      scope.watch(onAbort);
    });
  }

  #settleProbe(slot: ProbeSlot, ok: boolean, result: unknown, context: Context): void {
    if (!this.#probing?.slots.includes(slot)) return;
    if (!ok && ignored(result, context)) {
      this.#free(slot);
      return;
    }
    const settings = this.#settings;
    let flags = ok ? 0 : FAILED;
    if (this.#settings.clock.now() - slot.start >= settings.slowMs) flags |= SLOW;
    const failureOn = settings.failureOn;
    if (failureOn !== undefined) {
      try {
        flags = judged(failureOn, flags, ok, result, context);
      } catch (error) {
        this.#countProbe(slot, flags | FAILED, ok, result);
        throw error;
      }
    }
    this.#countProbe(slot, flags, ok, result);
  }

  #countProbe(slot: ProbeSlot, flags: number, ok: boolean, result: unknown): void {
    if (!this.#free(slot)) return;
    if (this.events.enabled) this.#emitOutcome('half-open', flags, ok, result);
    if (flags !== 0) this.#open('probe-failed');
    else if (++this.#probing!.successes >= this.#settings.probes) {
      this.#move('closed', 'probes-succeeded');
    }
  }

  #emitOutcome(state: 'closed' | 'half-open', flags: number, ok: boolean, result: unknown): void {
    const slow = (flags & SLOW) !== 0;
    if (flags & FAILED) {
      const outcome = ok ? success(result) : failure(result);
      this.events.emit('failure', { state, outcome, slow });
    } else {
      this.events.emit('success', { state, slow });
    }
  }

  /** Gives a probe's slot back; false if a transition already took it. */
  #free(slot: ProbeSlot): boolean {
    const slots = this.#probing?.slots;
    const at = slots === undefined ? -1 : slots.indexOf(slot);
    if (at === -1) return false;
    slots!.splice(at, 1);
    if (slot.timer !== undefined) {
      this.#settings.clock.clearTimeout(slot.timer);
      slot.timer = undefined;
    }
    return true;
  }

  /** Turns an open breaker whose break has ended half-open. */
  #refresh(): void {
    const state = this.#state;
    if (state.state === 'open' && this.#settings.clock.now() >= state.openUntil) {
      this.#move('half-open', 'break-ended');
    }
  }

  #open(reason: 'failures' | 'slow-calls' | 'probe-failed' | 'probe-hung'): void {
    const breakMs = this.#breakMs(this.#state.consecutiveOpens + 1);
    this.#move('open', reason, this.#settings.clock.now() + breakMs);
  }

  #breakMs(consecutiveOpens: number): number {
    const setting = this.#settings.breakDurationMs;
    if (typeof setting === 'number') return setting;
    let ms: unknown;
    try {
      ms = setting(consecutiveOpens);
    } catch (error) {
      report(error);
      return DEFAULT_BREAK_MS;
    }
    if (typeof ms === 'number' && ms >= 0 && Number.isFinite(ms)) return ms;
    report(
      new TypeError(
        `${this.name}: breakDurationMs(${consecutiveOpens}) returned ${describe(ms)}, ` +
          `not milliseconds >= 0; the breaker opened for ${DEFAULT_BREAK_MS} ms instead`,
      ),
    );
    return DEFAULT_BREAK_MS;
  }

  #move(to: CircuitState, reason: StateChangeReason, openUntil = 0): void {
    const state = this.#state;
    const from = state.state;
    const probing = this.#probing;
    if (probing !== undefined) {
      const clock = this.#settings.clock;
      for (const slot of probing.slots)
        if (slot.timer !== undefined) clock.clearTimeout(slot.timer);
      probing.slots.length = 0;
      probing.successes = 0;
    }
    if (to === 'open') state.open(openUntil);
    else if (to === 'half-open') state.halfOpen();
    else if (to === 'closed') state.close();
    else state.isolate();
    if (this.events.enabled) this.events.emit('stateChange', { from, to, reason });
  }
}

/** A settled call's flags as `failureOn` judges its outcome: FAILED set or cleared, SLOW kept. */
function judged(
  failureOn: NonNullable<Settings['failureOn']>,
  flags: number,
  ok: boolean,
  result: unknown,
  context: Context,
): number {
  return failureOn(ok ? success(result) : failure(result), context) ? flags | FAILED : flags & SLOW;
}

/**
 * Outcomes that count neither way: the call was cancelled from outside (the caller's abort or
 * an enclosing timeout), or an inner policy refused to run it (bulkhead full, inner breaker
 * open, ...) so the dependency never saw it. An inner timeout does count: the dependency was
 * too slow.
 */
function ignored(error: unknown, context: Context): boolean {
  if (context.scope.aborted) return true;
  return error instanceof ExecutionRejectedError && !(error instanceof TimeoutError);
}

/**
 * A circuit breaker: see {@link CircuitBreakerOptions}. Exactly one opening rule is required,
 * `consecutiveFailures` or a sliding `window`.
 */
export function circuitBreaker<T = unknown>(
  options: CircuitBreakerOptions<T>,
): CircuitBreakerPolicy<T> {
  return new CircuitBreakerPolicy<T>(options as CircuitBreakerOptions);
}
