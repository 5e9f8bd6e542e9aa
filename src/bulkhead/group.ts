import type { Clock } from '../core/clock.js';
import type { ExecuteOptions, Task } from '../core/context.js';
import { describe } from '../core/policy.js';
import { checkClock, checkOptions, invalid } from '../core/validate.js';
import { type BulkheadOptions, BulkheadPolicy } from './bulkhead.js';

/** One pool of a group: a bulkhead's sizing; its name and clock come from the group. */
export type BulkheadPoolOptions = Omit<BulkheadOptions, 'name' | 'clock'>;

export interface BulkheadGroupOptions {
  /**
   * Prefix of every pool's policy name: pool `payments` is named `<name>.payments`.
   * Default: 'bulkhead'.
   */
  name?: string;
  /** Where every pool's time comes from. Default: the system clock. */
  clock?: Clock;
  /**
   * Sizing for a pool asked for by a name the group was not built with: it is created on first
   * use and kept. Default: none, and an unknown pool name is an error.
   */
  defaults?: BulkheadPoolOptions;
}

/** A pool's load and size, as `stats()` reports it. */
export interface BulkheadPoolStats {
  readonly running: number;
  readonly queued: number;
  readonly limit: number;
  readonly queueLimit: number;
}

/**
 * Named bulkheads, one per dependency, so a dependency that hangs can only exhaust its own
 * pool while the others keep serving.
 */
export class BulkheadGroup {
  readonly name: string;
  readonly #clock: Clock | undefined;
  readonly #defaults: BulkheadPoolOptions | undefined;
  readonly #pools = new Map<string, BulkheadPolicy>();

  constructor(pools: Record<string, BulkheadPoolOptions>, options?: BulkheadGroupOptions) {
    const opts = checkOptions<BulkheadGroupOptions>('bulkheadGroup', options);
    const name = opts.name ?? 'bulkhead';
    if (typeof name !== 'string' || name === '') {
      throw invalid('bulkheadGroup', 'name', name, 'a non-empty string');
    }
    this.name = name;
    this.#clock = checkClock<Clock | undefined>('bulkheadGroup', opts.clock, undefined);
    if (opts.defaults !== undefined) {
      // A throwaway pool checks the defaults now rather than on first use.
      this.#create('defaults', opts.defaults);
      this.#defaults = { ...opts.defaults };
    }
    if (typeof pools !== 'object' || pools === null || Array.isArray(pools)) {
      throw new TypeError(
        `bulkheadGroup: pools must be an object of pool name to options (got ${describe(pools)})`,
      );
    }
    for (const [pool, poolOptions] of Object.entries(pools)) {
      this.#pools.set(pool, this.#create(pool, poolOptions));
    }
    if (this.#pools.size === 0 && this.#defaults === undefined) {
      throw new TypeError('bulkheadGroup: pools must name at least one pool, or set "defaults"');
    }
  }

  /** The bulkhead of pool `name`; made from `defaults` on first use if the group has them. */
  pool(name: string): BulkheadPolicy {
    const found = this.#pools.get(name);
    if (found !== undefined) return found;
    if (this.#defaults === undefined) {
      const known = [...this.#pools.keys()].map((pool) => JSON.stringify(pool)).join(', ');
      throw new RangeError(`${this.name}: unknown pool ${describe(name)} (known: ${known})`);
    }
    const created = this.#create(name, this.#defaults);
    this.#pools.set(name, created);
    return created;
  }

  /** Runs `task` in pool `poolName`; an unknown pool rejects like `pool()` throws. */
  execute<T, D = unknown>(
    poolName: string,
    task: Task<T, D>,
    options?: ExecuteOptions<D>,
  ): Promise<T> {
    let pool: BulkheadPolicy;
    try {
      pool = this.pool(poolName);
    } catch (error) {
      return Promise.reject(error);
    }
    return pool.execute(task, options);
  }

  /** Each pool's running and queued counts and its limits, by pool name. */
  stats(): Record<string, BulkheadPoolStats> {
    return Object.fromEntries(
      Array.from(this.#pools, ([name, pool]) => [
        name,
        {
          running: pool.running,
          queued: pool.queued,
          limit: pool.limit,
          queueLimit: pool.queueLimit,
        },
      ]),
    );
  }

  #create(pool: string, options: BulkheadPoolOptions): BulkheadPolicy {
    if (pool === '') throw new TypeError(`${this.name}: a pool name must not be empty`);
    const name = `${this.name}.${pool}`;
    const opts = checkOptions<BulkheadPoolOptions>(name, options) as BulkheadPoolOptions;
    return new BulkheadPolicy({ ...opts, name, clock: this.#clock });
  }
}

/**
 * Builds isolated bulkheads by name, e.g.
 * `bulkheadGroup({ payments: { limit: 5, queue: 10 }, search: { limit: 20 } })`.
 */
export function bulkheadGroup(
  pools: Record<string, BulkheadPoolOptions>,
  options?: BulkheadGroupOptions,
): BulkheadGroup {
  return new BulkheadGroup(pools, options);
}
