import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, resilientFetch } from '../../../src/adapters/http/index.js';
import { fallback, timeout } from '../../../src/index.js';
import { answer, closedPort, type Handler, stall, TestServer } from './client-server.js';

let server: TestServer;

afterEach(async () => {
  await server?.close();
});

const passThrough = timeout(60_000);

/** A 503 whose body streams on and never ends, like a large error page on a slow link. */
const endless503: Handler = (_request, response) => {
  response.writeHead(503, { 'content-type': 'text/plain' });
  response.write('x'.repeat(1024));
};

describe('resilientFetch: requests and responses', () => {
  it('resolves a relative input against baseUrl', async () => {
    server = await TestServer.start(answer(200));
    const client = resilientFetch({ policy: passThrough, baseUrl: `${server.url}/api/` });
    const response = await client('users/7?full=1');
    expect(await response.text()).toBe('status 200');
    expect(server.seen[0]!.path).toBe('/api/users/7?full=1');
  });

  it('sends a Request input with its method, headers and body', async () => {
    server = await TestServer.start(answer(201));
    const client = resilientFetch({ policy: passThrough });
    const request = new Request(`${server.url}/items`, {
      method: 'PUT',
      headers: { 'x-trace': 'abc' },
      body: 'payload',
    });
    const response = await client(request);
    expect(response.status).toBe(201);
    expect(server.seen[0]).toMatchObject({
      method: 'PUT',
      path: '/items',
      body: 'payload',
      headers: { 'x-trace': 'abc' },
    });
  });

  it('returns a 4xx as a response, never thrown, even with throwOnFailure', async () => {
    server = await TestServer.start(answer(404));
    const client = resilientFetch({ policy: passThrough, throwOnFailure: true });
    const response = await client(server.url);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('status 404');
  });

  it('returns a final 503 as a response by default', async () => {
    server = await TestServer.start(answer(503));
    const response = await resilientFetch({ policy: passThrough })(server.url);
    expect(response.status).toBe(503);
    expect(await response.text()).toBe('status 503');
  });

  it('throws an HttpError for a failing final response with throwOnFailure', async () => {
    server = await TestServer.start(answer(503, { 'retry-after': '4' }));
    const client = resilientFetch({ policy: passThrough, throwOnFailure: true });
    const error = await client(`${server.url}/x`, { method: 'DELETE' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    const http = error as HttpError;
    expect(http).toMatchObject({ name: 'HttpError', code: 'HTTP_ERROR', status: 503 });
    expect(http.retryAfterMs).toBe(4_000);
    expect(http.message).toBe(`HTTP 503 Service Unavailable for DELETE ${server.url}/x`);
    expect(await http.response.text()).toBe('status 503');
  });

  it('throws a 501 too with throwOnFailure, and uses the classify option', async () => {
    server = await TestServer.start(answer(501));
    const strict = resilientFetch({ policy: passThrough, throwOnFailure: true });
    await expect(strict(server.url)).rejects.toMatchObject({ status: 501 });
    const lenient = resilientFetch({
      policy: passThrough,
      throwOnFailure: true,
      classify: (target) =>
        target instanceof Response && target.status === 501 ? 'success' : undefined,
    });
    expect((await lenient(server.url)).status).toBe(501);
  });

  it('throws network errors as fetch does', async () => {
    const url = await closedPort();
    const client = resilientFetch({ policy: passThrough });
    const error = await client(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(JSON.stringify((error as Error).cause)).toMatch(/ECONNREFUSED/);
  });

  it("stops promptly at the caller's abort, closing the connection", async () => {
    server = await TestServer.start(stall);
    const client = resilientFetch({ policy: passThrough });
    const controller = new AbortController();
    const call = client(server.url, { signal: controller.signal });
    await server.requestsReach(1);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    await server.abandonedReach(1);
  });

  it('never sends a call whose signal is already aborted', async () => {
    server = await TestServer.start(answer(200));
    const client = resilientFetch({ policy: passThrough });
    const reason = new Error('too late');
    await expect(client(server.url, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await client(`${server.url}/after`);
    expect(server.seen.map((s) => s.path)).toEqual(['/after']);
  });

  it('rejects with the error of a classify that throws, and releases the body', async () => {
    server = await TestServer.start(endless503);
    const bug = new Error('classify bug');
    const client = resilientFetch({
      policy: passThrough,
      classify: () => {
        throw bug;
      },
    });
    await expect(client(server.url)).rejects.toBe(bug);
    await server.abandonedReach(1);
  });

  it('releases a response a fallback replaced, and returns the substitute', async () => {
    server = await TestServer.start(endless503);
    const policy = fallback({
      value: () => new Response('cached'),
      handle: (outcome) => outcome.ok && (outcome.value as Response).status === 503,
    });
    const client = resilientFetch({ policy });
    const response = await client(server.url);
    expect(await response.text()).toBe('cached');
    // The streaming 503 was cancelled: the server sees its response abandoned mid-body.
    await server.abandonedReach(1);
  });
});
