import { systemClock } from '../core/clock.js';
import { type Context, next } from '../core/context.js';
import { BrokenCircuitError, IsolatedCircuitError, TimeoutError } from '../core/errors.js';
import type { Disposer } from '../core/events.js';
import { failure, success } from '../core/outcome.js';
import { BasePolicy, describe } from '../core/policy.js';
import { checkClock, checkOptions } from '../core/validate.js';
import type { CircuitBreakerEvents, StateChangeReason } from './events.js';
import {
  type CircuitBreakerMode,
  type CircuitBreakerOptions,
  type CircuitState,
  DEFAULT_BREAK_MS,
  parseOptions,
  type Settings,
} from './options.js';
import { type CircuitBreakerSnapshot, checkSnapshot } from './snapshot.js';
import {
  type BreakerState,
  type CircuitBreakerStats,
  MemoryBreakerState,
  type OpenReason,
} from './state.js';
import { classified, ignored, judged, ProbeSlot, report, Trip } from './trip.js';
import { FAILED, SLOW } from './windows.js';

/** Why a call is refused: the milliseconds left in the break, every probe taken, or isolated. */
type Refusal = number | 'half-open' | 'isolated';

/**
 * What happens to a call that finds the breaker disabled or not closed: it runs uncounted
 * ('pass'), as a probe, as a closed call (a listener closed the breaker), or is refused.
 */
type Admission = 'pass' | 'probe' | 'closed' | Refusal;

/**
 * Stops calling a dependency that keeps failing: after the opening rule is met it refuses
 * calls for a break, then lets a few probe calls through and closes again if they succeed.
 */
