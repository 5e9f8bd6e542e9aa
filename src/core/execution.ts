import type { Clock } from './clock.js';
import {
  adopt,
  type Context,
  type ExecutionContext,
  next,
  type Priority,
  type Task,
} from './context.js';
import { ExecutionRejectedError } from './errors.js';
import { type PolicyEvents, WANTS_ATTEMPTS, WANTS_EXECUTIONS } from './events.js';
import { type ExecutionScope, executionScope } from './execution-scope.js';

/**
 * How a call ended: 'success' when it resolved, 'rejected' when bulwark refused it (an
 * `ExecutionRejectedError`: open breaker, full bulkhead, rate limited, shed, timed out, ...),
 * 'failure' for any other error, the caller's abort included (flagged `aborted`).
 */
export type ExecutionOutcome = 'success' | 'failure' | 'rejected';

/** How one run of the task ended: it resolved, or it threw or rejected. */
export type AttemptOutcome = 'success' | 'failure';

/**
 * The events of every call made through `execute` (of a pipeline, or of a policy called
 * directly), each made only while a listener on the policy or a bus subscriber asked for it
 * (`telemetry.subscribe(fn, { executions: true })`). Durations are measured on the policy's
 * clock.
 */
export interface ExecutionEvents {
  /** A call settled. */
  execution: {
    /** Identifies the call among this process's calls; its attempts carry the same number. */
    readonly call: number;
    /** When the call started, on the clock's scale. */
    readonly startedAt: number;
    readonly durationMs: number;
    readonly outcome: ExecutionOutcome;
    /** True when the call ended with its caller's abort reason (the outcome is 'failure'). */
    readonly aborted: boolean;
    /** How many times the task ran (0 when the call was refused before it could run). */
    readonly attempts: number;
    readonly key: string | undefined;
    readonly priority: Priority;
    /** What the call rejected with; undefined on success. */
    readonly error: unknown;
  };
  /**
   * One run of the task ended. A run can end after its call did: a hedge's losing attempt,
   * or a task an aggressive timeout stopped waiting for.
   */
  attempt: {
    readonly call: number;
    /** 1 for the first run of the task in this call, 2 for the next one started, ... */
    readonly attempt: number;
    readonly startedAt: number;
    readonly durationMs: number;
    readonly outcome: AttemptOutcome;
    readonly key: string | undefined;
    /** What the run threw or rejected with; undefined on success. */
    readonly error: unknown;
  };
}

let lastCall = 0;

/**
 * Times one observed call and each run of its task. `run` takes the task's place in the call's
 * context, so the layers in between change nothing. What it costs depends on what is wanted:
 * for `execution` events, a count of the runs and two clock reads; for `attempt` events, one
 * more reaction and clock read per run. While a tracing adapter's execution scope is in use, the
 * call's chain and each run go through it; while none is, that is one check a call and a run.
 * @internal
 */
export class ExecutionRecorder<D = unknown> {
  readonly #call = ++lastCall;
  readonly #events: PolicyEvents<ExecutionEvents>;
  readonly #interest: number;
  readonly #clock: Clock;
  readonly #task: Task<unknown, D>;
  readonly #key: string | undefined;
  readonly #priority: Priority;
  readonly #signal: AbortSignal | undefined;
  readonly #startedAt: number;
  #attempts = 0;
  /**
   * True while `execute` is still handing the call down the chain: a task run now starts when
   * the call did, and needs no clock read of its own (a read costs tens of nanoseconds).
   */
  #starting = true;
  /** A tracing adapter's scope, when one is in use, and what it answered for this call. */
  readonly #scope: ExecutionScope | undefined;
  readonly #handle: unknown;

  constructor(
    events: PolicyEvents<ExecutionEvents>,
    interest: number,
    clock: Clock,
    task: Task<unknown, D>,
    key: string | undefined,
    priority: Priority,
    signal: AbortSignal | undefined,
  ) {
    this.#events = events;
    this.#interest = interest;
    this.#clock = clock;
    this.#task = task;
    this.#key = key;
    this.#priority = priority;
    this.#signal = signal;
    this.#startedAt = clock.now();
    const scope = executionScope();
    if (scope !== undefined) {
      this.#scope = scope;
      this.#handle = scope.open(events.policy, events.kind, this.#call, key);
    }
  }

  /** Runs the call's chain of policies, inside the tracing adapter's context if there is one. */
  start(context: Context): Promise<unknown> {
    const scope = this.#scope;
    return scope === undefined
      ? next(context, 0)
      : scope.enter(this.#handle, () => next(context, 0));
  }

  /** The task, counted, and timed when attempts are wanted. */
  readonly run = (context: ExecutionContext<D>): unknown => {
    const attempt = ++this.#attempts;
    if ((this.#interest & WANTS_ATTEMPTS) === 0) {
      return this.#scope === undefined
        ? this.#task.call(context, context)
        : this.#runInScope(context, attempt);
    }
    const startedAt = this.#starting ? this.#startedAt : this.#clock.now();
    let result: Promise<unknown>;
    try {
      result = adopt(
        this.#scope === undefined
          ? this.#task.call(context, context)
          : this.#runInScope(context, attempt),
      );
    } catch (error) {
      result = Promise.reject(error);
    }
    // Reactions rather than an async function: they measured some 15 ns a call faster.
    return result.then(
      (value) => {
        this.#attemptEnded(attempt, startedAt, 'success', undefined);
        return value;
      },
      (error: unknown) => {
        this.#attemptEnded(attempt, startedAt, 'failure', error);
        throw error;
      },
    );
  };

  /** Runs the task inside the tracing adapter's context for this attempt. */
  #runInScope(context: ExecutionContext<D>, attempt: number): unknown {
    // `this` is the context, as when the chain calls the task itself.
    const task = (): unknown => this.#task.call(context, context);
    return (this.#scope as ExecutionScope).attempt(this.#handle, attempt, task);
  }

  /** `result`, once the call's event is out (if anyone wants it). */
  finish<T>(result: Promise<T>): Promise<T> {
    this.#starting = false;
    if ((this.#interest & WANTS_EXECUTIONS) === 0) return result;
    return result.then(
      (value) => {
        this.#ended('success', false, undefined);
        return value;
      },
      (error: unknown) => {
        const signal = this.#signal;
        const aborted = signal?.aborted === true && signal.reason === error;
        const outcome =
          !aborted && error instanceof ExecutionRejectedError ? 'rejected' : 'failure';
        this.#ended(outcome, aborted, error);
        throw error;
      },
    );
  }

  #attemptEnded(attempt: number, startedAt: number, outcome: AttemptOutcome, error: unknown): void {
    this.#events.emitExecution('attempt', {
      call: this.#call,
      attempt,
      startedAt,
      durationMs: this.#clock.now() - startedAt,
      outcome,
      key: this.#key,
      error,
    });
  }

  #ended(outcome: ExecutionOutcome, aborted: boolean, error: unknown): void {
    this.#events.emitExecution('execution', {
      call: this.#call,
      startedAt: this.#startedAt,
      durationMs: this.#clock.now() - this.#startedAt,
      outcome,
      aborted,
      attempts: this.#attempts,
      key: this.#key,
      priority: this.#priority,
      error,
    });
  }
}
