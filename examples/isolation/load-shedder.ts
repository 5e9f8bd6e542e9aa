/**
 * Load shedding on the server side: an HTTP server whose request handling runs under
 * `loadShedder({ limit: 4, queue: 4 })`, so it works on at most 4 requests at once with 4 more
 * waiting. Each request says how much it matters in an `x-priority` header; a shed request
 * gets a 503. The backend stalls while the requests arrive, then takes 100 ms per request.
 * 1. A batch client floods the server with 8 'sheddable' requests: 4 run, 3 wait, and the 8th
 *    is refused at once (503): at 7 of 8 places taken, the shedder is past the 80% occupancy
 *    at which it stops taking sheddable work.
 * 2. Users' 'critical' requests arrive: the first takes the last queue place, and each of the
 *    next three evicts the newest sheddable waiter. Every critical request is served.
 * 3. The stats, by priority.
 *
 * Run: npx tsx examples/isolation/load-shedder.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadShedError, loadShedder, type Priority } from 'bulwark';
import { send as answer, startServer } from '../shared/server.js';

const shedder = loadShedder({
  name: 'api',
  limit: 4,
  queue: 4,
  // Off here: the queue is meant to stand while the backend stalls. A real service keeps it on
  // (the default), so waiters stuck in a standing queue are shed instead of served late.
  codel: false,
});
shedder.on('shed', ({ key, priority, reason }) =>
  console.log(`   [api] shed ${priority} ${key} (${reason})`),
);

// The backend stalls while the burst arrives, then each request takes 100 ms: the requests
// pile up the same way on any machine, however fast it sends them.
let backendBack!: () => void;
const backend = new Promise<void>((resolve) => {
  backendBack = resolve;
});

async function work(signal: AbortSignal): Promise<void> {
  await backend;
  await sleep(100, undefined, { signal });
}

const server = await startServer((request, response) => {
  const priority = (request.headers['x-priority'] ?? 'critical') as Priority;
  shedder
    .execute(({ signal }) => work(signal), { priority, key: request.url })
    .then(
      () => answer(response, 200, { ok: true }),
      (error: unknown) => {
        if (!(error instanceof LoadShedError))
          return answer(response, 500, { error: String(error) });
        const headers: Record<string, string> = {};
        if (error.retryAfterMs !== undefined) {
          headers['retry-after'] = String(Math.ceil(error.retryAfterMs / 1000));
        }
        answer(response, 503, { reason: error.reason }, headers);
      },
    );
});

/** Sends a request, and returns once the server has received it. */
async function send(path: string, priority: Priority, calls: Promise<string>[]): Promise<void> {
  const received = server.requests + 1;
  calls.push(request(path, priority));
  while (server.requests < received) await sleep(1);
}

async function request(path: string, priority: Priority): Promise<string> {
  const response = await fetch(`${server.url}${path}`, { headers: { 'x-priority': priority } });
  const body = (await response.json()) as { reason?: string };
  const why = body.reason === undefined ? '' : ` (${body.reason})`;
  return `${priority} ${path}: HTTP ${response.status}${why}`;
}

try {
  const calls: Promise<string>[] = [];
  console.log('1. a batch client sends 8 sheddable requests');
  for (let i = 1; i <= 8; i++) await send(`/batch/${i}`, 'sheddable', calls);
  console.log(`   the server has ${shedder.running} running, ${shedder.queued} queued`);
  console.log('2. users send 4 critical requests');
  for (let i = 1; i <= 4; i++) await send(`/user/${i}`, 'critical', calls);
  backendBack();
  for (const line of await Promise.all(calls)) console.log(`   ${line}`);
  console.log('3. stats');
  for (const [priority, s] of Object.entries(shedder.stats().byPriority)) {
    console.log(`   ${priority}: shed ${s.shed}, running ${s.running}, queued ${s.queued}`);
  }
} finally {
  await server.close();
}
