import type { CacheEvents, CachePolicy } from './index.js';

export interface Gate<T = string> {
  readonly promise: Promise<T>;
  open(value: T): void;
  fail(error: unknown): void;
}

export function gate<T = string>(): Gate<T> {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Records every event of a cache as "type key". */
export function record(policy: Pick<CachePolicy, 'on'>): string[] {
  const seen: string[] = [];
  for (const type of [
    'hit',
    'miss',
    'stale',
    'revalidated',
    'staleIfError',
    'coalesced',
    'evicted',
  ] as const) {
    policy.on(type, (event: CacheEvents[typeof type]) => seen.push(`${type} ${event.key}`));
  }
  return seen;
}

/** A function that answers "<key>#<n>" on its n-th call, counting calls. */
export function counter() {
  const calls: string[] = [];
  const fn = ({ key }: { key: string | undefined }) => {
    calls.push(key ?? '-');
    return `${key}#${calls.length}`;
  };
  return { calls, fn };
}
