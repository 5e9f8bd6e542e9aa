import { afterEach, describe, expect, it, vi } from 'vitest';
import { resilientFetch } from '../../../src/adapters/http/index.js';
import { backoff, hedge, retry } from '../../../src/index.js';
import { VirtualClock } from '../../../src/testing/index.js';
import { answer, type Handler, TestServer } from './client-server.js';

let server: TestServer;

afterEach(async () => {
  await server?.close();
});

/** 1,000 retried 503s in all: this many calls at once, of this many attempts each. */
const CALLS = 10;
const ATTEMPTS = 100;

/** A 503 whose body streams on and never ends: only a cancel frees its connection. */
const endless503: Handler = (_request, response) => {
  response.writeHead(503, { 'content-type': 'text/plain' });
  response.write('x'.repeat(1024));
};

/** Runs CALLS calls of `attempts` attempts each, all at once. */
function retriedCalls(url: string, attempts = ATTEMPTS): Promise<Response[]> {
  const client = resilientFetch({
    policy: retry({ maxAttempts: attempts, backoff: backoff.constant(0) }),
  });
  return Promise.all(Array.from({ length: CALLS }, () => client(url)));
}

describe('resilientFetch: bodies of responses it does not return', () => {
  it('cancels 1,000 retried streaming 503s: no connection is left open', async () => {
    server = await TestServer.start(endless503);
    const responses = await retriedCalls(server.url);
    expect(server.seen).toHaveLength(CALLS * ATTEMPTS);
    // Only the responses returned still hold their connections, until their readers let go.
    await vi.waitFor(async () => expect(await server.openConnections()).toBe(CALLS), {
      timeout: 5_000,
    });
    await Promise.all(responses.map((response) => response.body?.cancel()));
    await vi.waitFor(async () => expect(await server.openConnections()).toBe(0), {
      timeout: 5_000,
    });
  });

  it('reads retried 100 KB 503s to the end: kept-alive connections serve them all', async () => {
    // Larger than what undici reads ahead by itself (about 64 KiB): left unread, each of these
    // bodies would hold its connection, and every retry would open a new one.
    const page = 'e'.repeat(100_000);
    server = await TestServer.start((_request, response) => {
      response.writeHead(503, { 'content-length': String(page.length) });
      response.end(page);
    });
    const responses = await retriedCalls(server.url, 20);
    expect(server.seen).toHaveLength(CALLS * 20);
    expect(server.connectionsAccepted).toBeLessThanOrEqual(2 * CALLS);
    // The bodies were buffered, not lost: the callers read them whole.
    for (const response of responses) expect(await response.text()).toBe(page);
  });

  it('cancels a retried 503 when the next attempt starts, before the call ends', async () => {
    let calls = 0;
    server = await TestServer.start((request, response, seen) => {
      if (calls++ === 0) endless503(request, response, seen);
    });
    const clock = new VirtualClock();
    const policy = retry({ maxAttempts: 2, backoff: backoff.constant(1_000), clock });
    const controller = new AbortController();
    const call = resilientFetch({ policy, clock })(server.url, { signal: controller.signal });
    await vi.waitFor(() => expect(clock.armedTimers).toBe(1));
    expect(server.abandoned).toBe(0);
    await clock.advance(1_000);
    // The second attempt hangs, so the call is still running when the first body goes.
    await server.requestsReach(2);
    await vi.waitFor(() => expect(server.abandoned).toBe(1), { timeout: 2_000 });
    controller.abort();
    await expect(call).rejects.toThrow();
  });

  it('cancels a 503 that a hedge set aside for another attempt', async () => {
    let calls = 0;
    server = await TestServer.start((request, response, seen) => {
      if (calls++ === 0) endless503(request, response, seen);
      else answer(200)(request, response, seen);
    });
    const clock = new VirtualClock();
    // A retryable outcome starts the hedge at once; the delay itself never runs out here.
    const client = resilientFetch({ policy: hedge({ delayMs: 60_000, clock }), clock });
    const response = await client(server.url);
    expect(response.status).toBe(200);
    expect(server.seen).toHaveLength(2);
    // Released at once; left alone, it would linger until garbage collection closes it.
    await vi.waitFor(() => expect(server.abandoned).toBe(1), { timeout: 2_000 });
  });
});
