import { AbortScope } from './abort-scope.js';
import { adopt, Context, type ExecutionContext, type Layer, next } from './context.js';
import { BasePolicy, describe, type InOf, layersOf, type OutOf, type Policy } from './policy.js';

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
        priority: context.priority,
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
    context.priority,
    context.classify,
  );
  try {
    return await next(derived, index);
  } finally {
    if (ownSignal) scope.dispose();
  }
}

/** Several policies run as one, the first outermost. */
export class Pipeline<In = unknown, Out = never> extends BasePolicy<{}, In, Out> {
  readonly policies: readonly Policy<never, unknown>[];

  constructor(policies: readonly Policy<never, unknown>[]) {
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

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (
  i: infer I,
) => void
  ? I
  : never;

/** What every member's predicates judge, at once: a task's result must be all of it. */
export type PipelineIn<P extends readonly unknown[]> = UnionToIntersection<InOf<P[number]>>;

/** Whatever any member may answer instead of the task's result. */
export type PipelineOut<P extends readonly unknown[]> = OutOf<P[number]>;

/**
 * The first member whose predicates cannot judge what an inner member may substitute (an
 * outer `retry<Response>` around a `fallback` answering a string), or never.
 */
type Misfit<P extends readonly unknown[]> = P extends readonly [infer Head, ...infer Rest]
  ? [PipelineOut<Rest>] extends [InOf<Head>]
    ? Misfit<Rest>
    : Head
  : never;

/** Nothing when the members fit together; otherwise a type no argument list satisfies. */
type Fitting<P extends readonly unknown[]> = [Misfit<P>] extends [never]
  ? unknown
  : { readonly 'an inner fallback answers what an outer policy cannot judge': Misfit<P> };

/**
 * Composes policies, outermost first: `pipeline(fallback, retry, breaker, timeout)` retries
 * around a breaker around a timeout, and falls back when all of that fails.
 *
 * Types flow through: the pipeline takes only tasks whose result every member's predicates can
 * judge, and answers the task's type or any member's substitute (`Promise<T | R>` under a
 * `fallback` of `R`).
 */
export function pipeline<const P extends readonly Policy<never, unknown>[]>(
  ...policies: P & Fitting<P>
): Pipeline<PipelineIn<P>, PipelineOut<P>> {
  return new Pipeline(policies);
}
