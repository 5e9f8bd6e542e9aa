import { type Clock, systemClock, type TimerHandle } from '../core/clock.js';
import { TimeoutError } from '../core/errors.js';
import { type Disposer, type Listener, PolicyEvents } from '../core/events.js';
import { type GaugeSink, readGauges, registerGauges } from '../core/gauges.js';
import { describe } from '../core/policy.js';
import type { ReadinessControl } from '../core/readiness.js';
import {
  checkClock,
  checkFunction,
  checkMs,
  checkOneOf,
  checkOptions,
  invalid,
} from '../core/validate.js';
import {
  type BackgroundHandle,
  type HealthCheck,
  type HealthCheckReport,
  type HealthEvents,
  type HealthRegistryOptions,
  type HealthReport,
  type HealthStatus,
  type ProbeKind,
  probeKinds,
  type RegisterOptions,
} from './types.js';

const statuses: readonly HealthStatus[] = ['pass', 'warn', 'fail'];

/** One check's result, with the clock time it was obtained. */
interface Result {
  readonly status: HealthStatus;
  readonly at: number;
  readonly observedValue?: unknown;
  readonly observedUnit?: string;
  readonly output?: string;
}

interface Entry {
  readonly name: string;
  readonly check: HealthCheck;
  readonly critical: boolean;
  readonly timeoutMs: number;
  readonly cacheMs: number;
  readonly kinds: readonly ProbeKind[];
  readonly key: string;
  readonly componentType: string | undefined;
  last: Result | undefined;
  /** The run in flight, shared by every caller that asks meanwhile. */
  running: Promise<Result> | undefined;
}

/** A timeout > 0 ms (a zero timeout would fail every asynchronous check at once). */
function checkTimeout(policy: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || Number.isNaN(value)) {
    throw invalid(policy, option, value, 'a number of milliseconds > 0 or Infinity');
  }
  return value;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function message(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `threw ${describe(error)}`;
}

/** What a check's `status` gauge can name: its latest result, or none yet. */
const healthStates: readonly string[] = ['pass', 'warn', 'fail', 'unknown'];

/**
 * A registry of health checks answering Kubernetes' liveness, readiness and startup probes
 * with application/health+json reports. It is also the {@link ReadinessControl} graceful
 * shutdown uses to fail readiness before the service stops.
 */
export class HealthRegistry implements ReadinessControl {
  readonly name: string;
  readonly timeoutMs: number;
  readonly cacheMs: number;
  readonly #clock: Clock;
  readonly #events: PolicyEvents<HealthEvents>;
  readonly #entries = new Map<string, Entry>();
  readonly #overall = new Map<ProbeKind, HealthStatus>();
  #notReady: string | undefined;
  #background: { timer: TimerHandle | undefined; stopped: boolean } | undefined;

