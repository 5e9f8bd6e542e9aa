import { describe, expect, it } from 'vitest';
import { bufferSmallBody, CallResponses, releaseBody } from './bodies.js';

/** A response whose body stream records whether it was cancelled. */
function tracked(status = 503, headers: Record<string, string> = {}) {
  const state = { cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    cancel() {
      state.cancelled = true;
    },
  });
  return { response: new Response(body, { status, headers }), state };
}

describe('CallResponses', () => {
  it('releases what it holds when the next attempt starts', () => {
    const responses = new CallResponses();
    const first = tracked();
    responses.add(first.response);
    responses.discardHeld();
    expect(first.state.cancelled).toBe(true);
  });

  it('keeps the response the call returns and releases the others', () => {
    const responses = new CallResponses();
    const kept = tracked(200);
    const other = tracked();
    responses.add(other.response);
    responses.add(kept.response);
    responses.settle(kept.response);
    expect(kept.state.cancelled).toBe(false);
    expect(other.state.cancelled).toBe(true);
  });

  it('releases a response that arrives after the call settled', () => {
    const responses = new CallResponses();
    responses.settle(undefined);
    const late = tracked();
    responses.add(late.response);
    expect(late.state.cancelled).toBe(true);
  });
});

describe('releaseBody', () => {
  it('leaves a body alone that was read or is being read', async () => {
    const read = new Response('done');
    await read.text();
    expect(() => releaseBody(read)).not.toThrow();
    const reading = tracked();
    reading.response.body!.getReader();
    releaseBody(reading.response);
    expect(reading.state.cancelled).toBe(false);
  });
});

describe('bufferSmallBody', () => {
  it('reads a small body of known length, and the response still holds it', async () => {
    const response = new Response('service unavailable', {
      status: 503,
      headers: { 'content-length': '19' },
    });
    await bufferSmallBody(response);
    expect(response.bodyUsed).toBe(false);
    expect(await response.text()).toBe('service unavailable');
  });

  it('leaves a body of unknown or large length to stream', async () => {
    const sizes: Record<string, string>[] = [{}, { 'content-length': String(1024 * 1024) }];
    for (const headers of sizes) {
      // These streams never end: reading one would never return.
      const { response, state } = tracked(503, headers);
      await bufferSmallBody(response);
      expect(state.cancelled).toBe(false);
      expect(response.body!.locked).toBe(false);
    }
  });
});
