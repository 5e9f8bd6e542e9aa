import type { Priority } from '../core/context.js';
import type { LoadShedderPolicy } from './load-shedder.js';

export interface Gate {
  readonly promise: Promise<string>;
  open(value: string): void;
  fail(error: unknown): void;
}

export function gate(): Gate {
  let open!: (value: string) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<string>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Starts calls that each hang on their own gate, recording the order they start in. */
export function harness(policy: LoadShedderPolicy) {
  const started: string[] = [];
  const gates = new Map<string, Gate>();
  const call = (id: string, priority: Priority = 'critical', signal?: AbortSignal) => {
    const g = gate();
    gates.set(id, g);
    return policy.execute(
      () => {
        started.push(id);
        return g.promise;
      },
      { signal, key: id, priority },
    );
  };
  const open = (id: string) => gates.get(id)!.open(id);
  return { started, gates, call, open };
}