  constructor(options?: HealthRegistryOptions) {
    const o = checkOptions<HealthRegistryOptions>('health', options);
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) {
      throw invalid('health', 'name', o.name, 'a non-empty string');
    }
    this.name = o.name ?? 'health';
    this.timeoutMs =
      o.timeoutMs === undefined ? 1_000 : checkTimeout(this.name, 'timeoutMs', o.timeoutMs);
    this.cacheMs = o.cacheMs === undefined ? 0 : checkMs(this.name, 'cacheMs', o.cacheMs, 0, true);
    this.#clock = checkClock(this.name, o.clock, systemClock);
    this.#events = new PolicyEvents<HealthEvents>(this.name, 'health');
    registerGauges(this);
  }

  /**
   * @internal Each check's latest status: 1 while it passes or warns (or has no result yet, as
   * `healthy()` answers), 0 once it fails.
   */
  [readGauges](sink: GaugeSink): void {
    for (const entry of this.#entries.values()) {
      const status = entry.last?.status ?? 'unknown';
      const code = status === 'fail' ? 0 : 1;
      sink.state(this.name, 'health', 'status', status, code, healthStates, { check: entry.name });
    }
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof HealthEvents & string>(
    type: K,
    listener: Listener<HealthEvents[K]>,
  ): Disposer {
    return this.#events.on(type, listener);
  }

  /** Adds a check. A name already registered throws a TypeError. */
  register(name: string, check: HealthCheck, options?: RegisterOptions): this {
    const policy = this.name;
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(
        `${policy}: a check's name must be a non-empty string (got ${describe(name)})`,
      );
    }
    if (this.#entries.has(name)) {
      throw new TypeError(`${policy}: a check named ${describe(name)} is already registered`);
    }
    checkFunction(policy, 'check', check);
    const o = checkOptions<RegisterOptions>(policy, options);
    if (o.critical !== undefined && typeof o.critical !== 'boolean') {
      throw invalid(policy, 'critical', o.critical, 'a boolean');
    }
    const kinds = o.kinds ?? ['readiness'];
    if (!Array.isArray(kinds) || kinds.length === 0) {
      throw invalid(policy, 'kinds', kinds, `a non-empty array of ${probeKinds.join(', ')}`);
    }
    for (const kind of kinds) checkOneOf(policy, 'kinds', kind, probeKinds);
    for (const option of ['measurement', 'componentType'] as const) {
      const value = o[option];
      if (value !== undefined && (typeof value !== 'string' || value === '')) {
        throw invalid(policy, option, value, 'a non-empty string');
      }
    }
    this.#entries.set(name, {
      name,
      check,
      critical: o.critical ?? true,
      timeoutMs:
        o.timeoutMs === undefined ? this.timeoutMs : checkTimeout(policy, 'timeoutMs', o.timeoutMs),
      cacheMs:
        o.cacheMs === undefined ? this.cacheMs : checkMs(policy, 'cacheMs', o.cacheMs, 0, true),
      kinds: [...new Set(kinds)],
      key: o.measurement === undefined ? name : `${name}:${o.measurement}`,
      componentType: o.componentType,
      last: undefined,
      running: undefined,
    });
    return this;
  }

  /** Removes a check; true if it was registered. A run of it in flight is disregarded. */
  unregister(name: string): boolean {
    return this.#entries.delete(name);
  }

  /** The names of the registered checks, in registration order. */
  get checks(): readonly string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Whether a check's latest result is not a failure (`warn` counts as healthy). Before its
   * first result it answers true: no evidence of failure yet. An unknown name throws a
   * RangeError.
   */
  healthy(name: string): boolean {
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      const known = this.checks.map((check) => JSON.stringify(check)).join(', ');
      throw new RangeError(`${this.name}: unknown check ${describe(name)} (known: ${known})`);
    }
    return entry.last?.status !== 'fail';
  }

  /** From now on every readiness report fails with `reason` as its output. */
  markNotReady(reason: string): void {
    if (typeof reason !== 'string') {
      throw new TypeError(
        `${this.name}: markNotReady() needs a string reason (got ${describe(reason)})`,
      );
    }
    this.#notReady = reason;
  }

  /** The reason given to `markNotReady`, or undefined while ready. */
  get notReady(): string | undefined {
    return this.#notReady;
  }

  /**
   * Runs the checks of one probe kind (default 'readiness') at once, each bounded by its
   * timeout, and reports them. A result younger than the check's `cacheMs` is reused, a run
   * already in flight is joined, and with `background()` on, the latest result is read.
   */
  async run(options?: { kind?: ProbeKind }): Promise<HealthReport> {
    const o = checkOptions<{ kind: ProbeKind }>(`${this.name}.run()`, options);
    const kind =
      o.kind === undefined
        ? 'readiness'
        : checkOneOf(`${this.name}.run()`, 'kind', o.kind, probeKinds);
    const entries: Entry[] = [];
    for (const entry of this.#entries.values()) if (entry.kinds.includes(kind)) entries.push(entry);
    const now = this.#clock.now();
    const results = await Promise.all(entries.map((entry) => this.#result(entry, now, false)));
    return this.#report(kind, entries, results);
  }

  /**
   * Runs every check now and then every `intervalMs` after the previous round ended, on one
   * timer (unref'd, so it never keeps the process alive), so probes read the latest results
   * instead of running checks. Throws if already running.
   */
  background(options: { intervalMs: number }): BackgroundHandle {
    const o = checkOptions<{ intervalMs: number }>(`${this.name}.background()`, options);
    const intervalMs = checkTimeout(`${this.name}.background()`, 'intervalMs', o.intervalMs);
    if (intervalMs === Number.POSITIVE_INFINITY) {
      throw invalid(
        `${this.name}.background()`,
        'intervalMs',
        intervalMs,
        'a finite number of milliseconds > 0',
      );
    }
    if (this.#background !== undefined)
      throw new Error(`${this.name}: background() is already running`);
    const state: { timer: TimerHandle | undefined; stopped: boolean } = {
      timer: undefined,
      stopped: false,
    };
    this.#background = state;
    const clock = this.#clock;
    const round = (): void => {
      state.timer = undefined;
      this.#round().then(() => {
        if (state.stopped) return;
        state.timer = clock.setTimeout(round, intervalMs);
        clock.unref?.(state.timer);
      });
    };
    round();
    return {
      stop: () => {
        if (state.stopped) return;
        state.stopped = true;
        if (state.timer !== undefined) clock.clearTimeout(state.timer);
        state.timer = undefined;
        if (this.#background === state) this.#background = undefined;
      },
    };
  }

  /** One background round: every check, fresh, then each kind's overall status. */
  async #round(): Promise<void> {
    const entries = [...this.#entries.values()];
    const now = this.#clock.now();
    const results = await Promise.all(entries.map((entry) => this.#result(entry, now, true)));
    for (const kind of probeKinds) {
      const mine: Entry[] = [];
      const theirs: Result[] = [];
      entries.forEach((entry, i) => {
        if (entry.kinds.includes(kind)) {
          mine.push(entry);
          theirs.push(results[i]!);
        }
      });
      if (mine.length > 0 || this.#overall.has(kind)) this.#report(kind, mine, theirs);
    }
  }

  #result(entry: Entry, now: number, fresh: boolean): Promise<Result> | Result {
    const last = entry.last;
    if (!fresh && last !== undefined) {
      if (this.#background !== undefined || now - last.at < entry.cacheMs) return last;
    }
    return entry.running ?? this.#start(entry);
  }

  #start(entry: Entry): Promise<Result> | Result {
    const controller = new AbortController();
    let answer: unknown;
    try {
      answer = entry.check(controller.signal);
    } catch (error) {
      return this.#settle(entry, { status: 'fail', at: this.#clock.now(), output: message(error) });
    }
    if (!isThenable(answer)) return this.#settle(entry, this.#judge(answer));
    const clock = this.#clock;
    const running = new Promise<Result>((resolve) => {
      let done = false;
      const timer = clock.setTimeout(() => {
        if (done) return;
        done = true;
        controller.abort(new TimeoutError(entry.timeoutMs));
        resolve({
          status: 'fail',
          at: clock.now(),
          output: `timed out after ${entry.timeoutMs} ms`,
        });
      }, entry.timeoutMs);
      // A probe's answer should not keep an otherwise finished process alive.
      clock.unref?.(timer);
      Promise.resolve(answer).then(
        (value) => {
          if (done) return;
          done = true;
          clock.clearTimeout(timer);
          resolve(this.#judge(value));
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          clock.clearTimeout(timer);
          resolve({ status: 'fail', at: clock.now(), output: message(error) });
        },
      );
    }).then((result) => {
      entry.running = undefined;
      return this.#settle(entry, result);
    });
    entry.running = running;
    return running;
  }

  /** A check's answer as a result; anything but a boolean or a well-formed result fails. */
  #judge(value: unknown): Result {
    const at = this.#clock.now();
    if (value === true) return { status: 'pass', at };
    if (value === false) return { status: 'fail', at, output: 'check returned false' };
    if (typeof value === 'object' && value !== null) {
      const r = value as Record<string, unknown>;
      const wellFormed =
        statuses.includes(r.status as HealthStatus) &&
        (r.observedUnit === undefined || typeof r.observedUnit === 'string') &&
        (r.output === undefined || typeof r.output === 'string');
      if (wellFormed) {
        return {
          status: r.status as HealthStatus,
          at,
          observedValue: r.observedValue,
          observedUnit: r.observedUnit as string | undefined,
          output: r.output as string | undefined,
        };
      }
    }
    return {
      status: 'fail',
      at,
      output: `check returned ${describe(value)}; expected true, false or { status: 'pass' | 'warn' | 'fail' }`,
    };
  }

  /** Records a result as the check's latest (unless it was unregistered meanwhile). */
  #settle(entry: Entry, result: Result): Result {
    if (this.#entries.get(entry.name) !== entry) return result;
    const from = entry.last?.status;
    entry.last = result;
    if (from !== result.status && this.#events.enabled) {
      this.#events.emit('statusChange', {
        check: entry.name,
        kind: undefined,
        from,
        to: result.status,
        output: result.output,
      });
    }
    return result;
  }

  #report(kind: ProbeKind, entries: readonly Entry[], results: readonly Result[]): HealthReport {
    let status: HealthStatus = 'pass';
    const checks: Record<string, HealthCheckReport[]> = {};
    entries.forEach((entry, i) => {
      const result = results[i]!;
      if (result.status === 'fail' && entry.critical) status = 'fail';
      else if (result.status !== 'pass' && status === 'pass') status = 'warn';
      const item: Record<string, unknown> = {
        status: result.status,
        time: new Date(result.at).toISOString(),
      };
      if (result.observedValue !== undefined) item.observedValue = result.observedValue;
      if (result.observedUnit !== undefined) item.observedUnit = result.observedUnit;
      if (result.output !== undefined) item.output = result.output;
      if (entry.componentType !== undefined) item.componentType = entry.componentType;
      const list = checks[entry.key];
      if (list === undefined) checks[entry.key] = [item as unknown as HealthCheckReport];
      else list.push(item as unknown as HealthCheckReport);
    });
    let output: string | undefined;
    if (kind === 'readiness' && this.#notReady !== undefined) {
      status = 'fail';
      output = this.#notReady;
    }
    const from = this.#overall.get(kind);
    this.#overall.set(kind, status);
    if (from !== status && this.#events.enabled) {
      this.#events.emit('statusChange', { check: undefined, kind, from, to: status, output });
    }
    return output === undefined ? { status, checks } : { status, output, checks };
  }
}

/** Builds a {@link HealthRegistry}. */
export function healthRegistry(options?: HealthRegistryOptions): HealthRegistry {
  return new HealthRegistry(options);
}