export class CircuitBreakerPolicy<T = unknown> extends BasePolicy<CircuitBreakerEvents, T> {
  readonly #settings: Settings;
  readonly #state: BreakerState;
  /** Made on the first open or probe: most breakers never open. */
  #trip: Trip | undefined;
  /** The undisposed isolations; replaced by `reset()`, which voids their disposers. */
  #isolation: { count: number } | undefined;
  #disabled = false;

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
      if (initial.disabled === true) this.#disabled = true;
    }
  }

  /**
   * The current state. Reading it changes nothing: an open breaker whose break has ended stays
   * 'open' (with `retryAfterMs` 0) until the next call turns it half-open.
   */
  get state(): CircuitState {
    return this.#state.state;
  }

  /**
   * Milliseconds until an open breaker admits a probe: 0 once the break has ended, undefined
   * when the breaker is not open.
   */
  get retryAfterMs(): number | undefined {
    const state = this.#state;
    if (state.state !== 'open') return undefined;
    const left = state.openUntil - this.#settings.clock.now();
    return left > 0 ? left : 0;
  }

  /** 'enforcing' or 'metrics-only' as configured, or 'disabled' between `disable()` and `enable()`. */
  get mode(): CircuitBreakerMode {
    if (this.#disabled) return 'disabled';
    return this.#settings.enforcing ? 'enforcing' : 'metrics-only';
  }

  /** What the breaker has counted since it last closed, and the probes running now. */
  get stats(): CircuitBreakerStats {
    return {
      ...this.#state.stats(this.#settings.clock.now()),
      activeProbes: this.#trip?.slots.length ?? 0,
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
    if (this.#state.state !== 'isolated') this.#move('isolated', 'isolated', undefined);
    let disposed = false;
    return () => {
      if (disposed) return;
      disposed = true;
      if (this.#isolation !== isolation || --isolation.count > 0) return;
      this.#isolation = undefined;
      this.#move('closed', 'isolation-ended', undefined);
    };
  }

  /**
   * Closes the breaker, clears its counts and ends every isolation (their disposers then do
   * nothing).
   */
  reset(): void {
    this.#isolation = undefined;
    if (this.#state.state === 'closed') this.#state.close();
    else this.#move('closed', 'reset', undefined);
  }

  /**
   * Turns the breaker off, e.g. during an incident: until `enable()`, every call runs and
   * nothing is counted. The state stays as it is (only `isolate()` and `reset()` change it);
   * probes still running no longer count.
   */
  disable(): void {
    if (this.#disabled) return;
    const from = this.mode;
    this.#disabled = true;
    this.#dropProbes();
    if (this.events.enabled) this.events.emit('modeChange', { from, to: 'disabled' });
  }

  /** Ends `disable()`: the breaker goes on in its configured mode from the state it is in. */
  enable(): void {
    if (!this.#disabled) return;
    this.#disabled = false;
    if (this.events.enabled) this.events.emit('modeChange', { from: 'disabled', to: this.mode });
  }

  /** A plain snapshot for `initialState`; `JSON.stringify(breaker)` uses it. */
  toJSON(): CircuitBreakerSnapshot {
    return { ...this.#state.toJSON(this.#settings.clock.now()), disabled: this.#disabled };
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    const state = this.#state;
    if (state.state !== 'closed' || this.#disabled) {
      const admission = this.#admit(context);
      if (admission === 'pass') return next(context, index + 1);
      if (admission === 'probe') {
        if (context.scope.aborted) return Promise.reject(context.scope.reason);
        return this.#probe(context, index);
      }
      if (admission !== 'closed') {
        // The error is made here rather than in a helper: every frame on the stack adds to the
        // cost of its stack capture, and refusals come by the thousand while a dependency is down.
        const message = this.#refusalMessage(admission);
        return Promise.reject(
          admission === 'isolated'
            ? new IsolatedCircuitError(message)
            : new BrokenCircuitError(
                message,
                typeof admission === 'number' ? admission : undefined,
                this.#trip?.cause,
              ),
        );
      }
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
    if (this.#state.generation !== generation || this.#disabled) return;
    const settings = this.#settings;
    let now = 0;
    let flags = ok ? 0 : FAILED;
    if (settings.timed) {
      now = settings.clock.now();
      if (now - start >= settings.slowMs) flags |= SLOW;
    }
    const failureOn = settings.failureOn;
    const classify = context.classify;
    if (failureOn !== undefined || classify !== undefined) {
      try {
        flags =
          failureOn !== undefined
            ? judged(this.name, failureOn, flags, ok, result, context)
            : classified(this.name, classify!, flags, ok, result);
      } catch (error) {
        if (this.#state.generation === generation) {
          this.#countClosed(flags | FAILED, now, ok, result, context);
        }
        throw error;
      }
      // A failureOn that reset or isolated the breaker has the last word.
      if (this.#state.generation !== generation) return;
    }
    this.#countClosed(flags, now, ok, result, context);
  }

  #countClosed(flags: number, now: number, ok: boolean, result: unknown, context: Context): void {
    const state = this.#state;
    const reason = state.record(flags, now);
    if (this.events.enabled) {
      const generation = state.generation;
      this.#emitOutcome('closed', flags, ok, result, context.key);
      // A listener that isolated, reset or disabled the breaker has the last word.
      if (state.generation !== generation || this.#disabled) return;
    }
    if (reason !== undefined) {
      this.#open(reason, context.key, flags & FAILED ? { cause: result } : undefined);
    }
  }

  /**
   * Decides for a call that finds the breaker disabled or not closed, emitting `rejected` for a
   * refusal. An open breaker whose break has ended turns half-open here, at its first call. In
   * metrics-only mode a refusal is only reported and the call passes.
   */
  #admit(context: Context): Admission {
    if (this.#disabled) return 'pass';
    const state = this.#state;
    let refused: Refusal;
    if (state.state === 'closed') {
      return 'closed';
    } else if (state.state === 'isolated') {
      refused = 'isolated';
    } else if (state.state === 'half-open') {
      if (this.#probeFree()) return 'probe';
      refused = 'half-open';
    } else {
      const left = state.openUntil - this.#settings.clock.now();
      if (left <= 0) {
        this.#move('half-open', 'break-ended', context.key);
        // A stateChange listener may have isolated, reset or disabled the breaker: ask again.
        return this.#admit(context);
      }
      refused = left;
    }
    const enforced = this.#settings.enforcing;
    if (this.events.enabled) {
      const key = context.key;
      if (typeof refused === 'number') {
        this.events.emit('rejected', { state: 'open', retryAfterMs: refused, enforced, key });
      } else {
        this.events.emit('rejected', { state: refused, retryAfterMs: undefined, enforced, key });
      }
    }
    return enforced ? refused : 'pass';
  }

  /** Whether a half-open breaker admits one more probe. */
  #probeFree(): boolean {
    const trip = this.#trip;
    if (trip === undefined) return true;
    let taken = trip.slots.length;
    // Judged by a rate, a half-open period admits `probes` in all, not at a time.
    if (this.#settings.halfOpenFailureRate !== undefined) taken += trip.successes + trip.failures;
    return taken < this.#settings.probes;
  }

  #refusalMessage(refused: Refusal): string {
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
    this.#trip ??= new Trip();
    this.#trip.slots.push(slot);
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
        if (this.#free(slot)) this.#hung(context.key);
      }, this.#settings.maxMs);
      // The probe's own call keeps whatever it needs alive; its watchdog need not.
      clock.unref?.(slot.timer);
      scope.watch(onAbort);
    });
  }

  #settleProbe(slot: ProbeSlot, ok: boolean, result: unknown, context: Context): void {
    if (!this.#free(slot) || (!ok && ignored(result, context))) return;
    const settings = this.#settings;
    let flags = ok ? 0 : FAILED;
    if (settings.clock.now() - slot.start >= settings.slowMs) flags |= SLOW;
    const failureOn = settings.failureOn;
    const classify = context.classify;
    if (failureOn !== undefined || classify !== undefined) {
      const generation = this.#state.generation;
      try {
        flags =
          failureOn !== undefined
            ? judged(this.name, failureOn, flags, ok, result, context)
            : classified(this.name, classify!, flags, ok, result);
      } catch (error) {
        if (this.#state.generation === generation) {
          this.#countProbe(flags | FAILED, ok, result, context.key);
        }
        throw error;
      }
      if (this.#state.generation !== generation) return;
    }
    this.#countProbe(flags, ok, result, context.key);
  }

  #countProbe(flags: number, ok: boolean, result: unknown, key: string | undefined): void {
    if (this.events.enabled) {
      const generation = this.#state.generation;
      this.#emitOutcome('half-open', flags, ok, result, key);
      if (this.#state.generation !== generation || this.#disabled) return;
    }
    const cause = flags & FAILED ? { cause: result } : undefined;
    this.#judgeProbes(flags !== 0, key, cause, 'probe-failed');
  }

  /** A probe ran past `halfOpen.maxMs`: it counts as failed, with a TimeoutError as outcome. */
  #hung(key: string | undefined): void {
    const settings = this.#settings;
    const error = new TimeoutError(settings.maxMs);
    if (this.events.enabled) {
      const generation = this.#state.generation;
      const slow = settings.maxMs >= settings.slowMs;
      this.events.emit('failure', { state: 'half-open', outcome: failure(error), slow, key });
      if (this.#state.generation !== generation || this.#disabled) return;
    }
    this.#judgeProbes(true, key, { cause: error }, 'probe-hung');
  }

  /** Counts a probe's outcome, then reopens, closes, or waits for more probes. */
  #judgeProbes(
    failed: boolean,
    key: string | undefined,
    cause: ErrorOptions | undefined,
    reason: 'probe-failed' | 'probe-hung',
  ): void {
    const trip = this.#trip!;
    const { probes, halfOpenFailureRate: rate } = this.#settings;
    if (failed) trip.failures++;
    else trip.successes++;
    // With a rate: reopen once failures reach it whatever the rest do, close once they cannot.
    const reopen = rate === undefined ? failed : trip.failures / probes >= rate;
    const close =
      rate === undefined ? trip.successes >= probes : (probes - trip.successes) / probes < rate;
    if (reopen) this.#open(reason, key, cause);
    else if (close) this.#move('closed', 'probes-succeeded', key);
  }

  #emitOutcome(
    state: 'closed' | 'half-open',
    flags: number,
    ok: boolean,
    result: unknown,
    key: string | undefined,
  ): void {
    const slow = (flags & SLOW) !== 0;
    if (flags & FAILED) {
      const outcome = ok ? success(result) : failure(result);
      this.events.emit('failure', { state, outcome, slow, key });
    } else {
      this.events.emit('success', { state, slow, key });
    }
  }

  /** Gives a probe's slot back and disarms its timer; false if a transition already took it. */
  #free(slot: ProbeSlot): boolean {
    if (slot.timer !== undefined) {
      this.#settings.clock.clearTimeout(slot.timer);
      slot.timer = undefined;
    }
    const slots = this.#trip?.slots;
    const at = slots === undefined ? -1 : slots.indexOf(slot);
    if (at === -1) return false;
    slots!.splice(at, 1);
    return true;
  }

  /** Forgets the running probes (they no longer count) and this half-open period's counts. */
  #dropProbes(): void {
    const trip = this.#trip;
    if (trip === undefined) return;
    const clock = this.#settings.clock;
    for (const slot of trip.slots) {
      if (slot.timer !== undefined) clock.clearTimeout(slot.timer);
      slot.timer = undefined;
    }
    trip.slots.length = 0;
    trip.successes = 0;
    trip.failures = 0;
  }

  #open(
    reason: OpenReason | 'probe-failed' | 'probe-hung',
    key: string | undefined,
    cause: ErrorOptions | undefined,
  ): void {
    const generation = this.#state.generation;
    const breakMs = this.#breakMs(this.#state.consecutiveOpens + 1);
    // A breakDurationMs function that isolated or reset the breaker has the last word.
    if (this.#state.generation !== generation) return;
    this.#move('open', reason, key, this.#settings.clock.now() + breakMs, cause);
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

  /**
   * Changes state and emits `stateChange`, which comes last: a listener may take manual control
   * (isolate, reset, disable), and callers check the state's generation before going on.
   */
  #move(
    to: CircuitState,
    reason: StateChangeReason,
    key: string | undefined,
    openUntil = 0,
    cause: ErrorOptions | undefined = undefined,
  ): void {
    const state = this.#state;
    const from = state.state;
    this.#dropProbes();
    if (to === 'open') {
      this.#trip ??= new Trip();
      this.#trip.cause = cause;
      state.open(openUntil);
    } else {
      // Refusals after a half-open period still name the failure that opened the breaker.
      if (to !== 'half-open' && this.#trip !== undefined) this.#trip.cause = undefined;
      if (to === 'half-open') state.halfOpen();
      else if (to === 'closed') state.close();
      else state.isolate();
    }
    if (this.events.enabled) this.events.emit('stateChange', { from, to, reason, key });
  }
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
