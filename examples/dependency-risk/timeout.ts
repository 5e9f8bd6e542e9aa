/**
 * Timeouts that really cancel, against a real HTTP server on 127.0.0.1:
 * 1. a cooperative timeout aborts `ctx.signal`; `fetch` given that signal drops the request, and
 *    the server sees the connection close;
 * 2. nested timeouts combine: the task's `ctx.deadline` is the tightest enclosing budget;
 * 3. a task that ignores its signal: cooperative waits for it, aggressive releases the caller.
 *
 * Run: npx tsx examples/dependency-risk/timeout.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pipeline, systemClock, TimeoutError, timeout } from 'bulwark';
import { startServer } from '../shared/server.js';

let connectionClosed!: () => void;
const serverSawClose = new Promise<void>((resolve) => {
  connectionClosed = resolve;
});
// Every route stalls: the server never answers, it only notices when the client hangs up.
const server = await startServer((_request, response) => {
  response.on('close', () => connectionClosed());
});

const since = (start: number) => `${Math.round((performance.now() - start) / 10) * 10} ms`;
const describe = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

try {
  // 200 ms leaves the request time to reach the server even on a busy machine: a fetch aborted
  // before it connects never reaches the server, which then has nothing to see close.
  console.log('1. timeout(200) around fetch(url, { signal: ctx.signal }) to a route that stalls');
  try {
    await timeout(200).execute(({ signal }) => fetch(`${server.url}/stall`, { signal }));
  } catch (error) {
    console.log(`   caller got ${describe(error)}`);
  }
  const gaveUp = sleep(5_000, 'the server never saw the request close');
  const closed = await Promise.race([serverSawClose.then(() => undefined), gaveUp]);
  if (closed !== undefined) throw new Error(closed);
  console.log('   server: the client closed the connection, so no work is left running');

  console.log('2. timeout(100) for the request around timeout(1000) for one query in it');
  const request = pipeline(timeout(100, { name: 'request' }), timeout(1_000, { name: 'query' }));
  try {
    await request.execute(async ({ signal, deadline }) => {
      const leftMs = Math.round((deadline - systemClock.now()) / 10) * 10;
      console.log(`   the query's own budget is 1000 ms, but ctx.deadline leaves it ${leftMs} ms`);
      await sleep(1_000, undefined, { signal }); // honours its signal
    });
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    // The query's timeout leaves the expiry to the request's, which ends no later.
    console.log(`   caller got a TimeoutError from the request's budget: ${error.timeoutMs} ms`);
  }

  console.log('3. a task that ignores its signal and takes 150 ms, under timeout(50)');
  const stubborn = () => sleep(150).then(() => 'late answer'); // takes no signal
  let start = performance.now();
  const late = await timeout(50).execute(stubborn);
  console.log(`   cooperative: waited for the task and returned "${late}" (${since(start)})`);

  start = performance.now();
  let abandoned: Promise<string> | undefined;
  try {
    await timeout(50, { strategy: 'aggressive' }).execute(() => {
      abandoned = stubborn();
      return abandoned;
    });
  } catch (error) {
    console.log(`   aggressive: released the caller with ${describe(error)} (${since(start)})`);
  }
  await abandoned;
  console.log(
    `   the abandoned task finished on its own later (${since(start)}); result discarded`,
  );
} finally {
  await server.close();
}
