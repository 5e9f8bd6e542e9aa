import { AbortScope } from './abort-scope.js';
import { type Clock, systemClock } from './clock.js';
import {
  Context,
  type ExecuteOptions,
  type Layer,
  next,
  type Priority,
  priorities,
  type Task,
} from './context.js';
import { type Disposer, type EventMap, type Listener, PolicyEvents } from './events.js';
import { type ExecutionEvents, ExecutionRecorder } from './execution.js';
import { checkClock } from './validate.js';

/** Options every policy takes. */
export interface PolicyOptions {
  /** Labels the policy's events and metrics. Default: the policy's kind, e.g. 'retry'. */
  name?: string;
  /** Where time comes from. Default: the system clock; tests pass a `VirtualClock`. */
  clock?: Clock;
}

/**
 * Anything that can run a function under its protection.
 * @typeParam In What the function's result must be: the type the policy's predicates judge
 *   (`retry<Response>()` takes only tasks that return a `Response`). Default: anything.
 * @typeParam Out What the policy may answer instead of the function's result: a fallback's
 *   substitute. Default: nothing.
 */
export interface Policy<In = unknown, Out = never> {
  execute<T extends In, D = unknown>(
    task: Task<T, D>,
    options?: ExecuteOptions<D>,
  ): Promise<T | Out>;
}

/** Where the types of a bulwark policy's `In` and `Out` are recorded; nothing at run time. */
declare const outcomeTypes: unique symbol;

/** The `In` of a policy (see {@link Policy}); `unknown` for a policy that is not bulwark's. */
export type InOf<P> = P extends { readonly [outcomeTypes]: { readonly in: infer I } } ? I : unknown;

/** The `Out` of a policy (see {@link Policy}); `never` for a policy that is not bulwark's. */
export type OutOf<P> = P extends { readonly [outcomeTypes]: { readonly out: infer O } } ? O : never;

/** Where a pipeline finds the layers a bulwark policy contributes. @internal */
export const layersOf: unique symbol = Symbol('bulwark.layers');

/** Where a pipeline finds a member's clock. @internal */
export const clockOf: unique symbol = Symbol('bulwark.clock');

/**
 * The base of every bulwark policy: the public `execute`, typed events, and the layer
 * protocol that lets `pipeline()` run several policies without a closure per layer.
 */
