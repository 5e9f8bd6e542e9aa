import type { Clock } from '../core/clock.js';
import { type Context, next } from '../core/context.js';
import {
  BulkheadRejectedError,
  LoadShedError,
  RateLimitedError,
  ThrottledError,
} from '../core/errors.js';
import { type GaugeSink, readGauges, registerGauges } from '../core/gauges.js';
import type { Outcome } from '../core/outcome.js';
import { BasePolicy, type PolicyOptions } from '../core/policy.js';
import { checkFunction, checkInteger, checkOptions, verdict } from '../core/validate.js';
import { checkFinite, checkWindow } from './checks.js';
import { SlidingPair } from './window.js';

/** Decides whether the backend accepted a call. It must answer synchronously. */
export type AcceptedPredicate<T = unknown> = (outcome: Outcome<T>) => boolean;

export interface AdaptiveThrottleOptions<T = unknown> extends PolicyOptions {
  /**
   * How many requests per accept the client may send before it starts refusing locally: it
   * sends until requests reach `k` times accepts. Lower is more aggressive. A finite number
   * >= 1. Default 2, the SRE book's choice.
   */
  k?: number;
  /** How far back requests and accepts are counted, in milliseconds (finite, > 0). Default 120_000. */
  windowMs?: number;
  /** How many buckets the window ages in (an integer from 1 to 1000). Default 10. */
  buckets?: number;
  /**
   * Requests the window must hold before anything is refused, so that a client that has sent
   * little is not throttled on one or two refusals. An integer >= 0. Default 10.
   */
  minRequests?: number;
  /**
   * Whether the backend accepted a call, from its outcome. Default: {@link defaultAcceptedOn},
   * which counts everything as accepted except a refusal for lack of capacity.
   */
  acceptedOn?: AcceptedPredicate<T>;
  /** Random source in [0, 1), like Math.random, that decides each refusal. Default Math.random. */
  random?: () => number;
}

/** What the throttle has counted over its window, and how likely a refusal is now. */
export interface AdaptiveThrottleStats {
  /** Calls that reached the throttle, refused ones included. */
  readonly requests: number;
  /** Calls the backend accepted. */
  readonly accepts: number;
  /** The probability that the next call is refused locally. */
  readonly probability: number;
}

export interface AdaptiveThrottleEvents {
  /** A call was refused locally, without reaching the backend. */
  throttled: { readonly key: string | undefined; readonly probability: number };
}

/**
 * What `adaptiveThrottle` counts as accepted when no `acceptedOn` is given: every outcome but
 * a refusal for lack of capacity, which is what an overloaded or out-of-quota backend answers
 * (`LoadShedError`, `RateLimitedError`), and what the client's own capacity guards answer in
 * its stead (`BulkheadRejectedError`, or `ThrottledError` from another throttle inside). An
 * error that is not about capacity (a 404, a failed validation, a `TimeoutError`, an open
 * breaker's `BrokenCircuitError`) means the backend was reached or the problem lies elsewhere.
 */
export function defaultAcceptedOn(outcome: Outcome): boolean {
  return outcome.ok || !isCapacityRefusal(outcome.error);
}

function isCapacityRefusal(error: unknown): boolean {
  return (
    error instanceof LoadShedError ||
    error instanceof RateLimitedError ||
    error instanceof BulkheadRejectedError ||
    error instanceof ThrottledError
  );
}

/**
 * Client-side adaptive throttling (Google SRE book, "Handling Overload"): counts the requests
 * it sees and those the backend accepts over a sliding window, and refuses a call locally with
 * probability `max(0, (requests - k * accepts) / (requests + 1))`, so that a backend which
 * rejects most of this client's calls stops paying for the rejections.
 */
export class AdaptiveThrottlePolicy<T = unknown> extends BasePolicy<AdaptiveThrottleEvents, T> {
  readonly k: number;
  readonly windowMs: number;
  readonly buckets: number;
  readonly minRequests: number;
  readonly #acceptedOn: AcceptedPredicate | undefined;
  readonly #random: () => number;
  readonly #clock: Clock;
  /** first: requests, second: accepts. */
  readonly #window: SlidingPair;

