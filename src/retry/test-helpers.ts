import type { VirtualClock } from '../testing/index.js';

/** Lets the first attempt fail and its sleep be armed, then fires every timer until none is left. */
export async function drain(clock: VirtualClock): Promise<void> {
  await clock.advance(0);
  await clock.runAll();
}

/** A task that fails with `errors` in turn (the last one repeating), recording each start. */
export function failing(clock: VirtualClock, ...errors: unknown[]) {
  const calls: { at: number; attempt: number }[] = [];
  const task = (ctx: { attempt: number }): Promise<never> => {
    calls.push({ at: clock.now(), attempt: ctx.attempt });
    return Promise.reject(errors[Math.min(calls.length, errors.length) - 1]);
  };
  return { calls, task };
}
