import { AbortScope } from './abort-scope.js';
import type { Classifier } from './classify.js';

/**
 * How much a call matters when there is not enough capacity for all of them, from most to
 * least: the criticalities of Google's SRE book. Load shedders refuse lower ones first.
 */
export type Priority = 'critical-plus' | 'critical' | 'sheddable-plus' | 'sheddable';

/** Every priority, most critical first. */
export const priorities: readonly Priority[] = [
  'critical-plus',
  'critical',
  'sheddable-plus',
  'sheddable',
];

/** What the caller can pass to `execute` besides the function. */
export interface ExecuteOptions<D = unknown> {
  /** Aborting it stops the execution promptly with the signal's reason. */
  signal?: AbortSignal;
  /** Identifies the call's target (a host, a tenant); keyed policies partition by it. */
  key?: string;
  /** Anything the function or a policy's callbacks need; passed through untouched. */
  data?: D;
  /** An absolute deadline on the policies' clock (`clock.now()` scale). Default: none. */
  deadline?: number;
  /** How much the call matters under overload. Default: 'critical'. */
  priority?: Priority;
  /**
   * What the call's outcomes mean ('success', 'retryable', 'failure', or undefined for "ask
   * the policy"). Policies without a predicate of their own follow it: retry retries
   * 'retryable', a circuit breaker counts 'retryable' and 'failure' as failures, fallback
   * replaces them, hedge hedges on 'retryable'. So a returned HTTP 503 can be retried without
   * being thrown. Default: none (each policy's own rule).
   */
  classify?: Classifier;
}

/** What the function run by a policy receives. */
export interface ExecutionContext<D = unknown> {
  /** Aborted when the caller aborts or an enclosing timeout expires. Pass it to your I/O. */
  readonly signal: AbortSignal;
  /** 1-based attempt number, set by the nearest enclosing retry. */
  readonly attempt: number;
  /** The caller's `key`. */
  readonly key: string | undefined;
  /** The caller's `data`. */
  readonly data: D;
  /** The earliest of every enclosing timeout's deadline and the caller's; Infinity if none. */
  readonly deadline: number;
  /** The caller's `priority`; 'critical' when none was given. */
  readonly priority: Priority;
}

/** The function a policy runs. It may return a value or a promise, or throw. */
export type Task<T, D = unknown> = (context: ExecutionContext<D>) => T | PromiseLike<T>;

/**
 * The context of one execution as it passes through a chain of policies. A policy that
 * changes what the function sees (a retry's attempt, a timeout's deadline and signal)
 * derives a new one; the others pass theirs on as it is.
 * @internal
 */
export class Context<D = unknown> implements ExecutionContext<D> {
  /** This call's never-aborting signal, made on first read, when its scope is `none`. */
  #idleSignal: AbortSignal | undefined;

  constructor(
    readonly task: Task<unknown, D>,
    readonly chain: readonly Layer[],
    readonly scope: AbortScope,
    readonly attempt: number,
    readonly key: string | undefined,
    readonly data: D,
    readonly deadline: number,
    /**
     * How an enclosing timeout enforces `deadline`: false when none does (the caller's say-so);
     * 'cooperative' when it aborts `scope` then; 'aggressive' when it also rejects the call then.
     */
    readonly deadlineEnforced: false | 'cooperative' | 'aggressive' = false,
    readonly priority: Priority = 'critical',
    /** The caller's rule for what outcomes mean, for policies without a rule of their own. */
    readonly classify: Classifier | undefined = undefined,
  ) {}

  get signal(): AbortSignal {
    if (this.scope !== AbortScope.none) return this.scope.signal;
    this.#idleSignal ??= new AbortController().signal;
    return this.#idleSignal;
  }

  withAttempt(attempt: number): Context<D> {
    return new Context(
      this.task,
      this.chain,
      this.scope,
      attempt,
      this.key,
      this.data,
      this.deadline,
      this.deadlineEnforced,
      this.priority,
      this.classify,
    );
  }

  /** A context under a timeout that aborts `scope` at `deadline` (and rejects, if aggressive). */
  withDeadline(
    scope: AbortScope,
    deadline: number,
    enforcement: 'cooperative' | 'aggressive' = 'cooperative',
  ): Context<D> {
    return new Context(
      this.task,
      this.chain,
      scope,
      this.attempt,
      this.key,
      this.data,
      deadline,
      enforcement,
      this.priority,
      this.classify,
    );
  }
}

/**
 * One policy's part in a chain. `run` does the policy's work around `next(context, index + 1)`,
 * which runs the rest of the chain and finally the task. Passing the position as a number
 * instead of a closure keeps a pipeline from allocating anything per layer per call.
 * @internal
 */
export interface Layer {
  run(context: Context, index: number): Promise<unknown>;
}

const nativeThen = Promise.prototype.then;

/**
 * The task's result as a promise bulwark can chain on. A native promise is used as it is,
 * unless it carries a `then` of its own: layers would call that instead of the real one, where
 * `await` would not, so such a promise is read through the real `then`.
 */
export function adopt(result: unknown): Promise<unknown> {
  const promise = Promise.resolve(result);
  return promise.then === nativeThen ? promise : nativeThen.call(promise, undefined);
}

/**
 * Runs the chain from position `index`: the layer there, or the task past the end. Whatever
 * throws instead of returning a promise (the task, or a layer whose clock or callback threw)
 * becomes a rejection, so the layers outside still see the outcome and clean up.
 */
export function next(context: Context, index: number): Promise<unknown> {
  try {
    const layer = context.chain[index];
    if (layer !== undefined) return layer.run(context, index);
    return adopt(context.task(context));
  } catch (error) {
    return Promise.reject(error);
  }
}
