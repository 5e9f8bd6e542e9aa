import { once } from 'node:events';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type RequestContext, resilientFetch } from '../../../src/adapters/http/index.js';
import { type Clock, systemClock } from '../../../src/core/clock.js';
import type { Policy } from '../../../src/core/policy.js';
import { backoff, pipeline, retry, TimeoutError, timeout } from '../../../src/index.js';
import { VirtualClock } from '../../../src/testing/index.js';
import { Hop } from './chain-hop.js';
import { call } from './harness.js';

/**
 * Three real services, A -> B -> C, each a node:http server with `propagate: true` and
 * `minBudgetMs: 50`, each calling the next with `resilientFetch` (a timeout in its policy),
 * inheriting the request's deadline, priority and signal. All hops and clients share one
 * VirtualClock; a hop's work is a known amount of virtual time, so every budget is exact:
 * what the caller had left, less its work and the 5 ms margin. The network takes no virtual
 * time.
 */

const WORK_MS = 100;
const MIN_BUDGET_MS = 50;
const MARGIN_MS = 5;
const SPENT = 'Gateway Timeout: the request arrived with no time budget left\n';

const open: Hop[] = [];

afterEach(async () => {
  for (const hop of open.splice(0)) await hop.close();
});

interface ChainOptions {
  readonly clock: Clock;
  /** Each hop's work before calling on; C's too. */
  readonly work: (context: RequestContext, hop: string) => Promise<void>;
  /** C's work, when it differs. */
  readonly lastWork?: (context: RequestContext) => Promise<void>;
  /** The policy of the clients that call B and C. */
  readonly policy?: (clock: Clock) => Policy;
}

async function startChain(options: ChainOptions) {
  const { clock, work } = options;
  const log: string[] = [];
  const policy = options.policy ?? ((c: Clock) => pipeline(timeout(10_000, { clock: c })));
  const client = () => resilientFetch({ policy: policy(clock), clock });
  const common = { clock, minBudgetMs: MIN_BUDGET_MS, log };
  const c = await Hop.start({ ...common, name: 'C', work: options.lastWork ?? work });
  open.push(c);
  const b = await Hop.start({ ...common, name: 'B', work, next: { hop: c, client: client() } });
  open.push(b);
  const a = await Hop.start({ ...common, name: 'A', work, next: { hop: b, client: client() } });
  open.push(a);
  return { a, b, c, log };
}

