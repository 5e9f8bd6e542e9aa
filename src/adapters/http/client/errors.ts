import { ResilienceError } from '../../../core/errors.js';

/**
 * With `throwOnFailure`, the error a call rejects with when its final response classifies as
 * 'retryable' or 'failure' (a 503 after the last retry, a 501). The response is kept whole,
 * body included, for the caller to read.
 */
export class HttpError extends ResilienceError {
  /** The response's status, e.g. 503. */
  readonly status: number;
  readonly response: Response;
  /** The wait the response asked for (`Retry-After`, rate-limit reset), when it named one. */
  readonly retryAfterMs: number | undefined;

  constructor(response: Response, method: string) {
    const where = response.url === '' ? '' : ` ${response.url}`;
    const text = response.statusText === '' ? '' : ` ${response.statusText}`;
    super(`HTTP ${response.status}${text} for ${method}${where}`);
    this.status = response.status;
    this.response = response;
    const hint = (response as { retryAfterMs?: unknown }).retryAfterMs;
    this.retryAfterMs = typeof hint === 'number' ? hint : undefined;
  }
}

Object.defineProperties(HttpError.prototype, {
  name: { value: 'HttpError', writable: true, configurable: true },
  code: { value: 'HTTP_ERROR', writable: false, configurable: true },
});
