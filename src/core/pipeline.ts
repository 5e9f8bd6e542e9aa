import { AbortScope } from './abort-scope.js';
import { adopt, Context, type ExecutionContext, type Layer, next } from './context.js';
import { BasePolicy, describe, layersOf, type Policy } from './policy.js';

/**
 * A policy that is not one of bulwark's: it joins a pipeline through its public `execute`,
 * which gets the context's signal, key, data and deadline, and whatever context it hands its
 * function (another attempt, a signal of its own, a tighter deadline) carries on down the chain.
 */
class ForeignLayer implements Layer {
  constructor(private readonly policy: Policy) {}

  run(context: Context, index: number): Promise<unknown> {
    return adopt(
      this.policy.execute((inner) => continueFrom(context, inner, index + 1), {
        signal: context.signal,
        key: context.key,
        data: context.data,
        deadline: context.deadline,
      }),
    );
  }
}

async function continueFrom(
  context: Context,
  inner: ExecutionContext,
  index: number,
): Promise<unknown> {
  if (inner === context) return next(context, index);
  const ownSignal = inner.signal !== context.signal;
  const scope = ownSignal ? new AbortScope(undefined, inner.signal) : context.scope;
  const foreignDeadline = inner.deadline ?? Number.POSITIVE_INFINITY;
  // A tighter deadline from the foreign policy is its own affair: bulwark does not enforce it.
  const tighter = foreignDeadline < context.deadline;
  const derived = new Context(
    context.task,
    context.chain,
    scope,
    inner.attempt ?? context.attempt,
    context.key,
    context.data,
    tighter ? foreignDeadline : context.deadline,
    tighter ? false : context.deadlineEnforced,
  );
  try {
    return await next(derived, index);
  } finally {
    if (ownSignal) scope.dispose();
  }
}

/** Several policies run as one, the first outermost. */
export class Pipeline extends BasePolicy {
  readonly policies: readonly Policy[];

  constructor(policies: readonly Policy[]) {
    const layers: Layer[] = [];
    policies.forEach((policy, at) => {
      if (policy instanceof BasePolicy) layers.push(...policy[layersOf]);
      else if (typeof (policy as Policy | undefined)?.execute === 'function')
        layers.push(new ForeignLayer(policy));
      else
        throw new TypeError(
          `pipeline: argument ${at + 1} must be a policy (got ${describe(policy)})`,
        );
    });
    super('pipeline', undefined, layers);
    this.policies = policies;
  }

  /** A pipeline contributes its members' layers, never itself, so this is never called. */
  run(context: Context, index: number): Promise<unknown> {
    return next(context, index + 1);
  }
}

/**
 * Composes policies, outermost first: `pipeline(fallback, retry, breaker, timeout)` retries
 * around a breaker around a timeout, and falls back when all of that fails.
 */
export function pipeline(...policies: Policy[]): Pipeline {
  return new Pipeline(policies);
}
