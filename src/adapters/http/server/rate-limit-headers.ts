/**
 * The fields of draft-ietf-httpapi-ratelimit-headers, in the structured-field form of its
 * drafts 08 to 10: `RateLimit-Policy` states a quota policy (`q` units per `w`
 * seconds) and `RateLimit` the service limit now (`r` units remaining, `t` seconds until the
 * quota is whole again), both keyed by the policy's name as an sf-string.
 */

/** A name as a structured-field String: printable ASCII, with `"` and `\` escaped. */
export function sfString(name: string): string {
  let out = '"';
  for (const char of name) {
    const code = char.charCodeAt(0);
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (code >= 0x20 && code <= 0x7e && char.length === 1) out += char;
    else out += '_';
  }
  return `${out}"`;
}

/** Whole seconds, rounded up, never negative: `Retry-After` and the `t` parameter. */
export function wholeSeconds(ms: number): number {
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}

/** The longest window `quotaPolicy` tries when the interval is not whole seconds. */
const maxWindowSeconds = 60;

/**
 * `RateLimit-Policy` for `limit` units per `intervalMs`. The draft counts the window in whole
 * seconds, so an interval that is not one (10 per 500 ms) is stated as the same rate over the
 * shortest whole-second window that keeps the quota whole (20 per 1 s); when none within a
 * minute does, as the whole units that fit the interval rounded up to seconds.
 */
export function quotaPolicy(name: string, limit: number, intervalMs: number): string {
  let window = intervalMs / 1000;
  let quota = limit;
  if (!Number.isInteger(window)) {
    window = 0;
    for (let seconds = 1; seconds <= maxWindowSeconds && window === 0; seconds++) {
      const units = (limit * seconds * 1000) / intervalMs;
      if (Number.isInteger(units)) {
        window = seconds;
        quota = units;
      }
    }
    if (window === 0) {
      window = Math.ceil(intervalMs / 1000);
      quota = Math.floor((limit * window * 1000) / intervalMs);
    }
  }
  return `${sfString(name)};q=${quota};w=${window}`;
}

/** A rate limiter's two fields: its `RateLimit-Policy`, and its `RateLimit` at each decision. */
export class RateLimitFields {
  /** `RateLimit-Policy`, the same on every response. */
  readonly policy: string;
  /** The policy's name as an sf-string, made once: escaping it per response costs more than the rest. */
  readonly #name: string;

  constructor(name: string, limit: number, intervalMs: number) {
    this.#name = sfString(name);
    this.policy = quotaPolicy(name, limit, intervalMs);
  }

  /** `RateLimit`: `remaining` whole units now, the quota whole again in `resetAfterMs`. */
  current(remaining: number, resetAfterMs: number): string {
    const r = remaining > 0 ? Math.floor(remaining) : 0;
    return `${this.#name};r=${r};t=${wholeSeconds(resetAfterMs)}`;
  }
}
