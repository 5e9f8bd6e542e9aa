import { constants } from 'node:os';
import { type Clock, systemClock, type TimerHandle } from '../core/clock.js';
import { TimeoutError } from '../core/errors.js';
import { type Disposer, PolicyEvents } from '../core/events.js';
import { describe } from '../core/policy.js';
import type { ReadinessControl } from '../core/readiness.js';
import { checkClock, checkMs, checkOptions, invalid } from '../core/validate.js';
import { ShutdownGuardPolicy, type WorkGate } from './guard.js';
import { isServer, type ServerLike, ServerTracker, type ShutdownServer } from './servers.js';

export interface ShutdownOptions {
  /** Signals that start the shutdown; a second one forces an immediate exit. Default: ['SIGTERM', 'SIGINT']. `[]` listens to none. */
  signals?: readonly NodeJS.Signals[];
  /** Told `markNotReady(reason)` first, so readiness fails before anything stops. Default: none. */
  health?: ReadinessControl;
  /**
   * How long to keep serving after readiness fails, before the servers stop accepting: the
   * time the platform takes to take this instance out of its endpoints, in milliseconds.
   * Default: 0 (use about 5000 on Kubernetes).
   */
  readinessDelayMs?: number;
  /**
   * How long requests in flight and tracked work get to finish once the servers stop
   * accepting, in milliseconds (or Infinity); what is left then is cut. Default: 30000.
   */
  drainTimeoutMs?: number;
  /** Call `process.exit(code)` at the end. Default: true; false resolves `done` instead. */
  exit?: boolean;
  /** Where time comes from. Default: the system clock. */
  clock?: Clock;
  /** Labels the events. Default: 'shutdown'. */
  name?: string;
}

export interface ShutdownHookOptions {
  /** Longest the hook may run before it is reported and skipped, in milliseconds. Default: 5000. */
  timeoutMs?: number;
}

/** A clean-up step; its signal aborts (with a `TimeoutError`) when its time is up. */
export type ShutdownHook = (signal: AbortSignal) => unknown;

export type ShutdownState = 'running' | 'draining' | 'stopped';

export interface ShutdownEvents {
  /** running -> draining at the first signal or `begin()`; draining -> stopped at the end. */
  stateChange: {
    readonly from: ShutdownState;
    readonly to: ShutdownState;
    /** What started the shutdown: the signal's name, or the reason given to `begin()`. */
    readonly reason: string;
    /** The exit code, once stopped; undefined before. */
    readonly exitCode: number | undefined;
  };
  /** A hook (or `health.markNotReady`) threw, rejected or ran out of time; the sequence went on. */
  hookFailed: {
    readonly hook: string;
    readonly error: unknown;
    readonly timedOut: boolean;
  };
  /** Work was cut: the drain deadline passed, or a second signal came. */
  forced: {
    readonly reason: 'drain-timeout' | 'second-signal';
    /** HTTP requests still in flight when cut. */
    readonly requests: number;
    /** Tracked promises and guarded calls still running when cut. */
    readonly tracked: number;
  };
}

interface Hook {
  readonly name: string;
  readonly fn: ShutdownHook;
  readonly timeoutMs: number;
}

const signalNames = new Set(Object.keys(constants.signals));

/**
 * Takes a service down without losing what it is doing: fail readiness, keep serving while the
 * load balancer catches up, stop accepting, let in-flight requests and tracked work finish (up
 * to a deadline), cut what is left, run the clean-up hooks, exit.
 */
export class GracefulShutdown {
  readonly name: string;
  readonly readinessDelayMs: number;
  readonly drainTimeoutMs: number;
  /**
   * Resolves with the exit code once stopped. With `exit: true` the process exits right then,
   * before anything awaiting `done` resumes: watch `stateChange` instead.
   */
  readonly done: Promise<number>;
  /** Refuses new calls with `ShuttingDownError` once draining starts; its calls count as tracked work. */
  readonly guard: ShutdownGuardPolicy;
  readonly #signals: readonly NodeJS.Signals[];
  readonly #health: ReadinessControl | undefined;
  readonly #exit: boolean;
  readonly #clock: Clock;
  readonly #events: PolicyEvents<ShutdownEvents>;
  readonly #trackers: ServerTracker[] = [];
  readonly #hooks: Hook[] = [];
  #state: ShutdownState = 'running';
  #reason = '';
  /** Tracked promises and guarded calls running. */
  #tracked = 0;
  /** Set once anything was cut or failed: the exit code will be 1. */
  #unclean = false;
  #resolveDone!: (code: number) => void;
  /** The wait in progress (readiness delay, drain or hook), and its timer. */
  #wake: ((idle: boolean) => void) | undefined;
  #waitingForIdle = false;
  #timer: TimerHandle | undefined;
  #hookAbort: AbortController | undefined;

