import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { TimeoutError } from '../../core/errors.js';
import type { AnyTelemetryEvent } from '../../core/events.js';
import type { ExecutionScope } from '../../core/execution-scope.js';
import { errorType } from './attribute-sets.js';
import { attributes } from './names.js';
import { spanEventOf } from './span-events.js';

/** Ended calls whose attempts are still waited for, at most. */
const maxLingering = 1_000;

/** One call's spans while it runs. */
class CallTrace {
  /** Its attempts' spans still running, by attempt number. */
  readonly attempts = new Map<number, Span>();
  /** True once the call's span ended, or from the start when the sampler dropped it. */
  ended = false;

  constructor(
    readonly span: Span,
    /** The caller's context with the call's span in it: the parent of its attempts. */
    readonly context: Context,
    readonly policy: string,
    readonly kind: string,
    readonly key: string | undefined,
  ) {}
}

/** What the core's `execution` event carries that spans use. */
interface CallEnd {
  readonly call: number;
  readonly outcome: string;
  readonly attempts: number;
  readonly error: unknown;
}

/** What the core's `attempt` event carries that spans use. */
interface AttemptEnd {
  readonly call: number;
  readonly attempt: number;
  readonly outcome: string;
  readonly error: unknown;
}

/**
 * Spans for calls: one per call of a pipeline (or of a policy called directly), a child per run
 * of the task, made active while that run lasts, and the policies' events about the call as
 * span events. The core runs calls and attempts through it (see {@link ExecutionScope}); the
 * `execution` and `attempt` events end the spans.
 */
export class Tracing implements ExecutionScope<CallTrace> {
  readonly #tracer: Tracer;
  /** Calls whose call span, or an attempt's, is still open, by the core's call number. */
  readonly #calls = new Map<number, CallTrace>();
  /** This adapter's open spans, to tell them from anyone else's active span. */
  readonly #owners = new Map<Span, CallTrace>();
  /**
   * Ended calls whose attempts still run, by call number, oldest first: a task an aggressive
   * timeout stopped waiting for may never settle, so only the newest are waited for.
   */
  readonly #lingering = new Set<number>();
  #stopped = false;

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  open(policy: string, kind: string, call: number, key: string | undefined): CallTrace {
    const parent = context.active();
    const span = this.#tracer.startSpan(
      policy,
      {
        kind: SpanKind.INTERNAL,
        attributes: { [attributes.policyName]: policy, [attributes.policyKind]: kind },
      },
      parent,
    );
    const traced = new CallTrace(span, trace.setSpan(parent, span), policy, kind, key);
    // A span the sampler dropped records nothing: only its context is passed on.
    if (span.isRecording()) {
      this.#calls.set(call, traced);
      this.#owners.set(span, traced);
    } else traced.ended = true;
    return traced;
  }

  enter<T>(traced: CallTrace, run: () => T): T {
    return context.with(traced.context, run);
  }

  attempt<T>(traced: CallTrace, attempt: number, run: () => T): T {
    if (this.#stopped || traced.ended) return context.with(traced.context, run);
    // Another attempt still running means this one is a hedge: retries never overlap.
    if (traced.attempts.size > 0) {
      traced.span.addEvent('bulwark.hedge', { [attributes.attemptNumber]: attempt });
    }
    const started: Attributes = {
      [attributes.policyName]: traced.policy,
      [attributes.policyKind]: traced.kind,
      [attributes.attemptNumber]: attempt,
    };
    if (attempt > 1) started[attributes.resendCount] = attempt - 1;
    const span = this.#tracer.startSpan(
      `${traced.policy} attempt`,
      { kind: SpanKind.INTERNAL, attributes: started },
      traced.context,
    );
    traced.attempts.set(attempt, span);
    this.#owners.set(span, traced);
    return context.with(trace.setSpan(traced.context, span), run);
  }

  /** Bulwark's own timers run outside every call's context: see the core's clock. */
  detached<T>(run: () => T): T {
    return context.with(ROOT_CONTEXT, run);
  }

  record(event: AnyTelemetryEvent): void {
    if (event.type === 'execution') {
      this.#callEnded(event.detail as CallEnd);
      return;
    }
    if (event.type === 'attempt') {
      this.#attemptEnded(event.detail as AttemptEnd);
      return;
    }
    const spanEvent = spanEventOf(event);
    if (spanEvent === undefined) return;
    const span = trace.getSpan(context.active());
    const owner = span === undefined ? undefined : this.#owners.get(span);
    if (owner === undefined || owner.ended) return;
    // Another call's context can be active when a policy reports (a shared queue's flow); a
    // different key gives that away.
    const key = (event.detail as { key?: unknown }).key;
    if (key !== undefined && key !== owner.key) return;
    span!.addEvent(spanEvent[0], spanEvent[1]);
  }

  /** Ends every span still open: nothing will end them once the adapter is detached. */
  stop(): void {
    this.#stopped = true;
    for (const traced of this.#calls.values()) {
      for (const span of traced.attempts.values()) span.end();
      if (!traced.ended) traced.span.end();
      traced.ended = true;
    }
    this.#calls.clear();
    this.#owners.clear();
    this.#lingering.clear();
  }

  #callEnded({ call, outcome, attempts, error }: CallEnd): void {
    const traced = this.#calls.get(call);
    if (traced === undefined || traced.ended) return;
    traced.ended = true;
    const span = traced.span;
    span.setAttribute(attributes.outcome, outcome);
    span.setAttribute(attributes.attempts, attempts);
    if (outcome !== 'success') fail(span, error);
    span.end();
    this.#owners.delete(span);
    if (traced.attempts.size === 0) this.#calls.delete(call);
    else this.#linger(call);
  }

  #attemptEnded({ call, attempt, outcome, error }: AttemptEnd): void {
    const traced = this.#calls.get(call);
    const span = traced?.attempts.get(attempt);
    if (traced === undefined || span === undefined) return;
    traced.attempts.delete(attempt);
    span.setAttribute(attributes.outcome, outcome);
    if (outcome !== 'success') fail(span, error);
    span.end();
    this.#owners.delete(span);
    if (traced.ended && traced.attempts.size === 0) {
      this.#calls.delete(call);
      this.#lingering.delete(call);
    }
  }

  /** Waits for an ended call's attempts, ending the oldest waited for beyond the bound. */
  #linger(call: number): void {
    this.#lingering.add(call);
    if (this.#lingering.size <= maxLingering) return;
    const oldest = this.#lingering.values().next().value as number;
    this.#lingering.delete(oldest);
    const traced = this.#calls.get(oldest);
    this.#calls.delete(oldest);
    if (traced === undefined) return;
    for (const span of traced.attempts.values()) {
      span.end();
      this.#owners.delete(span);
    }
    traced.attempts.clear();
  }
}

/** Marks a span failed with what it failed with. */
function fail(span: Span, error: unknown): void {
  span.setAttribute(attributes.errorType, errorType(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  if (error instanceof TimeoutError) {
    span.addEvent('bulwark.timeout', { 'bulwark.timeout.duration': error.timeoutMs / 1000 });
  }
}
