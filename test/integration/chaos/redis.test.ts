import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChaosProxy, chaosProxy } from '../../../src/chaos/index.js';
import { Cleanup, rejection } from './helpers.js';

/** The proxy between ioredis and the Redis server on loopback. Only PING: no keys to clean. */
const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const cleanup = new Cleanup();
let proxy: ChaosProxy;
let redis: Redis;

beforeEach(async () => {
  proxy = cleanup.proxy(
    await chaosProxy({ name: 'redis', upstream: `${redisUrl.hostname}:${redisUrl.port || 6379}` }),
  );
  redis = new Redis({
    host: proxy.address.host,
    port: proxy.address.port,
    commandTimeout: 500,
    retryStrategy: () => 20,
    lazyConnect: true,
  });
  redis.on('error', () => {}); // resets are expected here; the tests watch 'close' and 'ready'
  cleanup.add(() => redis.disconnect());
  await redis.connect();
});

afterEach(() => cleanup.run());

async function timePing(): Promise<number> {
  const started = performance.now();
  expect(await redis.ping()).toBe('PONG');
  return performance.now() - started;
}

describe('chaos proxy in front of Redis (ioredis)', () => {
  it('latency slows a PING by the latency added', async () => {
    const base = Math.min(await timePing(), await timePing(), await timePing());
    proxy.addToxic({ type: 'latency', attributes: { latency: 200 } });
    expect((await timePing()) - base).toBeGreaterThanOrEqual(190);
  });

  it('reset_peer resets the connection; ioredis reconnects and the PING goes through', async () => {
    proxy.addToxic({ type: 'reset_peer' });
    const closed = new Promise((resolve) => redis.once('close', resolve));
    const ping = redis.ping();
    await closed;
    proxy.removeToxic('reset_peer_downstream');
    // ioredis sends the unanswered PING again on its new connection.
    expect(await ping).toBe('PONG');
    expect(redis.status).toBe('ready');
  });

  it('timeout swallows the reply: the command times out on the client', async () => {
    proxy.addToxic({ type: 'timeout', attributes: { timeout: 0 } });
    const error = await rejection<Error>(redis.ping());
    expect(error.message).toMatch(/timed out/i);
    // The swallowed reply left a gap, so removing the toxic closes the connection rather than
    // let ioredis read the next reply as that one; it reconnects and carries on.
    const closed = new Promise((resolve) => redis.once('close', resolve));
    proxy.removeToxic('timeout_downstream');
    await closed;
    expect(await redis.ping()).toBe('PONG');
  });
});