  constructor(options?: AdaptiveThrottleOptions) {
    const opts = checkOptions<AdaptiveThrottleOptions>('adaptive-throttle', options);
    super('adaptive-throttle', opts.name);
    this.k = checkFinite(this.name, 'k', opts.k ?? 2, 1);
    const window = checkWindow(this.name, opts.windowMs ?? 120_000, opts.buckets ?? 10);
    this.windowMs = window.windowMs;
    this.buckets = window.buckets;
    this.minRequests = checkInteger(this.name, 'minRequests', opts.minRequests ?? 10, 0);
    this.#acceptedOn =
      opts.acceptedOn === undefined
        ? undefined
        : checkFunction<AcceptedPredicate>(this.name, 'acceptedOn', opts.acceptedOn);
    this.#random =
      opts.random === undefined
        ? Math.random
        : checkFunction<() => number>(this.name, 'random', opts.random);
    this.#clock = this.useClock(opts.clock);
    this.#window = new SlidingPair(this.windowMs, this.buckets);
    registerGauges(this);
  }

  /** @internal */
  [readGauges](sink: GaugeSink): void {
    this.#window.advance(this.#clock.now());
    sink.value(this.name, 'adaptive-throttle', 'probability', this.#probability());
  }

  /** The counts over the window now, and the refusal probability they give. */
  stats(): AdaptiveThrottleStats {
    const window = this.#window;
    window.advance(this.#clock.now());
    return {
      requests: window.first,
      accepts: window.second,
      probability: this.#probability(),
    };
  }

  /** @internal */
  run(context: Context, index: number): Promise<unknown> {
    if (context.scope.aborted) return Promise.reject(context.scope.reason);
    const window = this.#window;
    window.advance(this.#clock.now());
    const probability = this.#probability();
    window.addFirst();
    // No random draw while the backend keeps up: the common case costs two counter updates.
    if (probability > 0 && this.#random() < probability) return this.#refuse(context, probability);
    if (this.#acceptedOn !== undefined) {
      return next(context, index + 1).then(this.#judgeValue, this.#judgeError);
    }
    return next(context, index + 1).then(this.#accepted, this.#failed);
  }

  /** Refusal probability from the counts as of the last advance; 0 below `minRequests`. */
  #probability(): number {
    const window = this.#window;
    const requests = window.first;
    if (requests < this.minRequests) return 0;
    const excess = requests - this.k * window.second;
    return excess > 0 ? excess / (requests + 1) : 0;
  }

  #refuse(context: Context, probability: number): Promise<never> {
    if (this.events.enabled) this.events.emit('throttled', { key: context.key, probability });
    return Promise.reject(
      new ThrottledError(
        `${this.name} refused the call locally: the backend has been refusing this client (probability ${Math.round(probability * 1000) / 1000})`,
        probability,
      ),
    );
  }

  // Accepts go to the newest bucket without reading the clock again: that bucket began at or
  // after the call's start, so an accept never leaves the window before its request does.
  // Handlers made once per policy: a call allocates nothing of its own here.
  readonly #accepted = (value: unknown): unknown => {
    this.#window.addSecond();
    return value;
  };

  readonly #failed = (error: unknown): never => {
    if (!isCapacityRefusal(error)) this.#window.addSecond();
    throw error;
  };

  readonly #judgeValue = (value: unknown): unknown => {
    const outcome: Outcome = { ok: true, value };
    if (verdict(this.name, 'acceptedOn', this.#acceptedOn!(outcome), outcome)) {
      this.#window.addSecond();
    }
    return value;
  };

  readonly #judgeError = (error: unknown): never => {
    const outcome: Outcome = { ok: false, error };
    if (verdict(this.name, 'acceptedOn', this.#acceptedOn!(outcome), outcome)) {
      this.#window.addSecond();
    }
    throw error;
  };
}

/**
 * Client-side adaptive throttling as a policy: once the backend accepts less than 1 in `k` of
 * this client's requests over the last `windowMs` (default 2 minutes), calls are refused
 * locally with `ThrottledError`, with probability `(requests - k * accepts) / (requests + 1)`.
 */
export function adaptiveThrottle<T = unknown>(
  options?: AdaptiveThrottleOptions<T>,
): AdaptiveThrottlePolicy<T> {
  return new AdaptiveThrottlePolicy<T>(options as AdaptiveThrottleOptions);
}
