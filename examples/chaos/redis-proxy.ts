/**
 * The chaos proxy in front of Redis: an ioredis client talks to Redis through `chaosProxy`,
 * and every command goes through a retry + timeout pipeline. Toxics, added and removed while
 * the client runs, show what the pipeline does about a slow network and a dropped connection:
 * - latency under the per-attempt timeout: the command is slower, nothing fails;
 * - latency over it: each attempt times out and the caller gets a TimeoutError on time;
 * - a connection reset: the attempt fails, ioredis reconnects, the retry gets the answer.
 *
 * Needs Redis on 127.0.0.1:6379 (or REDIS_URL). Uses one key, removed at the end.
 * Run: npx tsx examples/chaos/redis-proxy.ts
 */
import { backoff, pipeline, retry, timeout } from 'bulwark';
import { chaosProxy } from 'bulwark/chaos';
import { Redis } from 'ioredis';

const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const key = 'bulwark:example:chaos-proxy:greeting';

const proxy = await chaosProxy({
  name: 'redis',
  upstream: `${redisUrl.hostname}:${redisUrl.port || 6379}`,
});
console.log(`proxy "${proxy.name}" in front of Redis; control API at ${proxy.controlUrl}`);

// ioredis reconnects on its own, but here it fails the commands a dropped connection had in
// flight instead of sending them again: the pipeline decides what is retried, and how long an
// attempt may take.
const redis = new Redis({
  host: proxy.address.host,
  port: proxy.address.port,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  retryStrategy: () => 50,
});
redis.on('error', () => {}); // the reset below is on purpose; 'close' reports it
const onClose = () => console.log('   [ioredis] connection closed; reconnecting');
redis.on('close', onClose);

const attempts = retry({ maxAttempts: 3, backoff: backoff.constant(100) });
attempts.on('retry', ({ attempt, outcome }) => {
  const reason = outcome.ok ? 'a result' : (outcome.error as Error).name;
  console.log(`   attempt ${attempt} failed (${reason}); retrying`);
});
// ioredis takes no AbortSignal, so the timeout releases the caller without waiting for it.
const policy = pipeline(attempts, timeout(500, { strategy: 'aggressive' }));

async function read(step: string): Promise<void> {
  const started = performance.now();
  let attempt = 0;
  try {
    const value = await policy.execute((context) => {
      attempt = context.attempt;
      return redis.get(key);
    });
    const pace = performance.now() - started >= 150 ? ', slower than 150 ms' : '';
    console.log(`${step}: GET -> ${value} after ${attempt} attempt(s)${pace}`);
  } catch (error) {
    console.log(`${step}: GET failed with ${(error as Error).name}: ${(error as Error).message}`);
  }
}

await redis.set(key, 'hello');
await read('1. no toxics');

proxy.addToxic({ name: 'slow', type: 'latency', attributes: { latency: 150 } });
await read('2. latency 150 ms, under the 500 ms timeout');

proxy.updateToxic('slow', { attributes: { latency: 1_000 } });
await read('3. latency 1000 ms, over the timeout');
proxy.removeToxic('slow');
// The replies the timed-out attempts left behind arrive now; Redis answers in order, so once
// a PING is answered none is still on its way.
await redis.ping();

// A network blip: the next reply is dropped and the connection reset. The operator's script
// removes the toxic as soon as the reset has happened, so the reconnection is clean.
proxy.addToxic({ name: 'blip', type: 'reset_peer' });
redis.once('close', () => proxy.removeToxic('blip'));
await read('4. connection reset');

await redis.del(key);
redis.off('close', onClose);
await redis.quit();
await proxy.close();
console.log('done: proxy closed');
