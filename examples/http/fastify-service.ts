/**
 * A fastify 5 service with bulwark's `fastifyPlugin`: a per-tenant rate limiter, a load shedder,
 * health endpoints and graceful shutdown, all registered in one line, for every route.
 * 1. acme sends 12 quick requests at once: 10 are served, 2 get 429 with `Retry-After` and
 *    the IETF `RateLimit-Policy` / `RateLimit` headers.
 * 2. globex sends 6 slow reports at once: the shedder runs 2, queues 2 and refuses 2 with 503
 *    and `Retry-After`; the 4 admitted ones are all served.
 * 3. `/readyz` passes, fails (503) while the critical database check fails, and passes again
 *    once it is back; `/livez` is not affected.
 * 4. A graceful shutdown with one report in flight: readiness fails at once, a new connection
 *    is refused, a request already on an open connection gets 503 with `Connection: close`, and
 *    the report in flight completes before the shutdown ends. With `exit: false`, `done`
 *    resolves with the exit code instead of calling process.exit; `signals: []` leaves this
 *    process's signals alone.
 *
 * Run: npx tsx examples/http/fastify-service.ts
 */
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { gracefulShutdown, healthRegistry, loadShedder, rateLimiter } from 'bulwark';
import { fastifyPlugin } from 'bulwark/http';
import Fastify from 'fastify';

let databaseUp = true;
const health = healthRegistry({ name: 'reports' });
health.register('database', () => databaseUp || { status: 'fail', output: 'connection refused' });

const shedder = loadShedder({ name: 'api', limit: 2, queue: 2, codel: false });
const shutdown = gracefulShutdown({ health, exit: false, signals: [] });

const app = Fastify();
await app.register(
  fastifyPlugin({
    shedder,
    rateLimiter: rateLimiter({ name: 'api', limit: 10, intervalMs: 60_000 }),
    keyOf: (req) => String(req.headers['x-tenant'] ?? 'anonymous'),
    health,
    shutdown,
  }),
);

/** A promise to resolve from outside. */
function cue() {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

// Every /report is slow: it works until `held` is resolved, which the steps below do on cue.
let held = cue();
let entered = cue();
app.get('/quote', async () => 'price 42');
app.get('/report', async () => {
  entered.resolve();
  await held.promise;
  return 'report ready';
});
shutdown.onShutdown('fastify', () => app.close());

await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as { port: number };
const base = `http://127.0.0.1:${port}`;

function get(path: string, tenant: string): Promise<Response> {
  return fetch(`${base}${path}`, { headers: { 'x-tenant': tenant } });
}

console.log('1. acme sends 12 quick requests at once (limit: 10 a minute)');
const quotes = await Promise.all(
  Array.from({ length: 12 }, async () => {
    const response = await get('/quote', 'acme');
    await response.text();
    return response;
  }),
);
const statuses = quotes.map((response) => response.status);
const limited = quotes.find((response) => response.status === 429);
const count = (status: number) => statuses.filter((s) => s === status).length;
console.log(`   ${count(200)} served, ${count(429)} refused with 429`);
for (const name of ['retry-after', 'ratelimit-policy', 'ratelimit']) {
  console.log(`   one 429: ${name}: ${limited?.headers.get(name)}`);
}

console.log('2. globex sends 6 slow reports at once (the shedder: 2 running, 2 queued)');
let shed = 0;
const twoShed = cue();
const unsubscribe = shedder.on('shed', () => {
  if (++shed === 2) twoShed.resolve();
});
const reports = Array.from({ length: 6 }, () =>
  get('/report', 'globex').then(async (response) => ({
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.text()).trim(),
  })),
);
await twoShed.promise;
unsubscribe();
console.log(`   while they work: ${shedder.running} running, ${shedder.queued} queued`);
held.resolve();
const answers = await Promise.all(reports);
const served = answers.filter((a) => a.status === 200).length;
const refused = answers.filter((a) => a.status === 503);
console.log(`   ${served} served, ${refused.length} refused with 503`);
console.log(`   one 503: retry-after: ${refused[0]?.retryAfter}, body: "${refused[0]?.body}"`);

console.log('3. readiness and liveness while the database check fails, and once it is back');
async function probe(path: string): Promise<void> {
  const response = await fetch(`${base}${path}`);
  const report = (await response.json()) as { status: string };
  console.log(`   GET ${path} -> ${response.status} ${report.status}`);
}
await probe('/readyz');
databaseUp = false;
await probe('/readyz');
await probe('/livez');
databaseUp = true;
await probe('/readyz');

console.log('4. a graceful shutdown with one report in flight');
held = cue();
entered = cue();
const inFlight = get('/report', 'initech').then(async (response) => {
  const body = await response.text();
  return `${response.status} ${body} (connection: ${response.headers.get('connection')})`;
});
await entered.promise;
const onItsWay = await halfSentRequest('/quote');
const done = shutdown.begin('deploy');
const readiness = await health.run({ kind: 'readiness' });
console.log(
  `   shutdown began: state ${shutdown.state}, readiness ${readiness.status} (${readiness.output})`,
);
console.log(`   a new connection: ${await newConnection('/quote')}`);
console.log(`   a request on a connection already open: ${await onItsWay.finish()}`);
held.resolve();
console.log(`   the report in flight: ${await inFlight}`);
console.log(`   shutdown done: exit code ${await done}, state ${shutdown.state}`);

/** A GET on a fresh connection: its status, or the error that refused it. */
function newConnection(path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(`${res.statusCode}`));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(`refused (${error.code})`));
    req.end();
  });
}

/**
 * A request whose head is half sent now (its connection counts as busy, so it stays open when
 * the server closes its idle ones) and finished by `finish()`, which returns its status line
 * and the headers that matter here.
 */
async function halfSentRequest(path: string): Promise<{ finish(): Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-tenant: hooli\r\n`);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  const closed = once(socket, 'close');
  return {
    async finish() {
      socket.write('\r\n');
      await closed;
      const [status = '', ...headers] = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
      const wanted = headers.filter((h) => /^(retry-after|connection):/i.test(h));
      return `${status.replace('HTTP/1.1 ', '')} (${wanted.join(', ').toLowerCase()})`;
    },
  };
}