export abstract class BasePolicy<E extends EventMap = {}, In = unknown, Out = never>
  implements Policy<In, Out>, Layer
{
  readonly name: string;
  /** Types only: see {@link InOf} and {@link OutOf}. */
  declare readonly [outcomeTypes]: { readonly in: In; readonly out: Out };
  /** @internal */
  readonly [layersOf]: readonly Layer[];
  protected readonly events: PolicyEvents<E>;
  #clock: Clock = systemClock;

  protected constructor(kind: string, name: string | undefined, layers?: readonly Layer[]) {
    if (name !== undefined && (typeof name !== 'string' || name === '')) {
      throw new TypeError(
        `${kind}: option "name" must be a non-empty string (got ${describe(name)})`,
      );
    }
    this.name = name ?? kind;
    this.events = new PolicyEvents<E>(this.name, kind);
    this[layersOf] = layers ?? [this];
  }

  /** The clock the policy's `execution` and `attempt` events are timed on. @internal */
  get [clockOf](): Clock {
    return this.#clock;
  }

  /**
   * Checks the `clock` option (the system clock when undefined) and keeps it for the policy's
   * execution events; returns it for the policy's own use.
   */
  protected useClock(clock: unknown): Clock {
    this.#clock = checkClock(this.name, clock, systemClock);
    return this.#clock;
  }

  /** Subscribes to one of the policy's events; returns the function that unsubscribes. */
  on<K extends keyof (E & ExecutionEvents) & string>(
    type: K,
    listener: Listener<(E & ExecutionEvents)[K]>,
  ): Disposer {
    return (this.events as PolicyEvents<E & ExecutionEvents>).on(type, listener);
  }

  execute<T extends In, D = unknown>(
    task: Task<T, D>,
    options?: ExecuteOptions<D>,
  ): Promise<T | Out> {
    if (typeof task !== 'function') {
      return Promise.reject(
        new TypeError(`${this.name}: execute() needs a function (got ${describe(task)})`),
      );
    }
    const interest = this.events.executionInterest;
    let context: Context<D>;
    let signal: AbortSignal | undefined;
    let recorder: ExecutionRecorder<D> | undefined;
    try {
      if (options === undefined) {
        if (interest !== 0) {
          recorder = this.#record(
            interest,
            task as Task<unknown, D>,
            undefined,
            'critical',
            undefined,
          );
        }
        context = new Context<D>(
          recorder?.run ?? (task as Task<unknown, D>),
          this[layersOf],
          AbortScope.none,
          1,
          undefined,
          undefined as D,
          Number.POSITIVE_INFINITY,
        );
      } else {
        if (typeof options !== 'object' || options === null) {
          return Promise.reject(
            new TypeError(
              `${this.name}: execute() options must be an object (got ${describe(options)})`,
            ),
          );
        }
        // Each option is read once: a getter may answer differently, or throw, on every read.
        const { signal: given, key, data, deadline, priority, classify } = options;
        const problem = executeOptionsProblem(given, key, deadline, priority, classify);
        if (problem !== undefined) {
          return Promise.reject(new TypeError(`${this.name}: execute() ${problem}`));
        }
        if (interest !== 0) {
          recorder = this.#record(
            interest,
            task as Task<unknown, D>,
            key,
            priority ?? 'critical',
            given,
          );
        }
        if (given?.aborted) {
          const refused = Promise.reject(given.reason);
          return recorder === undefined ? refused : recorder.finish(refused);
        }
        signal = given;
        context = new Context<D>(
          recorder?.run ?? (task as Task<unknown, D>),
          this[layersOf],
          signal === undefined ? AbortScope.none : new AbortScope(undefined, signal),
          1,
          key,
          data as D,
          deadline ?? Number.POSITIVE_INFINITY,
          false,
          priority ?? 'critical',
          classify,
        );
      }
    } catch (error) {
      // A throwing options getter, or a revoked Proxy: execute() never throws.
      return Promise.reject(error);
    }
    const result = (
      recorder === undefined ? next(context as Context, 0) : recorder.start(context as Context)
    ) as Promise<T | Out>;
    const settled = signal === undefined ? result : disposeAfter(result, context.scope);
    return recorder === undefined ? settled : recorder.finish(settled);
  }

  #record<D>(
    interest: number,
    task: Task<unknown, D>,
    key: string | undefined,
    priority: Priority,
    signal: AbortSignal | undefined,
  ): ExecutionRecorder<D> {
    // The same emitter: every policy's events include the execution events.
    const events = this.events as unknown as PolicyEvents<ExecutionEvents>;
    return new ExecutionRecorder(events, interest, this.#clock, task, key, priority, signal);
  }

  /** Does this policy's work around `next(context, index + 1)`. @internal */
  abstract run(context: Context, index: number): Promise<unknown>;
}

function disposeAfter<T>(result: Promise<T>, scope: AbortScope): Promise<T> {
  return result.then(
    (value) => {
      scope.dispose();
      return value;
    },
    (error: unknown) => {
      scope.dispose();
      throw error;
    },
  );
}

/** What is wrong with a caller's `execute` options, or undefined when nothing is. */
function executeOptionsProblem(
  signal: unknown,
  key: unknown,
  deadline: unknown,
  priority: unknown,
  classify: unknown,
): string | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return `option "signal" must be an AbortSignal (got ${describe(signal)})`;
  }
  if (key !== undefined && typeof key !== 'string') {
    return `option "key" must be a string (got ${describe(key)})`;
  }
  if (deadline !== undefined && (typeof deadline !== 'number' || Number.isNaN(deadline))) {
    return `option "deadline" must be a number on the clock's scale (got ${describe(deadline)})`;
  }
  if (priority !== undefined && !priorities.includes(priority as Priority)) {
    const allowed = priorities.map((p) => `'${p}'`).join(', ');
    return `option "priority" must be one of ${allowed} (got ${describe(priority)})`;
  }
  if (classify !== undefined && typeof classify !== 'function') {
    return `option "classify" must be a function (got ${describe(classify)})`;
  }
  return undefined;
}

/** Renders a bad option value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol' || value === null || typeof value !== 'object')
    return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
