import { afterEach, describe, expect, it, vi } from 'vitest';
import { resilientFetch } from '../../../src/adapters/http/index.js';
import {
  BrokenCircuitError,
  backoff,
  circuitBreaker,
  hedge,
  pipeline,
  retry,
  timeout,
} from '../../../src/index.js';
import { VirtualClock } from '../../../src/testing/index.js';
import { answer, closedPort, type Handler, TestServer } from './client-server.js';

let server: TestServer;

afterEach(async () => {
  await server?.close();
});

/** Answers each request with the next handler of the list; the last one repeats. */
function inTurn(...handlers: Handler[]): Handler {
  let index = 0;
  return (request, response, seen) => {
    const handler = handlers[Math.min(index++, handlers.length - 1)]!;
    handler(request, response, seen);
  };
}

/** Destroys the socket without answering: the client sees a socket hang-up. */
const hangUp: Handler = (request) => request.socket.destroy();

function quickRetry(clock?: VirtualClock, maxAttempts = 3) {
  return retry({ maxAttempts, backoff: backoff.constant(0), ...(clock && { clock }) });
}

describe('resilientFetch: retries', () => {
  it('waits for a delta-seconds Retry-After before retrying a 503', async () => {
    server = await TestServer.start(inTurn(answer(503, { 'retry-after': '2' }), answer(200)));
    const clock = new VirtualClock();
    const client = resilientFetch({ policy: quickRetry(clock), clock });
    const call = client(server.url);
    await server.requestsReach(1);
    // The retry sleeps on the virtual clock: nothing is sent until it is advanced.
    await vi.waitFor(() => expect(clock.armedTimers).toBe(1));
    await clock.advance(1_999);
    expect(clock.armedTimers).toBe(1);
    expect(server.seen).toHaveLength(1);
    await clock.advance(1);
    await server.requestsReach(2);
    expect((await call).status).toBe(200);
  });

  it('waits until an HTTP-date Retry-After, measured on the clock', async () => {
    const retryAt = 'Mon, 30 Nov 2026 12:00:03 GMT';
    server = await TestServer.start(inTurn(answer(503, { 'retry-after': retryAt }), answer(200)));
    const clock = new VirtualClock(Date.parse('Mon, 30 Nov 2026 12:00:00 GMT'));
    const client = resilientFetch({ policy: quickRetry(clock), clock });
    const call = client(server.url);
    await vi.waitFor(() => expect(clock.armedTimers).toBe(1));
    await clock.advance(2_999);
    expect(server.seen).toHaveLength(1);
    await clock.advance(1);
    expect((await call).status).toBe(200);
    expect(server.seen).toHaveLength(2);
  });

  it('returns the last 503 when the attempts run out, its body intact', async () => {
    server = await TestServer.start(answer(503));
    const response = await resilientFetch({ policy: quickRetry() })(server.url);
    expect(response.status).toBe(503);
    expect(await response.text()).toBe('status 503');
    expect(server.seen).toHaveLength(3);
  });

  it('retries a network error and throws the last one', async () => {
    const url = await closedPort();
    const policy = quickRetry();
    let retries = 0;
    policy.on('retry', () => retries++);
    const error = await resilientFetch({ policy })(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(retries).toBe(2);
  });

  it('retries after the server hangs up on the request', async () => {
    server = await TestServer.start(inTurn(hangUp, answer(200)));
    const response = await resilientFetch({ policy: quickRetry() })(server.url);
    expect(response.status).toBe(200);
    expect(server.seen).toHaveLength(2);
  });

  it('returns a 404 without retrying, and without opening the breaker', async () => {
    server = await TestServer.start(answer(404));
    const breaker = circuitBreaker({ consecutiveFailures: 1 });
    const client = resilientFetch({ policy: pipeline(quickRetry(), breaker) });
    for (let i = 0; i < 3; i++) expect((await client(server.url)).status).toBe(404);
    expect(server.seen).toHaveLength(3);
    expect(breaker.state).toBe('closed');
  });

  it('opens the breaker on 5xx, which then refuses without a request', async () => {
    server = await TestServer.start(answer(502));
    const breaker = circuitBreaker({ consecutiveFailures: 2 });
    const client = resilientFetch({ policy: pipeline(quickRetry(undefined, 5), breaker) });
    await expect(client(server.url)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(server.seen).toHaveLength(2);
    expect(breaker.state).toBe('open');
    await expect(client(server.url)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(server.seen).toHaveLength(2);
  });

  it('sends a shrinking budget on each retry under an enclosing timeout', async () => {
    server = await TestServer.start(inTurn(answer(503), answer(503), answer(200)));
    const clock = new VirtualClock();
    const inner = retry({ maxAttempts: 3, backoff: backoff.constant(100), clock });
    inner.on('retry', () => void clock.advance(100));
    const client = resilientFetch({ policy: pipeline(timeout(1_000, { clock }), inner), clock });
    expect((await client(server.url)).status).toBe(200);
    expect(server.seen.map((s) => s.headers['x-request-timeout-ms'])).toEqual([
      '995',
      '895',
      '795',
    ]);
  });
});

describe('resilientFetch: requests that must not run twice', () => {
  it('does not retry a POST without an idempotency key', async () => {
    server = await TestServer.start(answer(503));
    const breaker = circuitBreaker({ consecutiveFailures: 1 });
    const client = resilientFetch({ policy: pipeline(quickRetry(), breaker) });
    const response = await client(server.url, { method: 'POST', body: 'charge' });
    expect(response.status).toBe(503);
    expect(server.seen).toHaveLength(1);
    // Still a failure to the breaker: the dependency is unwell.
    expect(breaker.state).toBe('open');
  });

  it('does not retry a POST whose connection broke after sending', async () => {
    server = await TestServer.start(inTurn(hangUp, answer(200)));
    const client = resilientFetch({ policy: quickRetry() });
    await expect(client(server.url, { method: 'POST', body: 'x' })).rejects.toThrow('fetch failed');
    expect(server.seen).toHaveLength(1);
  });

  it('retries a POST the server never received: connection refused', async () => {
    const url = await closedPort();
    const policy = quickRetry();
    let retries = 0;
    policy.on('retry', () => retries++);
    await expect(resilientFetch({ policy })(url, { method: 'POST' })).rejects.toThrow(TypeError);
    expect(retries).toBe(2);
  });

  it('retries a POST with an Idempotency-Key, or listed in retryMethods', async () => {
    server = await TestServer.start(answer(503));
    const keyed = resilientFetch({ policy: quickRetry() });
    await keyed(server.url, { method: 'POST', headers: { 'Idempotency-Key': 'k1' }, body: 'a' });
    expect(server.seen).toHaveLength(3);
    expect(server.seen.map((s) => s.body)).toEqual(['a', 'a', 'a']);
    const listed = resilientFetch({ policy: quickRetry(), retryMethods: ['POST', 'GET'] });
    await listed(server.url, { method: 'post', body: 'b' });
    expect(server.seen).toHaveLength(6);
    // A list replaces the default: PUT is no longer sent twice.
    await listed(server.url, { method: 'PUT', body: 'c' });
    expect(server.seen).toHaveLength(7);
  });

  it('sends a Request body again on each retry, cloned before the first', async () => {
    server = await TestServer.start(inTurn(answer(503), answer(200)));
    const client = resilientFetch({ policy: quickRetry() });
    const request = new Request(server.url, { method: 'PUT', body: 'document' });
    expect((await client(request)).status).toBe(200);
    expect(server.seen.map((s) => s.body)).toEqual(['document', 'document']);
  });

  it('sends a streamed body once only, whatever the method', async () => {
    server = await TestServer.start(answer(503));
    const client = resilientFetch({ policy: quickRetry() });
    const body = new Blob(['streamed']).stream();
    const response = await client(server.url, {
      method: 'PUT',
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(503);
    expect(server.seen.map((s) => s.body)).toEqual(['streamed']);
  });

  it('sends a slow POST once when a hedge starts by its delay: the hedge shares its outcome', async () => {
    let answerNow: (() => void) | undefined;
    server = await TestServer.start((request, response, seen) => {
      answerNow = () => answer(201)(request, response, seen);
    });
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 10, maxHedges: 2, clock });
    let hedges = 0;
    policy.on('hedge', () => hedges++);
    let sends = 0;
    const counted: typeof fetch = (input, init) => {
      sends++;
      return fetch(input, init);
    };
    const client = resilientFetch({ policy, clock, fetch: counted });
    const call = client(server.url, { method: 'POST', body: 'order' });
    await server.requestsReach(1);
    await clock.advance(20);
    expect(hedges).toBe(2);
    expect(sends).toBe(1);
    answerNow!();
    expect((await call).status).toBe(201);
    expect(server.seen).toHaveLength(1);
  });

  it('sends a POST once even under a retryOn that ignores the classification', async () => {
    server = await TestServer.start(answer(503));
    const policy = retry({ maxAttempts: 3, backoff: backoff.constant(0), retryOn: () => true });
    const response = await resilientFetch({ policy })(server.url, { method: 'POST' });
    expect(response.status).toBe(503);
    expect(await response.text()).toBe('status 503');
    expect(server.seen).toHaveLength(1);
  });

  it('does not hedge a POST, but hedges a keyed one', async () => {
    server = await TestServer.start(answer(503));
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 60_000, maxHedges: 1, clock });
    const client = resilientFetch({ policy, clock });
    expect((await client(server.url, { method: 'POST' })).status).toBe(503);
    expect(server.seen).toHaveLength(1);
    const keyed = { method: 'POST', headers: { 'idempotency-key': 'k2' } };
    expect((await client(server.url, keyed)).status).toBe(503);
    expect(server.seen).toHaveLength(3);
  });
});
