/**
 * How long a response asks the client to wait before trying again, in milliseconds, from the
 * headers servers use for it. `now` is the current time on the Unix epoch scale (the clock's
 * `now()`), against which an HTTP-date or an epoch timestamp is measured.
 *
 * In order of precedence:
 * - `Retry-After`: delta-seconds or an HTTP-date (RFC 9110 section 10.2.3); always honoured.
 * - `RateLimit` (IETF draft-ietf-httpapi-ratelimit-headers, structured form
 *   `"name";r=0;t=30`): the largest `t` among the policies whose remaining quota `r` is 0.
 * - `RateLimit-Reset`, then `X-RateLimit-Reset`: delta-seconds (a value that can only be a Unix
 *   timestamp in seconds, as some APIs send, is read as one). Honoured on a 429, or when the
 *   matching `...-Remaining` header says 0: servers send these on every response, and a reset
 *   an hour away must not delay the retry of a 503 that has quota left.
 *
 * Undefined when none applies or every value is malformed.
 */
export function retryAfterMs(response: Response, now: number): number | undefined {
  const headers = response.headers;
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null) {
    const ms = parseRetryAfter(retryAfter, now);
    if (ms !== undefined) return ms;
  }
  const structured = headers.get('ratelimit');
  if (structured !== null) {
    const ms = parseRateLimitStructured(structured);
    if (ms !== undefined) return ms;
  }
  const limited = response.status === 429;
  for (const prefix of ['ratelimit', 'x-ratelimit']) {
    const reset = headers.get(`${prefix}-reset`);
    if (reset === null) continue;
    if (!limited && headers.get(`${prefix}-remaining`)?.trim() !== '0') continue;
    const ms = parseResetSeconds(reset, now);
    if (ms !== undefined) return ms;
  }
  return undefined;
}

const DELTA_SECONDS = /^\d+$/;

/** `Retry-After`: delta-seconds, or an HTTP-date (a date in the past means "now": 0). */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const text = value.trim();
  if (DELTA_SECONDS.test(text)) return Number(text) * 1000;
  // An HTTP-date always names its weekday and zone; Date.parse alone accepts far looser text.
  if (!/^[A-Za-z]{3},\s/.test(text) || !/GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Values above this many seconds (about 31 years) can only be Unix timestamps. */
const EPOCH_SECONDS_FLOOR = 1e9;

function parseResetSeconds(value: string, now: number): number | undefined {
  const text = value.trim();
  if (!DELTA_SECONDS.test(text)) return undefined;
  const seconds = Number(text);
  return seconds >= EPOCH_SECONDS_FLOOR ? Math.max(0, seconds * 1000 - now) : seconds * 1000;
}

/**
 * The structured `RateLimit` field: a list of `"policy";r=<remaining>;t=<seconds>` items. Only
 * exhausted policies (r=0) ask for a wait; the longest of them is the one that matters.
 */
function parseRateLimitStructured(value: string): number | undefined {
  let longest: number | undefined;
  for (const item of value.split(',')) {
    let remaining: string | undefined;
    let reset: string | undefined;
    for (const parameter of item.split(';').slice(1)) {
      const eq = parameter.indexOf('=');
      if (eq < 0) continue;
      const name = parameter.slice(0, eq).trim();
      const raw = parameter.slice(eq + 1).trim();
      if (name === 'r') remaining = raw;
      else if (name === 't') reset = raw;
    }
    if (remaining !== '0' || reset === undefined || !DELTA_SECONDS.test(reset)) continue;
    const ms = Number(reset) * 1000;
    if (longest === undefined || ms > longest) longest = ms;
  }
  return longest;
}

/**
 * Records the wait a response asks for as its `retryAfterMs`, the delay hint retry reads from
 * a result: a non-enumerable, read-only own property, so the Response otherwise looks untouched.
 */
export function attachRetryAfter(response: Response, now: number): void {
  const ms = retryAfterMs(response, now);
  if (ms === undefined) return;
  Object.defineProperty(response, 'retryAfterMs', {
    value: ms,
    enumerable: false,
    writable: false,
    configurable: true,
  });
}
