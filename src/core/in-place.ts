import { Context, type Layer, next } from './context.js';
import { Pipeline } from './pipeline.js';
import { BasePolicy, layersOf, type Policy } from './policy.js';

/**
 * Runs several layers in the place of one layer of an outer chain, then carries on with the
 * rest of that chain. The spliced chain (these layers, then the outer chain's rest) is built
 * once per outer chain and position, not per call; a call costs one derived Context.
 */
class SubChain implements Layer {
  #outer: readonly Layer[] | undefined;
  #at = -1;
  #chain: readonly Layer[] = [];

  constructor(private readonly layers: readonly Layer[]) {}

  run(context: Context, index: number): Promise<unknown> {
    if (context.chain !== this.#outer || index !== this.#at) {
      this.#chain = [...this.layers, ...context.chain.slice(index + 1)];
      this.#outer = context.chain;
      this.#at = index;
    }
    const spliced = new Context(
      context.task,
      this.#chain,
      context.scope,
      context.attempt,
      context.key,
      context.data,
      context.deadline,
      context.deadlineEnforced,
      context.priority,
      context.classify,
    );
    return next(spliced, 0);
  }
}

/**
 * The layer that runs `policy` in the place of one layer of a chain and then carries on with
 * the chain: a bulwark policy's own layer, a pipeline's layers, or a foreign policy's
 * `execute`. Undefined when `policy` has no `execute`.
 * @internal
 */
export function inPlace(policy: Policy): Layer | undefined {
  let layers: readonly Layer[];
  if (policy instanceof BasePolicy) layers = policy[layersOf];
  else if (typeof (policy as Partial<Policy> | null | undefined)?.execute === 'function')
    layers = new Pipeline([policy])[layersOf];
  else return undefined;
  // One layer already runs in place: it calls next(context, index + 1) on the outer chain.
  return layers.length === 1 ? layers[0] : new SubChain(layers);
}
