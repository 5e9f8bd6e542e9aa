import type { Disposer } from './events.js';

/**
 * What a tracing adapter gives the core so that each observed call, and each run of its task,
 * runs inside a context of the adapter's own (an OpenTelemetry span made active): the user's
 * instrumented I/O inside the task then becomes a child of the attempt's span. While none is
 * set, nothing calls it and calls cost what they did.
 * @internal
 */
export interface ExecutionScope<Handle = unknown> {
  /**
   * A call starts through `execute` of the policy `policy` of kind `kind`; `call` is the
   * number its `execution` and `attempt` events carry, `key` the caller's. Returns what
   * `enter` and `attempt` receive for this call. Only calls someone observes are opened: the
   * scope's owner subscribes for `execution` and `attempt` events, which tell it they ended.
   */
  open(policy: string, kind: string, call: number, key: string | undefined): Handle;
  /** Runs the call's policies: must call `run` once, at once, and return what it returns. */
  enter<T>(handle: Handle, run: () => T): T;
  /** Runs one attempt of the task: must call `run` once, at once, and return what it returns. */
  attempt<T>(handle: Handle, attempt: number, run: () => T): T;
  /**
   * Runs `run` outside every call's context. The system clock arms its timers through it: a
   * timer shared by many calls (a timeout's, a queue's) would otherwise fire, and report, in
   * the context of whichever call happened to arm it.
   */
  detached<T>(run: () => T): T;
}

let current: ExecutionScope | undefined;

/** The execution scope in use, if any. @internal */
export function executionScope(): ExecutionScope | undefined {
  return current;
}

/**
 * Puts `scope` in use; returns the function that takes it out. One scope at a time: a second
 * adapter's would hide the first one's spans, so setting one while another is set throws.
 * @internal
 */
export function useExecutionScope(scope: ExecutionScope): Disposer {
  if (current !== undefined) {
    throw new Error('bulwark: an execution scope is already in use; dispose of it first');
  }
  current = scope;
  return () => {
    if (current === scope) current = undefined;
  };
}
