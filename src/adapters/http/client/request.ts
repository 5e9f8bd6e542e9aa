import { isRepeatableMethod, isReplayableBody } from './idempotency.js';

/** What fetch takes as its first argument. */
export type FetchInput = string | URL | Request;

/**
 * One call's request, read once from fetch's arguments: what every attempt sends, and whether
 * it may be sent more than once.
 */
export class PreparedRequest {
  /** Upper-cased, for matching against `retryMethods` and for messages. */
  readonly method: string;
  /** The caller's headers (from `init.headers`, else from a Request input). */
  readonly headers: Headers;
  /** The caller's signal: `init.signal`, else a Request input's own. */
  readonly signal: AbortSignal | undefined;
  /** Whether the request may go out twice: idempotent (or keyed) and its body replayable. */
  readonly repeatable: boolean;
  readonly #input: FetchInput;
  readonly #init: RequestInit | undefined;
  /** A Request input whose body stream each attempt reads from a clone of its own. */
  readonly #cloneEach: boolean;

  constructor(
    input: FetchInput,
    init: RequestInit | undefined,
    baseUrl: URL | undefined,
    retryMethods: ReadonlySet<string>,
  ) {
    this.#init = init;
    if (isRequest(input)) {
      this.#input = input;
      this.method = (init?.method ?? input.method).toUpperCase();
      this.headers = new Headers(init?.headers ?? input.headers);
      this.signal = init?.signal ?? input.signal;
      const ownBody = init?.body === undefined;
      const replayable = ownBody ? true : isReplayableBody(init.body);
      this.repeatable = replayable && isRepeatableMethod(this.method, this.headers, retryMethods);
      this.#cloneEach = ownBody && input.body !== null && this.repeatable;
    } else {
      this.#input =
        typeof input === 'string' && baseUrl !== undefined ? new URL(input, baseUrl) : input;
      this.method = (init?.method ?? 'GET').toUpperCase();
      this.headers = new Headers(init?.headers);
      this.signal = init?.signal ?? undefined;
      this.repeatable =
        isReplayableBody(init?.body) && isRepeatableMethod(this.method, this.headers, retryMethods);
      this.#cloneEach = false;
    }
  }

  /** Sends one attempt through `fetch`, with `headers` and `signal` in place of the caller's. */
  send(fetch: typeof globalThis.fetch, headers: Headers, signal: AbortSignal): Promise<Response> {
    const input = this.#cloneEach ? (this.#input as Request).clone() : this.#input;
    return fetch(input, { ...this.#init, headers, signal });
  }
}

/** A Request, from this realm's fetch or from another (an `undici` package of its own). */
function isRequest(input: FetchInput): input is Request {
  if (input instanceof Request) return true;
  if (typeof input !== 'object' || input === null || input instanceof URL) return false;
  const candidate = input as Partial<Request>;
  return (
    typeof candidate.url === 'string' &&
    typeof candidate.method === 'string' &&
    typeof candidate.clone === 'function'
  );
}
