import type { ExecutionContext } from '../core/context.js';
import type { VirtualClock } from '../testing/index.js';

/** Lets queued promise reactions run without moving the clock. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What one attempt of a scripted task does: answer or fail after `ms`, or hang (Infinity). */
export interface Script {
  readonly ms: number;
  readonly ok?: boolean;
  readonly value?: unknown;
}

export interface Started {
  readonly attempt: number;
  readonly at: number;
  readonly signal: AbortSignal;
}

/**
 * A task whose n-th attempt follows `scripts[n - 1]` on the virtual clock, ignoring its signal
 * (so a loser that keeps running cannot hold the result back), and a log of the attempts.
 */
export function scripted(clock: VirtualClock, scripts: readonly Script[]) {
  const started: Started[] = [];
  const task = (ctx: ExecutionContext): Promise<unknown> => {
    started.push({ attempt: ctx.attempt, at: clock.now(), signal: ctx.signal });
    const script = scripts[ctx.attempt - 1] ?? { ms: Number.POSITIVE_INFINITY };
    return new Promise((resolve, reject) => {
      if (script.ms === Number.POSITIVE_INFINITY) return;
      const settle = (): void => {
        if (script.ok === false) reject(script.value ?? new Error(`attempt ${ctx.attempt} failed`));
        else resolve(script.value ?? `answer ${ctx.attempt}`);
      };
      if (script.ms === 0) settle();
      else clock.setTimeout(settle, script.ms);
    });
  };
  return { started, task };
}
