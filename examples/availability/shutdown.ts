/**
 * Graceful shutdown: a real HTTP server taken down without losing the request it is serving.
 * 1. A slow request (1.8 s) is in flight when the process gets SIGTERM.
 * 2. Readiness fails at once, but for `readinessDelayMs` the server keeps serving (the load
 *    balancer has not caught up yet), with `Connection: close` on every answer.
 * 3. Then it stops accepting: a new connection is refused, and the guard refuses new jobs.
 * 4. The slow request still finishes in full; then the hooks run, last registered first.
 * `exit: false` makes `done` resolve with the exit code instead of calling process.exit.
 *
 * Run: npx tsx examples/availability/shutdown.ts
 */
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gracefulShutdown, ShuttingDownError } from 'bulwark';

const shutdown = gracefulShutdown({
  exit: false,
  readinessDelayMs: 400,
  drainTimeoutMs: 5000,
  health: { markNotReady: (reason) => console.log(`readiness: failing (${reason})`) },
});
shutdown.on('stateChange', ({ from, to, reason, exitCode }) => {
  const code = exitCode === undefined ? '' : `, exit code ${exitCode}`;
  console.log(`state: ${from} -> ${to} (${reason}${code})`);
});

// /slow answers after 1.8 s; anything else at once.
const server = createServer((req, res) => {
  const ms = req.url === '/slow' ? 1800 : 0;
  setTimeout(() => res.end(`answered ${req.url}`), ms);
});
shutdown.server(server);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as AddressInfo).port;

shutdown.onShutdown('database', () => console.log('hook: close the database pool'));
shutdown.onShutdown('metrics', () => console.log('hook: flush metrics'));

/** One GET on a fresh connection: the status and body, or the error code. */
function get(path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(`${res.statusCode} "${body}"`));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(`refused (${error.code})`));
    req.end();
  });
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

console.log(`before: GET /fast -> ${await get('/fast')}`);
const slow = get('/slow').then((answer) => console.log(`the slow request: ${answer}`));
await wait(50);

console.log('sending SIGTERM to this process, with 1 request in flight');
process.kill(process.pid, 'SIGTERM');
await wait(20);
console.log(`during the readiness delay: GET /fast -> ${await get('/fast')}`);

await wait(700);
console.log(`after the delay: GET /fast -> ${await get('/fast')}`);
const job = await shutdown.guard
  .execute(async () => 'ran')
  .catch((error: unknown) => {
    if (error instanceof ShuttingDownError) return `refused with ${error.name}`;
    throw error;
  });
console.log(`after the delay: a guarded job -> ${job}`);
console.log(`still in flight: ${shutdown.requests} request(s)`);

const code = await shutdown.done;
await slow;
console.log(`done: exit code ${code}, state ${shutdown.state}`);
