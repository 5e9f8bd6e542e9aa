/**
 * Recognises the errors of a request that never got an answer: connection refused or reset,
 * socket hang-up, DNS failure, undici's timeouts. Node's fetch throws `TypeError('fetch
 * failed')` with the real error in `cause`, sometimes nested further, or an AggregateError of
 * one error per address tried; other clients throw the system error itself. The codes are read
 * along that whole chain.
 */

/** Errors raised before the request left: the server cannot have seen it. */
const unsentCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Errors on a connection that may have carried the request. */
const maybeSentCodes = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/**
 * undici codes that report a mistake in the request or the client's set-up, or an answer that
 * would come out the same on every try; its other `UND_ERR_*` codes (socket closed, headers and
 * body timeouts, a truncated body) are transient.
 */
const permanentUndiciCodes = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_INVALID_RETURN_VALUE',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_ABORTED',
  'UND_ERR_INFO',
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_DESTROYED',
  'UND_ERR_CLOSED',
  'UND_ERR_BPL_MISSING_UPSTREAM',
  'UND_ERR_PRX_TLS',
  'UND_ERR_RESPONSE_STATUS_CODE',
  'UND_ERR_REQ_RETRY',
]);

/** How far down `cause` chains and AggregateErrors the codes are looked for. */
const MAX_DEPTH = 6;

/**
 * 'unsent' for a network error that proves the request never reached the server, 'maybe-sent'
 * for any other transient network error, undefined for an error that is not one (or that a
 * retry would meet again: a bad certificate, an invalid header).
 */
export function networkErrorKind(error: unknown): 'unsent' | 'maybe-sent' | undefined {
  const codes: string[] = [];
  collectCodes(error, 0, codes);
  if (codes.length === 0) {
    // Node's fetch wraps every failure of the exchange itself in this one TypeError.
    const fetchFailed = error instanceof TypeError && error.message === 'fetch failed';
    return fetchFailed ? 'maybe-sent' : undefined;
  }
  let unsent = false;
  for (const code of codes) {
    if (code.startsWith('UND_ERR_') && !unsentCodes.has(code)) {
      if (permanentUndiciCodes.has(code)) return undefined;
      return 'maybe-sent';
    }
    if (maybeSentCodes.has(code)) return 'maybe-sent';
    if (unsentCodes.has(code)) unsent = true;
  }
  return unsent ? 'unsent' : undefined;
}

function collectCodes(error: unknown, depth: number, codes: string[]): void {
  if (depth > MAX_DEPTH || typeof error !== 'object' || error === null) return;
  const { code, errors, cause } = error as { code?: unknown; errors?: unknown; cause?: unknown };
  if (typeof code === 'string') codes.push(code);
  if (Array.isArray(errors)) for (const inner of errors) collectCodes(inner, depth + 1, codes);
  collectCodes(cause, depth + 1, codes);
}
