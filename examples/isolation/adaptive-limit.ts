/**
 * An adaptive limit finding a server's capacity. The server has a number of workers, each
 * serving one request in 20 ms; requests beyond that wait in its own queue (so they get slower),
 * and once that queue is as long as the workers are many it answers 503 at once. The client runs
 * 40 callers in a loop through `bulkhead({ limit: adaptiveLimit({ algorithm: 'aimd' }) })` and
 * knows nothing of the server's size.
 * 1. 8 workers, so the server holds 16 requests: the limit starts at 2, grows by one per call
 *    while half of it is in use, and backs off by 10% on each 503 (a drop: the client throws it
 *    as an `ExecutionRejectedError`). It overshoots while the first answers are on their way,
 *    then settles at 16 or somewhat above (calls still on their way through the network count
 *    against the client's limit but not yet against the server). Phases are counted in calls, so a slow machine only runs longer.
 * 2. The server drops to 4 workers (it holds 8): the limit follows it down.
 *
 * Run: npx tsx examples/isolation/adaptive-limit.ts
 */
import { adaptiveLimit, bulkhead, ExecutionRejectedError } from 'bulwark';
import { startServer } from '../shared/server.js';

/** The server said it is overloaded: a refusal from inside, which the limit counts as a drop. */
class Overloaded extends ExecutionRejectedError {}

let workers = 8;
let busy = 0;
const backlog: (() => void)[] = [];

function serveNext(): void {
  const next = backlog.shift();
  if (next !== undefined) next();
}

const server = await startServer((_request, response) => {
  if (busy >= workers && backlog.length >= workers) {
    response.writeHead(503).end();
    return;
  }
  const work = (): void => {
    busy++;
    setTimeout(() => {
      busy--;
      response.writeHead(200).end('ok');
      // A worker freed: if the server lost workers meanwhile, it may still be over.
      if (busy < workers) serveNext();
    }, 20);
  };
  if (busy < workers) work();
  else backlog.push(work);
});

const limit = adaptiveLimit({ algorithm: 'aimd', initial: 2, min: 1, max: 64 });
const pool = bulkhead({ name: 'api', limit, queue: Number.POSITIVE_INFINITY });

let ok = 0;
let refused = 0;
let calls = 0;

async function caller(until: number): Promise<void> {
  while (calls < until) {
    calls++;
    await pool
      .execute(async ({ signal }) => {
        const response = await fetch(`${server.url}/work`, { signal });
        await response.text();
        if (response.status === 503) throw new Overloaded('server answered 503');
        ok++;
      })
      .catch((error: unknown) => {
        if (!(error instanceof Overloaded)) throw error;
        refused++;
      });
  }
}

/**
 * Runs 40 callers until they made `count` calls more, printing the limit every 100 ms; answers
 * the limits printed. Phases count calls, not time, so a slow machine only makes them longer.
 */
async function phase(count: number): Promise<number[]> {
  const seen: number[] = [];
  const until = calls + count;
  const callers = Array.from({ length: 40 }, () => caller(until));
  const timer = setInterval(() => {
    seen.push(limit.current);
    const figures = `running ${String(pool.running).padStart(2)}  ok ${ok}  503s ${refused}`;
    console.log(`   limit ${String(limit.current).padStart(2)}  ${figures}`);
  }, 100);
  await Promise.all(callers);
  clearInterval(timer);
  return seen;
}

/** The median of the second half of the limits printed: where the limit spent the phase's end. */
function settled(seen: number[]): number {
  const tail = seen.slice(Math.floor(seen.length / 2)).sort((a, b) => a - b);
  return tail[Math.floor(tail.length / 2)] ?? limit.current;
}

try {
  let peak = limit.current;
  limit.on('limitChange', ({ to }) => {
    peak = Math.max(peak, to);
  });
  console.log(
    `1. the server holds ${2 * workers} requests (${workers} workers, ${workers} queued); the limit starts at ${limit.current}`,
  );
  const before = settled(await phase(300));
  console.log(`   the limit rose to ${peak} and settled at ${before}`);
  workers = 4;
  console.log(`2. the server drops to ${workers} workers: it holds ${2 * workers} requests`);
  const after = settled(await phase(300));
  const verdict = after < before ? 'followed it down' : 'did not come down';
  console.log(`   the limit ${verdict}: settled at ${after}`);
} finally {
  await server.close();
}
