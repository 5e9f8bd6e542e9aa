import { Context } from '../core/context.js';
import { BasePolicy, type InOf, type OutOf } from '../core/policy.js';
import type { KeyablePolicy, KeyedPolicy } from './keyed.js';

/**
 * One key of a keyed policy, as `get(key)` hands it out. Its `execute` runs through the keyed
 * policy under this key, exactly as `keyed.execute(fn, { key })` would: the call counts as the
 * key's (the key is not evicted while it runs) and always reaches the key's kept policy, so
 * two policies never serve one key at once. A handle can be kept: it never goes stale.
 */
export class KeyedHandle<P extends KeyablePolicy> extends BasePolicy<{}, InOf<P>, OutOf<P>> {
  readonly key: string;
  readonly #keyed: KeyedPolicy<P>;
  readonly #policyOf: (key: string) => P;

  /** @internal */
  constructor(keyed: KeyedPolicy<P>, key: string, policyOf: (key: string) => P) {
    super('keyed', keyed.name);
    this.key = key;
    this.#keyed = keyed;
    this.#policyOf = policyOf;
  }

  /**
   * The key's policy now, to read its state (a breaker's `state`, a bulkhead's `running`).
   * Reading it counts as a use of the key, like `get`; if the key was dropped since, a fresh
   * policy is made. Calls made on it directly bypass the keyed policy: use the handle's
   * `execute` instead.
   */
  get policy(): P {
    return this.#policyOf(this.key);
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    if (context.key === this.key) return this.#keyed.run(context, index);
    // The handle's key wins over the caller's: the function and the layers below see it.
    const keyedContext = new Context(
      context.task,
      context.chain,
      context.scope,
      context.attempt,
      this.key,
      context.data,
      context.deadline,
      context.deadlineEnforced,
      context.priority,
      context.classify,
    );
    return this.#keyed.run(keyedContext, index);
  }
}
