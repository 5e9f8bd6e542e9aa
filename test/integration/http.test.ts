import { getEventListeners, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backoff,
  bulkhead,
  circuitBreaker,
  fallback,
  pipeline,
  retry,
  TimeoutError,
  timeout,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing/index.js';

/** A real HTTP service on loopback: /stall never answers, /flaky answers 503 until told not to. */
let server: Server;
let base: string;
let flakyFailures = 0;
const requests: string[] = [];
const closedWhileStalled: string[] = [];

function handle(request: IncomingMessage, response: ServerResponse): void {
  const path = request.url ?? '/';
  requests.push(path);
  if (path.startsWith('/stall')) {
    response.on('close', () => closedWhileStalled.push(path));
    return;
  }
  const status = flakyFailures > 0 ? 503 : 200;
  if (flakyFailures > 0) flakyFailures--;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ status }));
}

beforeAll(async () => {
  server = createServer(handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

/** Resolves once the server has received `count` requests in all. */
async function requestsReach(count: number): Promise<void> {
  while (requests.length < count) await once(server, 'request');
}

describe('over real HTTP', () => {
  it('a timeout aborts the fetch itself: the stalled server sees the connection close', async () => {
    const clock = new VirtualClock();
    const before = requests.length;
    const call = timeout(2_000, { clock }).execute(({ signal }) =>
      fetch(`${base}/stall/1`, { signal }),
    );
    const settled = call.catch((error: unknown) => error);
    await requestsReach(before + 1);
    await clock.advance(2_000);
    expect(await settled).toBeInstanceOf(TimeoutError);
    while (!closedWhileStalled.includes('/stall/1'))
      await new Promise((resolve) => setImmediate(resolve));
    expect(clock.pendingTimers).toBe(0);
  });

  it('retries 503 responses as results, without throwing, until the service recovers', async () => {
    const clock = new VirtualClock();
    flakyFailures = 2;
    const before = requests.length;
    const retries = retry<Response>({
      maxAttempts: 5,
      backoff: backoff.constant(100),
      retryOn: (outcome) => !outcome.ok || outcome.value.status === 503,
      clock,
    });
    let sleeping = 0;
    retries.on('retry', () => sleeping++);
    const policy = pipeline(
      retries,
      circuitBreaker({ consecutiveFailures: 5, clock }),
      timeout(1_000, { clock }),
    );
    const call = policy.execute(({ signal }) => fetch(`${base}/flaky`, { signal }));
    // The 503 travels back over a real socket: wait until the retry is asleep, then wake it.
    for (let retried = 1; retried <= 2; retried++) {
      while (sleeping < retried) await new Promise((resolve) => setImmediate(resolve));
      await clock.advance(100);
    }
    const response = await call;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 200 });
    expect(requests.length - before).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a caller abort ends the in-flight fetch and the queued call at once, without a retry or fallback', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const reason = new Error('client went away');
    const gate = bulkhead({ limit: 1, queue: 5, clock });
    const policy = pipeline(
      fallback({ value: () => 'fallback must not replace a caller abort' }),
      retry({ maxAttempts: 3, backoff: backoff.constant(5_000), clock }),
      gate,
      timeout(10_000, { clock }),
    );
    const before = requests.length;
    const inFlight = policy
      .execute(({ signal }) => fetch(`${base}/stall/2`, { signal }), { signal: controller.signal })
      .catch((error: unknown) => error);
    const queued = policy
      .execute(({ signal }) => fetch(`${base}/stall/3`, { signal }), { signal: controller.signal })
      .catch((error: unknown) => error);
    await requestsReach(before + 1);
    expect(gate.queued).toBe(1);

    controller.abort(reason);
    expect(await inFlight).toBe(reason);
    expect(await queued).toBe(reason);
    while (!closedWhileStalled.includes('/stall/2'))
      await new Promise((resolve) => setImmediate(resolve));
    expect(requests).not.toContain('/stall/3');
    expect(gate.running + gate.queued).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