  constructor(options?: ShutdownOptions) {
    const opts = checkOptions<ShutdownOptions>('shutdown', options);
    const name = opts.name ?? 'shutdown';
    if (typeof name !== 'string' || name === '') {
      throw invalid('shutdown', 'name', name, 'a non-empty string');
    }
    this.name = name;
    this.#signals = checkSignals(name, opts.signals ?? ['SIGTERM', 'SIGINT']);
    if (opts.health !== undefined && typeof opts.health?.markNotReady !== 'function') {
      throw invalid(name, 'health', opts.health, 'a ReadinessControl (with markNotReady())');
    }
    this.#health = opts.health;
    this.readinessDelayMs = checkMs(name, 'readinessDelayMs', opts.readinessDelayMs ?? 0);
    this.drainTimeoutMs = checkMs(name, 'drainTimeoutMs', opts.drainTimeoutMs ?? 30_000, 0, true);
    if (opts.exit !== undefined && typeof opts.exit !== 'boolean') {
      throw invalid(name, 'exit', opts.exit, 'a boolean');
    }
    this.#exit = opts.exit ?? true;
    this.#clock = checkClock(name, opts.clock, systemClock);
    this.#events = new PolicyEvents<ShutdownEvents>(name, 'shutdown');
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    this.guard = new ShutdownGuardPolicy(name, this.#gate);
    for (const signal of this.#signals) process.on(signal, this.#onSignal);
  }

  get state(): ShutdownState {
    return this.#state;
  }

  /** HTTP requests in flight on the registered servers. */
  get requests(): number {
    let count = 0;
    for (const tracker of this.#trackers) count += tracker.inFlight;
    return count;
  }

  /** Tracked promises and guarded calls still running. */
  get tracked(): number {
    return this.#tracked;
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof ShutdownEvents & string>(
    type: K,
    listener: (event: ShutdownEvents[K]) => void,
  ): Disposer {
    return this.#events.on(type, listener);
  }

  /**
   * Puts a server under the shutdown: its requests are counted, and it is closed in turn.
   * Takes a node:http, node:https or node:http2 server, or anything with one as `server`.
   */
  server<S extends ServerLike>(server: S): S {
    const target: unknown = isServer(server) ? server : (server as { server?: unknown })?.server;
    if (!isServer(target)) {
      throw new TypeError(
        `${this.name}: server() needs a node:http, https or http2 server, or an object with one as "server" (got ${describe(server)})`,
      );
    }
    if (this.#state === 'stopped' || this.#trackers.some((t) => t.server === target)) {
      return server;
    }
    const tracker = new ServerTracker(target as ShutdownServer, this.#checkIdle);
    this.#trackers.push(tracker);
    if (this.#state === 'draining') tracker.startDraining();
    if (!this.#gate.accepting) tracker.stopAccepting();
    return server;
  }

  /** Counts `work` as in flight until it settles; returns it unchanged. */
  track<P extends PromiseLike<unknown>>(work: P): P {
    if (typeof (work as { then?: unknown })?.then !== 'function') {
      throw new TypeError(`${this.name}: track() needs a promise (got ${describe(work)})`);
    }
    if (this.#state === 'stopped') return work;
    this.#tracked++;
    work.then(this.#gate.ended, this.#gate.ended);
    return work;
  }

  /**
   * Adds a clean-up step, run after draining; hooks run one at a time in reverse order of
   * registration (last opened, first closed). Returns the function that removes it.
   */
  onShutdown(name: string, fn: ShutdownHook, options?: ShutdownHookOptions): Disposer {
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(
        `${this.name}: onShutdown() needs a non-empty name (got ${describe(name)})`,
      );
    }
    // The hook's own checks: the same helpers, labelled with the call they belong to.
    const label = `${this.name}: onShutdown(${describe(name)})`;
    if (typeof fn !== 'function') {
      throw new TypeError(`${label} needs a function (got ${describe(fn)})`);
    }
    const opts = checkOptions<ShutdownHookOptions>(label, options);
    const timeoutMs = opts.timeoutMs ?? 5000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
      throw new TypeError(
        `${label}: option "timeoutMs" must be a number of milliseconds >= 0 or Infinity (got ${describe(timeoutMs)})`,
      );
    }
    const hook: Hook = { name, fn, timeoutMs };
    this.#hooks.push(hook);
    return () => {
      const at = this.#hooks.indexOf(hook);
      if (at !== -1) this.#hooks.splice(at, 1);
    };
  }

  /** Starts the shutdown, as the first signal does; later calls return the same `done`. */
  begin(reason = 'begin'): Promise<number> {
    if (this.#state !== 'running') return this.done;
    this.#reason = String(reason);
    this.#setState('draining', undefined);
    void this.#sequence();
    return this.done;
  }

  /**
   * Stops listening for signals and forgets the servers, without exiting: before a shutdown,
   * `done` resolves with 0; during one, the sequence stops where it is and `done` resolves
   * with 1. For tests and for embedding in something that manages the process itself.
   */
  dispose(): void {
    if (this.#state === 'stopped') return;
    if (this.#state === 'running') this.#reason = 'dispose';
    this.#finish(this.#state === 'draining' ? 1 : 0, false);
  }

  /** Shared with the guard; `accepting` turns false when the servers stop accepting. */
  readonly #gate: WorkGate = {
    accepting: true,
    started: () => {
      this.#tracked++;
    },
    ended: () => {
      this.#tracked--;
      this.#checkIdle();
    },
  };

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#state === 'running') this.begin(signal);
    else if (this.#state === 'draining') this.#force();
  };

  async #sequence(): Promise<void> {
    for (const tracker of this.#trackers) tracker.startDraining();
    try {
      this.#health?.markNotReady(this.#reason);
    } catch (error) {
      this.#failed('markNotReady', error, false);
    }
    if (this.readinessDelayMs > 0) {
      await this.#wait(this.readinessDelayMs, false);
      if (this.#state !== 'draining') return;
    }
    this.#gate.accepting = false;
    for (const tracker of this.#trackers) tracker.stopAccepting();
    if (this.requests + this.#tracked > 0) {
      await this.#wait(this.drainTimeoutMs, true);
      if (this.#state !== 'draining') return;
    }
    const requests = this.requests;
    const tracked = this.#tracked;
    if (requests + tracked > 0) {
      this.#unclean = true;
      if (this.#events.enabled) {
        this.#events.emit('forced', { reason: 'drain-timeout', requests, tracked });
      }
    }
    // With nothing in flight this closes only the idle keep-alive connections left.
    for (const tracker of this.#trackers) tracker.destroyAll();
    for (const hook of this.#hooks.slice().reverse()) {
      await this.#runHook(hook);
      if (this.#state !== 'draining') return;
    }
    this.#finish(this.#unclean ? 1 : 0, this.#exit);
  }

  async #runHook(hook: Hook): Promise<void> {
    const abort = new AbortController();
    this.#hookAbort = abort;
    const timedOut = this.#wait(hook.timeoutMs, false);
    let error: unknown;
    let failed = false;
    const ran = (async () => hook.fn(abort.signal))().then(
      () => true,
      (reason: unknown) => {
        failed = true;
        error = reason;
        return true;
      },
    );
    const finished = await Promise.race([ran, timedOut]);
    this.#hookAbort = undefined;
    if (finished === true) this.#stopWaiting();
    if (this.#state !== 'draining') return;
    if (finished !== true) {
      const timeout = new TimeoutError(hook.timeoutMs);
      abort.abort(timeout);
      this.#failed(hook.name, timeout, true);
    } else if (failed) this.#failed(hook.name, error, false);
  }

  /** Resolves true when nothing is in flight (if `untilIdle`), false when `ms` has passed. */
  #wait(ms: number, untilIdle: boolean): Promise<boolean | undefined> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#waitingForIdle = untilIdle;
      if (ms !== Number.POSITIVE_INFINITY) {
        this.#timer = this.#clock.setTimeout(() => {
          this.#timer = undefined;
          this.#stopWaiting(false);
        }, ms);
      }
    });
  }

  #stopWaiting(idle?: boolean): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const wake = this.#wake;
    this.#wake = undefined;
    this.#waitingForIdle = false;
    wake?.(idle === true);
  }

  readonly #checkIdle = (): void => {
    if (this.#waitingForIdle && this.requests + this.#tracked === 0) this.#stopWaiting(true);
  };

  /** A second signal: cut everything now and exit with 1, hooks or not. */
  #force(): void {
    this.#unclean = true;
    if (this.#events.enabled) {
      this.#events.emit('forced', {
        reason: 'second-signal',
        requests: this.requests,
        tracked: this.#tracked,
      });
    }
    for (const tracker of this.#trackers) tracker.destroyAll();
    this.#finish(1, this.#exit);
  }

  #failed(hook: string, error: unknown, timedOut: boolean): void {
    this.#unclean = true;
    if (this.#events.enabled) this.#events.emit('hookFailed', { hook, error, timedOut });
  }

  #finish(code: number, exit: boolean): void {
    for (const signal of this.#signals) process.removeListener(signal, this.#onSignal);
    for (const tracker of this.#trackers) tracker.detach();
    this.#gate.accepting = false;
    this.#hookAbort?.abort(new Error(`${this.name}: stopped`));
    this.#hookAbort = undefined;
    this.#setState('stopped', code);
    // Ends any wait in progress; the sequence sees the state and goes no further.
    this.#stopWaiting();
    this.#resolveDone(code);
    if (exit) process.exit(code);
  }

  #setState(to: ShutdownState, exitCode: number | undefined): void {
    const from = this.#state;
    this.#state = to;
    if (this.#events.enabled) {
      this.#events.emit('stateChange', { from, to, reason: this.#reason, exitCode });
    }
  }
}

/**
 * Builds the graceful shutdown of this process and starts listening for its signals. Register
 * servers with `server()`, background work with `track()`, clean-up with `onShutdown()`, and
 * put `guard` in front of work that must not start once the service is going down.
 */
export function gracefulShutdown(options?: ShutdownOptions): GracefulShutdown {
  return new GracefulShutdown(options);
}

function checkSignals(name: string, value: unknown): readonly NodeJS.Signals[] {
  if (
    !Array.isArray(value) ||
    !value.every((signal) => typeof signal === 'string' && signalNames.has(signal))
  ) {
    throw invalid(name, 'signals', value, "an array of signal names such as 'SIGTERM'");
  }
  return [...new Set(value as NodeJS.Signals[])];
}
