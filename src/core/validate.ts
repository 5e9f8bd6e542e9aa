import type { Outcome } from './outcome.js';
import { describe } from './policy.js';

/**
 * Builders' option checks. Each throws a TypeError naming the policy, the option, the value
 * and what was expected, e.g. `retry: option "maxAttempts" must be an integer >= 1 (got 0)`.
 */
export function invalid(
  policy: string,
  option: string,
  value: unknown,
  expected: string,
): TypeError {
  return new TypeError(
    `${policy}: option "${option}" must be ${expected} (got ${describe(value)})`,
  );
}

/** A whole number >= `min`; `Infinity` is allowed when `allowInfinity` is set. */
export function checkInteger(
  policy: string,
  option: string,
  value: unknown,
  min: number,
  allowInfinity = false,
): number {
  const ok =
    typeof value === 'number' &&
    value >= min &&
    (Number.isSafeInteger(value) || (allowInfinity && value === Number.POSITIVE_INFINITY));
  if (!ok) {
    throw invalid(
      policy,
      option,
      value,
      `an integer >= ${min}${allowInfinity ? ' or Infinity' : ''}`,
    );
  }
  return value;
}

/** A finite number of milliseconds >= `min` (default 0); `Infinity` when `allowInfinity`. */
export function checkMs(
  policy: string,
  option: string,
  value: unknown,
  min = 0,
  allowInfinity = false,
): number {
  const ok =
    typeof value === 'number' &&
    value >= min &&
    (Number.isFinite(value) || (allowInfinity && value === Number.POSITIVE_INFINITY));
  if (!ok) {
    throw invalid(
      policy,
      option,
      value,
      `a number of milliseconds >= ${min}${allowInfinity ? ' or Infinity' : ''}`,
    );
  }
  return value;
}

/** A number in [0, 1]. */
export function checkFraction(policy: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw invalid(policy, option, value, 'a number from 0 to 1');
  }
  return value;
}

export function checkFunction<F extends Function>(
  policy: string,
  option: string,
  value: unknown,
): F {
  if (typeof value !== 'function') throw invalid(policy, option, value, 'a function');
  return value as F;
}

export function checkOneOf<T extends string>(
  policy: string,
  option: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    throw invalid(policy, option, value, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

/** An options object or undefined; anything else (a number, null, an array) is refused. */
export function checkOptions<T extends object>(policy: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${policy}: options must be an object (got ${describe(value)})`);
  }
  return value as Partial<T>;
}

/**
 * A clock: an object with now, setTimeout and clearTimeout, and either both or neither of
 * unref and ref.
 */
export function checkClock<C>(policy: string, value: unknown, fallback: C): C {
  if (value === undefined) return fallback;
  const clock = value as Record<string, unknown> | null;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw invalid(policy, 'clock', value, 'a Clock with now(), setTimeout() and clearTimeout()');
  }
  const { unref, ref } = clock;
  const neither = unref === undefined && ref === undefined;
  if (!neither && (typeof unref !== 'function' || typeof ref !== 'function')) {
    throw invalid(
      policy,
      'clock',
      value,
      'a Clock whose unref() and ref() are functions, or neither is set',
    );
  }
  return value as C;
}

/**
 * A predicate's answer (`retryOn`, `failureOn`, `handle`, ...) as a boolean. Predicates decide
 * on the spot, so a promise is refused: it is always truthy, and an async predicate would
 * otherwise say "yes" to everything without anyone noticing. The TypeError carries the judged
 * outcome's error as its `cause`, and the promise's own rejection, which nobody will await, is
 * marked handled.
 */
export function verdict(
  policy: string,
  option: string,
  answer: unknown,
  outcome?: Outcome,
): boolean {
  if (typeof answer === 'boolean') return answer;
  if (isPromiseAnswer(answer)) {
    throw new TypeError(
      `${policy}: option "${option}" returned a promise; it must decide synchronously and return a boolean`,
      outcome === undefined || outcome.ok ? undefined : { cause: outcome.error },
    );
  }
  return Boolean(answer);
}

/**
 * Whether a callback that must decide on the spot answered with a promise instead; if so, the
 * promise's own rejection, which nobody will await, is marked handled.
 */
export function isPromiseAnswer(answer: unknown): boolean {
  if (
    (typeof answer !== 'object' && typeof answer !== 'function') ||
    answer === null ||
    typeof (answer as { then?: unknown }).then !== 'function'
  ) {
    return false;
  }
  Promise.resolve(answer).catch(ignore);
  return true;
}

function ignore(): void {}
