/**
 * The result of one call, success or failure alike. Predicates that decide "is this a
 * failure / should I retry / should I fall back" receive outcomes, so a returned value (an
 * HTTP 503 response) can count as a failure without being thrown.
 */
export type Outcome<T = unknown> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

export function success<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function failure(error: unknown): Outcome<never> {
  return { ok: false, error };
}

/**
 * A delay the outcome itself asks for: a numeric `retryAfterMs` on the error or on the value
 * (an HTTP client can set it from a `Retry-After` header). Undefined when there is none.
 */
export function retryAfterHint(outcome: Outcome): number | undefined {
  const carrier = outcome.ok ? outcome.value : outcome.error;
  if (typeof carrier !== 'object' || carrier === null) return undefined;
  const hint = (carrier as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof hint === 'number' && hint >= 0 && Number.isFinite(hint) ? hint : undefined;
}
