import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChaosProxy, chaosProxy } from '../../../src/chaos/index.js';
import {
  Cleanup,
  dial,
  get,
  pattern,
  rejection,
  startEchoService,
  startHttpService,
} from './helpers.js';

/**
 * Each toxic between a real node:http client and a real node:http server on loopback. Times
 * are measured on the client against a baseline through the same proxy with no toxic; only
 * lower bounds are tight, upper bounds are seconds.
 */
const cleanup = new Cleanup();
let proxy: ChaosProxy;

beforeEach(async () => {
  const upstream = await startHttpService(cleanup);
  proxy = cleanup.proxy(await chaosProxy({ name: 'web', upstream }));
});

afterEach(() => cleanup.run());

/** The fastest of three plain requests: what the path costs without toxics. */
async function baseline(path: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) times.push((await get(proxy, path)).ms);
  return Math.min(...times);
}

describe('chaos proxy toxics over HTTP', () => {
  it('forwards requests and answers untouched when there is no toxic', async () => {
    const reply = await get(proxy, '/bytes/100000');
    expect(reply.status).toBe(200);
    expect(reply.body.equals(pattern(100_000))).toBe(true);
  });

  it('latency delays the answer by its latency', async () => {
    const base = await baseline('/');
    proxy.addToxic({ type: 'latency', attributes: { latency: 200 } });
    const reply = await get(proxy, '/');
    expect(reply.body.toString()).toBe('ok');
    expect(reply.ms - base).toBeGreaterThanOrEqual(190);
    expect(reply.ms).toBeLessThan(5_000);
  });

  it('latency on both streams adds up; jitter moves it by up to ±jitter', async () => {
    await proxy.close();
    const upstream = proxy.upstream;
    // random() near 1 draws the longest delay, latency + jitter, on every chunk.
    proxy = cleanup.proxy(await chaosProxy({ upstream, random: () => 0.999 }));
    const base = await baseline('/');
    proxy.addToxic({ type: 'latency', stream: 'upstream', attributes: { latency: 100 } });
    proxy.addToxic({ type: 'latency', attributes: { latency: 50, jitter: 100 } });
    const reply = await get(proxy, '/');
    expect(reply.ms - base).toBeGreaterThanOrEqual(100 + 140);
  });

  it('bandwidth limits the rate: 30 KB at 100 KB/s take about 300 ms', async () => {
    const base = await baseline('/bytes/30000');
    proxy.addToxic({ type: 'bandwidth', attributes: { rate: 100 } });
    const reply = await get(proxy, '/bytes/30000');
    expect(reply.body.equals(pattern(30_000))).toBe(true);
    expect(reply.ms - base).toBeGreaterThanOrEqual(270);
    expect(reply.ms).toBeLessThan(5_000);
  });

  it('limit_data cuts the answer after that many bytes: the client sees a short body', async () => {
    proxy.addToxic({ type: 'limit_data', attributes: { bytes: 1000 } });
    const error = await rejection(get(proxy, '/bytes/10000'));
    // The first 1000 bytes include the status line and headers.
    expect(error.received).toBeGreaterThan(0);
    expect(error.received).toBeLessThan(1000);
  });

  it('limit_data passes exactly its bytes, then ends the stream', async () => {
    await proxy.close();
    proxy = cleanup.proxy(
      await chaosProxy({
        upstream: await startEchoService(cleanup),
        toxics: [{ type: 'limit_data', attributes: { bytes: 1000 } }],
      }),
    );
    const client = await dial(proxy, cleanup);
    client.socket.write(pattern(5000));
    await client.closed;
    expect(client.received.equals(pattern(1000))).toBe(true);
    expect(client.ended).toBe(true);
  });

  it('reset_peer resets the connection: the client sees ECONNRESET', async () => {
    proxy.addToxic({ type: 'reset_peer', attributes: { timeout: 0 } });
    const error = await rejection(get(proxy, '/'));
    expect(error.code).toBe('ECONNRESET');
  });

  it('reset_peer with a timeout drops the data and resets that much later', async () => {
    await proxy.close();
    proxy = cleanup.proxy(await chaosProxy({ upstream: await startEchoService(cleanup) }));
    proxy.addToxic({ type: 'reset_peer', attributes: { timeout: 300 } });
    const client = await dial(proxy, cleanup);
    const sent = performance.now();
    client.socket.write('never echoed');
    await client.closed;
    expect(client.error?.code).toBe('ECONNRESET');
    expect(client.received.length).toBe(0);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(290);
  });

  it('timeout 0 swallows the answer and holds the connection: the client times out', async () => {
    proxy.addToxic({ type: 'timeout', attributes: { timeout: 0 } });
    const error = await rejection(get(proxy, '/', { timeoutMs: 300, keepAlive: true }));
    expect(error.code).toBe('CLIENT_TIMEOUT');
    expect(error.received).toBe(0);
  });

  it('timeout N closes the connection after N ms, having passed nothing', async () => {
    proxy.addToxic({ type: 'timeout', attributes: { timeout: 200 } });
    const error = await rejection(get(proxy, '/', { keepAlive: true }));
    expect(error.code).toBe('ECONNRESET');
    expect(error.received).toBe(0);
    expect(error.ms).toBeGreaterThanOrEqual(190);
  });

  it('timeout lets the end of the stream through: a server that hangs up is not held', async () => {
    proxy.addToxic({ type: 'timeout', attributes: { timeout: 0 } });
    const error = await rejection(get(proxy, '/', { timeoutMs: 5_000 }));
    expect(error.code).toBe('ECONNRESET');
    expect(error.received).toBe(0);
  });

  it('slicer delivers the data in many small pieces, intact', async () => {
    const plain = await get(proxy, '/bytes/20000');
    proxy.addToxic({
      type: 'slicer',
      attributes: { average_size: 500, size_variation: 200, delay: 2000 },
    });
    const sliced = await get(proxy, '/bytes/20000');
    expect(sliced.body.equals(pattern(20_000))).toBe(true);
    expect(sliced.chunks).toBeGreaterThanOrEqual(10);
    expect(sliced.chunks).toBeGreaterThan(plain.chunks);
  });

  it('slow_close holds the end of the stream back by its delay', async () => {
    await proxy.close();
    proxy = cleanup.proxy(await chaosProxy({ upstream: await startEchoService(cleanup) }));
    proxy.addToxic({ type: 'slow_close', attributes: { delay: 300 } });
    const client = await dial(proxy, cleanup);
    client.socket.end('bye');
    await client.receive(3);
    const echoed = performance.now();
    await once(client.socket, 'end');
    expect(performance.now() - echoed).toBeGreaterThanOrEqual(290);
  });
});
