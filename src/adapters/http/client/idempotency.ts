/**
 * Methods that may be sent twice by default: the idempotent methods of RFC 9110 section 9.2.2.
 * POST and PATCH are not: a second copy can charge a card twice.
 */
export const idempotentMethods: readonly string[] = [
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'TRACE',
];

/** Whether a request may be sent again: its method is listed, or it carries an idempotency key. */
export function isRepeatableMethod(
  method: string,
  headers: Headers,
  retryMethods: ReadonlySet<string>,
): boolean {
  return retryMethods.has(method) || headers.has('idempotency-key');
}

/**
 * Whether a request body can be sent again as it is: absent, or a value fetch re-reads for
 * every request. A stream or async iterable is consumed by the first send.
 */
export function isReplayableBody(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof URLSearchParams ||
    body instanceof FormData
  );
}