/** `promise`, or a clear failure if it has not settled within `ms` (a generous bound). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const bound = new AbortController();
  const late = sleep(ms, undefined, { signal: bound.signal }).then(() => {
    throw new Error(`still waiting for ${what} after ${ms} ms`);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    bound.abort();
    late.catch(() => {});
  }
}

function virtualWork(clock: VirtualClock): () => Promise<void> {
  return () => clock.advance(WORK_MS);
}

describe('a three-hop chain A -> B -> C with propagation', () => {
  it('each hop sees what its caller had left, less its work and the margin', async () => {
    const clock = new VirtualClock();
    const { a, b, c } = await startChain({ clock, work: virtualWork(clock) });
    const reply = await call(a.port, '/', { headers: { 'x-request-timeout-ms': '1000' } });
    expect(reply).toMatchObject({ status: 200, body: 'A < B < C ok' });
    const budgets = [a, b, c].map((hop) => hop.runs[0]!.budget);
    expect(budgets).toEqual([1000, 1000 - WORK_MS - MARGIN_MS, 1000 - 2 * (WORK_MS + MARGIN_MS)]);
    expect(b.runs[0]!.headers['x-request-timeout-ms']).toBe('895');
    expect(c.runs[0]!.headers['x-request-timeout-ms']).toBe('790');
  });

  // Budgets chosen so that the chain runs out at each place in turn (work 100 ms per hop,
  // margin 5 ms, minBudgetMs 50 at every server).
  it.each([
    {
      budget: 250,
      where:
        "C's server refuses: B sends 45 ms, below C's minBudgetMs, and C answers 504 without running",
      body: `A < B < ${SPENT}`,
      runs: [1, 1, 0],
      requests: [1, 1, 1],
    },
    {
      budget: 210,
      where:
        "B's client refuses: 5 ms left, none after the margin, so it throws TimeoutError without sending",
      body: 'A < B: TimeoutError',
      runs: [1, 1, 0],
      requests: [1, 1, 0],
    },
    {
      budget: 150,
      where: "B's server refuses: A sends 45 ms, and B answers 504 without running",
      body: `A < ${SPENT}`,
      runs: [1, 0, 0],
      requests: [1, 1, 0],
    },
    {
      budget: 105,
      where: "A's client refuses: nothing left after the margin, B is never asked",
      body: 'A: TimeoutError',
      runs: [1, 0, 0],
      requests: [1, 0, 0],
    },
  ])('budget $budget: $where', async ({ budget, body, runs, requests }) => {
    const clock = new VirtualClock();
    const { a, b, c } = await startChain({ clock, work: virtualWork(clock) });
    const reply = await call(a.port, '/', { headers: { 'x-request-timeout-ms': String(budget) } });
    // What A's caller gets: a 504, its body telling which hop refused and how.
    expect(reply).toMatchObject({ status: 504, body });
    expect([a, b, c].map((hop) => hop.runs.length)).toEqual(runs);
    expect([a, b, c].map((hop) => hop.requests)).toEqual(requests);
    const refusedByClient = [a, b].find((hop) => hop.failures.length > 0);
    if (body.endsWith('TimeoutError'))
      expect(refusedByClient?.failures[0]).toBeInstanceOf(TimeoutError);
    else expect(refusedByClient).toBeUndefined();
  });

  it("a retry in B does not resend a request C refused for its budget: C's 504 says so", async () => {
    const clock = new VirtualClock();
    const { a, b, c } = await startChain({
      clock,
      work: virtualWork(clock),
      policy: (c) =>
        pipeline(
          timeout(10_000, { clock: c }),
          retry({ maxAttempts: 2, backoff: backoff.constant(0), clock: c }),
        ),
    });
    // C marks its 504 x-deadline-exceeded: a resend would carry no more budget, so B's client
    // takes it as a failure and does not retry. B's handler relays the status without the mark,
    // so A's client retries B: 45 ms left, and B refuses that one without running (marked).
    const reply = await call(a.port, '/', { headers: { 'x-request-timeout-ms': '250' } });
    expect(reply).toMatchObject({ status: 504, body: `A < ${SPENT}` });
    expect([a, b, c].map((hop) => hop.runs.length)).toEqual([1, 1, 0]);
    expect([a, b, c].map((hop) => hop.requests)).toEqual([1, 2, 1]);
  });

  it('carries the priority end to end, and sends none for critical', async () => {
    const clock = new VirtualClock();
    const { a, b, c } = await startChain({ clock, work: async () => {} });
    const reply = await call(a.port, '/', { headers: { 'x-request-priority': 'sheddable-plus' } });
    expect(reply.status).toBe(200);
    expect([a, b, c].map((hop) => hop.runs[0]!.priority)).toEqual([
      'sheddable-plus',
      'sheddable-plus',
      'sheddable-plus',
    ]);
    expect(c.runs[0]!.headers['x-request-priority']).toBe('sheddable-plus');
    // The caller sent no budget: A has none, and its client's timeout is where one begins.
    expect([a, b, c].map((hop) => hop.runs[0]!.budget)).toEqual([
      Number.POSITIVE_INFINITY,
      10_000 - MARGIN_MS,
      10_000 - 2 * MARGIN_MS,
    ]);

    await call(a.port, '/');
    expect([a, b, c].map((hop) => hop.runs[1]!.priority)).toEqual([
      'critical',
      'critical',
      'critical',
    ]);
    expect(b.runs[1]!.headers).not.toHaveProperty('x-request-priority');
    expect(c.runs[1]!.headers).not.toHaveProperty('x-request-priority');
  });

  it("a client leaving A aborts B's call, then B's work and C's, in that order", async () => {
    const clock = new VirtualClock();
    const { a, b, c, log } = await startChain({
      clock,
      work: async () => {},
      // C works until the signal tells it the caller is gone.
      lastWork: ({ signal }) => once(signal, 'abort').then(() => {}),
    });
    const caller = request({ host: '127.0.0.1', port: a.port, path: '/', agent: false });
    caller.on('error', () => {});
    caller.end();
    await within(once(c, 'run'), 5_000, 'the request to reach C');
    const settled = Promise.all([a, b, c].map((hop) => once(hop, 'settled')));
    caller.destroy();
    await within(settled, 5_000, 'every hop to settle');
    expect(log).toEqual(['A aborted', 'B aborted', 'C aborted']);
    // A's and B's calls ended with their request's reason: the client closed the connection.
    for (const hop of [a, b]) {
      expect(hop.failures).toHaveLength(1);
      expect(hop.failures[0]).toMatchObject({ name: 'AbortError' });
    }
  });

  it('on the system clock, each budget shrinks by at least the work before the call', async () => {
    const worked = new Map<string, number>();
    const { a, b, c } = await startChain({
      clock: systemClock,
      work: async (_context, hop) => {
        const started = systemClock.now();
        await sleep(20);
        worked.set(hop, systemClock.now() - started);
      },
    });
    const reply = await call(a.port, '/', { headers: { 'x-request-timeout-ms': '10000' } });
    expect(reply).toMatchObject({ status: 200, body: 'A < B < C ok' });
    const [budgetA, budgetB, budgetC] = [a, b, c].map((hop) => hop.runs[0]!.budget);
    expect(budgetA).toBeLessThanOrEqual(10_000);
    expect(budgetB).toBeLessThanOrEqual(budgetA! - worked.get('A')! - MARGIN_MS);
    expect(budgetC).toBeLessThanOrEqual(budgetB! - worked.get('B')! - MARGIN_MS);
    expect(worked.get('A')).toBeGreaterThan(10);
    expect(budgetC).toBeGreaterThan(MIN_BUDGET_MS);
  });
});
