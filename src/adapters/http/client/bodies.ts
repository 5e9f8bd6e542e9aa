/** The largest error body read into memory as soon as it arrives, in bytes. */
export const BUFFERED_BODY_LIMIT = 256 * 1024;

/**
 * Reads a small body to its end now, through a clone, when its length is known and at most
 * {@link BUFFERED_BODY_LIMIT}: the connection is free at once (undici puts it back in its
 * keep-alive pool), and the response itself still holds every byte for whoever reads it. A read
 * that fails leaves the same failure for that reader.
 */
export async function bufferSmallBody(response: Response): Promise<void> {
  if (response.body === null || response.bodyUsed) return;
  const length = response.headers.get('content-length');
  if (length === null || !(Number(length) <= BUFFERED_BODY_LIMIT)) return;
  try {
    await response.clone().arrayBuffer();
  } catch {}
}

/** Cancels a response's body, unless it was read or has none, so its connection is released. */
export function releaseBody(response: Response): void {
  const body = response.body;
  if (body === null || response.bodyUsed || body.locked) return;
  body.cancel().catch(ignore);
}

/**
 * The responses one call has received and not yet handed over. Every one the call will not
 * return is released: when the next attempt starts (a retry or a hedge discards what came
 * before), and when the call settles, all but the one returned. A response that arrives after
 * that (a hedge that lost the race) is released on arrival.
 */
export class CallResponses {
  #held: Response[] | undefined;
  #settled = false;

  /** A new attempt starts: nothing received so far will be returned. */
  discardHeld(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    for (const response of held) releaseBody(response);
  }

  add(response: Response): void {
    if (this.#settled) releaseBody(response);
    else if (this.#held === undefined) this.#held = [response];
    else this.#held.push(response);
  }

  /** The call settled with `kept` (a response, a substitute, or nothing when it rejected). */
  settle(kept: unknown): void {
    this.#settled = true;
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    for (const response of held) if (response !== kept) releaseBody(response);
  }
}

function ignore(): void {}
