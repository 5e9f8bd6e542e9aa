/**
 * Deadline propagation across three services: gateway -> orders -> inventory, each a real
 * node:http server behind `nodeHttpHandler` with `propagate: true`, each calling the next with
 * `resilientFetch`. Nothing is passed by hand: every call inherits the request's deadline and
 * sends on what is left of it (`x-request-timeout-ms`), less a 5 ms margin. Each service
 * answers 504 at once, without running its handler, to a request whose budget is below its
 * `minBudgetMs`.
 * 1. A caller with 2000 ms: each hop has less than the one before, by at least its work.
 * 2. A caller with 1000 ms: by the time orders calls inventory, less than the 700 ms inventory
 *    needs is left, so inventory refuses. Its 504 is marked `x-deadline-exceeded`, so orders'
 *    retry does not ask again: a resend would carry even less time.
 * 3. A caller with 250 ms: orders' own work outlasts it. The gateway's call times out at the
 *    deadline and the caller gets its 504 then, not when orders is done; after its work,
 *    orders' client refuses with a TimeoutError without sending anything: inventory is never
 *    asked.
 * The budgets are on the real clock, so each is printed with the bound it must be under.
 *
 * Run: npx tsx examples/http/chain.ts
 */
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoff, pipeline, retry, systemClock, TimeoutError, timeout } from 'bulwark';
import { type ContextHandler, nodeHttpHandler, resilientFetch } from 'bulwark/http';

const MARGIN_MS = 5; // resilientFetch's default deadlineMarginMs

interface Service {
  readonly name: string;
  /** What each request costs the service before it calls on. */
  readonly workMs: number;
  readonly minBudgetMs: number;
}

const gateway: Service = { name: 'gateway', workMs: 20, minBudgetMs: 20 };
const orders: Service = { name: 'orders', workMs: 300, minBudgetMs: 20 };
const inventory: Service = { name: 'inventory', workMs: 10, minBudgetMs: 700 };

const chain = [gateway, orders, inventory];

/** The budget the current caller sent. */
let callerBudget = 0;
const servers: Server[] = [];
/** Every handler still running: a call's summary waits for them all. */
const handling = new Set<Promise<unknown>>();

/** The most the hop at `at` can have: the caller's budget, less each earlier hop's work and margin. */
function most(at: number): number {
  return chain.slice(0, at).reduce((left, hop) => left - hop.workMs - MARGIN_MS, callerBudget);
}

/** Prints the budget a hop has, and the most it can have. */
function report(service: Service, deadline: number): void {
  const has = Math.ceil(deadline - systemClock.now());
  const name = service.name.padEnd(9);
  const at = chain.indexOf(service);
  if (at === 0) {
    console.log(`   ${name} has ${has} ms (the caller's budget)`);
    return;
  }
  const upstream = chain[at - 1]!;
  const fact = has <= most(at) ? 'at most' : 'MORE than';
  console.log(
    `   ${name} has ${has} ms: ${fact} ${most(at - 1)} - ${upstream.workMs} (${possessive(upstream.name)} work) - ${MARGIN_MS} (margin) = ${most(at)}`,
  );
}

function possessive(name: string): string {
  return name.endsWith('s') ? `${name}'` : `${name}'s`;
}

async function serve(service: Service, handler: ContextHandler): Promise<[string, Server]> {
  const tracked: ContextHandler = (req, res, context) => {
    const run = Promise.resolve(handler(req, res, context));
    handling.add(run);
    return run.finally(() => handling.delete(run));
  };
  const server = createServer(
    nodeHttpHandler(tracked, { propagate: true, minBudgetMs: service.minBudgetMs }),
  );
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return [`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server];
}

/**
 * Answers with what `call` got: its status, and its body (after a note when it failed). When
 * the call throws, 504 for a TimeoutError (its own or one it inherited), 502 for any other
 * error, and nothing when this request's own caller has gone (the call inherited its abort).
 */
async function relay(
  res: ServerResponse,
  from: Service,
  next: Service,
  call: () => Promise<Response>,
): Promise<void> {
  try {
    const answer = await call();
    const body = (await answer.text()).trim();
    res.statusCode = answer.status;
    res.end(answer.ok ? body : `${next.name} answered ${answer.status}: ${body}`);
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    console.log(`   ${from.name.padEnd(9)} its call to ${next.name} failed: ${name}`);
    if (res.destroyed) return;
    res.statusCode = error instanceof TimeoutError ? 504 : 502;
    res.end(`${next.name}: ${name}`);
  }
}

// inventory, the last hop. Every request that reaches it is noted, whether it runs or not.
let inventoryRuns = 0;
const [inventoryUrl, inventoryServer] = await serve(inventory, async (_req, res, context) => {
  inventoryRuns++;
  report(inventory, context.deadline);
  await sleep(inventory.workMs);
  res.end('3 in stock');
});
const budgetsAtInventory: string[] = [];
inventoryServer.on('request', (req) => {
  budgetsAtInventory.push(String(req.headers['x-request-timeout-ms']));
});

// orders retries inventory, inside a timeout for the whole call.
const inventoryClient = resilientFetch({
  policy: pipeline(
    timeout(5_000),
    retry({ maxAttempts: 3, backoff: backoff.exponential({ initialMs: 20 }) }),
  ),
});
const [ordersUrl] = await serve(orders, async (_req, res, context) => {
  report(orders, context.deadline);
  await sleep(orders.workMs);
  await relay(res, orders, inventory, () => inventoryClient(inventoryUrl));
});

// The gateway calls orders with a timeout only: one layer of retries (orders') is enough.
const ordersClient = resilientFetch({ policy: timeout(5_000) });
const [gatewayUrl] = await serve(gateway, async (_req, res, context) => {
  report(gateway, context.deadline);
  await sleep(gateway.workMs);
  await relay(res, gateway, orders, () => ordersClient(ordersUrl));
});

/** A caller with `budget` ms: prints what each hop had, what inventory saw, and the answer. */
async function callWithBudget(step: string, budget: number): Promise<void> {
  console.log(`${step} a caller with a ${budget} ms budget`);
  callerBudget = budget;
  budgetsAtInventory.length = 0;
  inventoryRuns = 0;
  const response = await fetch(gatewayUrl, {
    headers: { 'x-request-timeout-ms': String(budget) },
  });
  const body = await response.text();
  // The caller may have its answer (a 504 at its deadline) while a hop is still at work.
  while (handling.size > 0) await Promise.all(handling);
  const received = budgetsAtInventory.length;
  if (received === 0) console.log('   inventory was never asked');
  else if (inventoryRuns === 0) {
    console.log(
      `   inventory refused ${received} request(s) at once with 504 (budgets ${budgetsAtInventory.join(', ')} ms, under its minBudgetMs of ${inventory.minBudgetMs}); its handler never ran`,
    );
  }
  console.log(`   caller got ${response.status} "${body}"`);
}

try {
  console.log(
    `gateway -> orders -> inventory; work: gateway ${gateway.workMs} ms, orders ${orders.workMs} ms`,
  );
  await callWithBudget('1.', 2_000);
  await callWithBudget('2.', 1_000);
  await callWithBudget('3.', 250);
} finally {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
}
