import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AttemptBudget } from '../core/budget.js';
import { BulkheadRejectedError, HedgeLostError, TimeoutError } from '../core/errors.js';
import { pipeline } from '../core/pipeline.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { type HedgeEvents, hedge } from './index.js';
import { flush, scripted } from './test-helpers.js';

/** Records every event of a policy, in order, as [type, detail]. */
function record(policy: ReturnType<typeof hedge>) {
  const seen: [string, unknown][] = [];
  for (const type of ['hedge', 'budgetExhausted', 'success', 'giveUp'] as const) {
    policy.on(type, (detail: HedgeEvents[typeof type]) => seen.push([type, detail]));
  }
  return seen;
}

function countingBudget(allow: boolean): AttemptBudget & { calls: number; asked: number } {
  return {
    calls: 0,
    asked: 0,
    recordCall() {
      this.calls++;
    },
    tryAcquire() {
      this.asked++;
      return allow;
    },
  };
}

describe('hedge', () => {
  it('returns the first attempt when it answers within the delay: no hedge, no timer left', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 100, clock });
    const seen = record(policy);
    const { started, task } = scripted(clock, [{ ms: 40 }]);
    const result = policy.execute(task, { key: 'k' });
    await clock.advance(40);
    await expect(result).resolves.toBe('answer 1');
    expect(started.map((s) => s.attempt)).toEqual([1]);
    expect(started[0]!.signal.aborted).toBe(false);
    expect(seen).toEqual([['success', { key: 'k', attempt: 1, attempts: 1 }]]);
    expect(policy.pending).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    await clock.runAll();
    expect(started).toHaveLength(1);
  });

  it('starts a hedge when the delay runs out; the hedge wins and the original is aborted', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 100, clock });
    const seen = record(policy);
    const { started, task } = scripted(clock, [{ ms: 1_000 }, { ms: 30 }]);
    const result = policy.execute(task, { key: 'k' });
    await clock.advance(99);
    expect(started).toHaveLength(1);
    await clock.advance(1);
    expect(started.map((s) => [s.attempt, s.at])).toEqual([
      [1, 0],
      [2, 100],
    ]);
    expect(started[0]!.signal.aborted).toBe(false);
    await clock.advance(30);
    await expect(result).resolves.toBe('answer 2');
    expect(started[0]!.signal.aborted).toBe(true);
    expect(started[0]!.signal.reason).toBeInstanceOf(HedgeLostError);
    expect(started[0]!.signal.reason).toMatchObject({ code: 'HEDGE_LOST', winner: 2 });
    expect(started[1]!.signal.aborted).toBe(false);
    expect(seen).toEqual([
      ['hedge', { key: 'k', attempt: 2, delayMs: 100, trigger: 'delay' }],
      ['success', { key: 'k', attempt: 2, attempts: 2 }],
    ]);
    expect(clock.pendingTimers).toBe(1); // the original's own timer, which ignores its signal
    await clock.runAll();
    expect(clock.pendingTimers).toBe(0);
  });

  it('starts at most maxHedges extra attempts, each a delay after the previous one', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 50, maxHedges: 2, clock });
    const { started, task } = scripted(clock, [{ ms: 400 }, { ms: 1_000 }, { ms: 1_000 }]);
    const result = policy.execute(task);
    await clock.advance(399);
    expect(started.map((s) => [s.attempt, s.at])).toEqual([
      [1, 0],
      [2, 50],
      [3, 100],
    ]);
    expect(policy.pending).toBe(0);
    await clock.advance(1);
    await expect(result).resolves.toBe('answer 1');
    expect(started.slice(1).map((s) => s.signal.reason)).toEqual([
      expect.any(HedgeLostError),
      expect.any(HedgeLostError),
    ]);
  });

  it('maxHedges 0 never hedges', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 10, maxHedges: 0, clock });
    const { started, task } = scripted(clock, [{ ms: 500 }]);
    const result = policy.execute(task);
    await clock.advance(500);
    await expect(result).resolves.toBe('answer 1');
    expect(started).toHaveLength(1);
  });

  it('a delay of 0 starts every attempt at once and arms no timer', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 0, maxHedges: 2, clock });
    const { started, task } = scripted(clock, [{ ms: 30 }, { ms: 20 }, { ms: 10 }]);
    const result = policy.execute(task);
    expect(started.map((s) => [s.attempt, s.at])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    expect(clock.armedTimers).toBe(3); // the three tasks' own
    await clock.advance(10);
    await expect(result).resolves.toBe('answer 3');
  });

  it('a failure shouldHedge accepts starts the next attempt at once (fallback mode)', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 100, clock });
    const seen = record(policy);
    const { started, task } = scripted(clock, [{ ms: 10, ok: false }, { ms: 20 }]);
    const result = policy.execute(task);
    await clock.advance(10);
    expect(started.map((s) => [s.attempt, s.at])).toEqual([
      [1, 0],
      [2, 10],
    ]);
    await clock.advance(20);
    await expect(result).resolves.toBe('answer 2');
    expect(seen[0]).toEqual([
      'hedge',
      { key: undefined, attempt: 2, delayMs: 10, trigger: 'outcome' },
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('waits for the attempts still running when a hedgeable failure cannot start another', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 50, clock });
    const { started, task } = scripted(clock, [{ ms: 500 }, { ms: 10, ok: false }]);
    const result = policy.execute(task);
    await clock.advance(60);
    expect(started).toHaveLength(2);
    let settled = false;
    void result.then(() => {
      settled = true;
    });
    await clock.advance(100);
    expect(settled).toBe(false);
    await clock.advance(340);
    await expect(result).resolves.toBe('answer 1');
  });

  it('fails with the last failure when every attempt fails hedgeably', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 50, maxHedges: 2, clock });
    const seen = record(policy);
    const first = new Error('first');
    const last = new Error('last');
    const { task } = scripted(clock, [
      { ms: 300, ok: false, value: first },
      { ms: 10, ok: false, value: new Error('second') },
      { ms: 500, ok: false, value: last },
    ]);
    const result = policy.execute(task);
    const check = expect(result).rejects.toBe(last);
    await clock.runAll();
    await check;
    expect(seen.at(-1)).toEqual([
      'giveUp',
      { key: undefined, attempts: 3, outcome: { ok: false, error: last }, reason: 'maxHedges' },
    ]);
  });

  it('ends at once on a failure it does not hedge on (a refusal), aborting the others', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 50, clock });
    const seen = record(policy);
    const refusal = new BulkheadRejectedError('full', 1, 0);
    const { started, task } = scripted(clock, [{ ms: 500 }, { ms: 10, ok: false, value: refusal }]);
    const result = policy.execute(task);
    const check = expect(result).rejects.toBe(refusal);
    await clock.advance(60);
    await check;
    expect(started[0]!.signal.reason).toMatchObject({ winner: 2 });
    expect(seen.at(-1)).toMatchObject(['giveUp', { attempts: 2, reason: 'notHedgeable' }]);
  });

  it('hedges on a TimeoutError: a per-attempt timeout inside starts the next attempt', async () => {
    const clock = new VirtualClock();
    const policy = pipeline(
      hedge({ delayMs: 500, clock }),
      timeout(100, { clock, strategy: 'aggressive' }),
    );
    const seen: number[] = [];
    const { started, task } = scripted(clock, [{ ms: 1_000 }, { ms: 20 }]);
    const result = policy.execute((ctx) => {
      seen.push(ctx.attempt);
      return task(ctx);
    });
    await clock.advance(100);
    expect(started.map((s) => [s.attempt, s.at])).toEqual([
      [1, 0],
      [2, 100],
    ]);
    expect(started[0]!.signal.reason).toBeInstanceOf(TimeoutError);
    await clock.advance(20);
    await expect(result).resolves.toBe('answer 2');
  });

  it('an enclosing timeout is a deadline for every attempt, and its expiry ends them all', async () => {
    const clock = new VirtualClock();
    const tight = pipeline(timeout(80, { clock }), hedge({ delayMs: 100, clock }));
    const first = scripted(clock, [{ ms: Infinity }]);
    const refused = tight.execute(first.task);
    const check = expect(refused).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(80);
    await check;
    // The delay could not fit the deadline: no hedge was ever queued.
    expect(first.started).toHaveLength(1);
    expect(first.started[0]!.signal.reason).toBeInstanceOf(TimeoutError);

    const roomy = pipeline(timeout(150, { clock }), hedge({ delayMs: 100, clock }));
    const both = scripted(clock, [{ ms: Infinity }, { ms: Infinity }]);
    const ended = roomy.execute(both.task);
    const late = expect(ended).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(150);
    await late;
    expect(both.started.map((s) => [s.attempt, s.at])).toEqual([
      [1, 80],
      [2, 180],
    ]);
    for (const s of both.started) expect(s.signal.reason).toBeInstanceOf(TimeoutError);
  });

  it('shouldHedge can hedge on a result, and returns the last result when none is accepted', async () => {
    const clock = new VirtualClock();
    const policy = hedge<{ status: number }>({
      delayMs: 100,
      maxHedges: 1,
      clock,
      shouldHedge: (outcome, ctx) => {
        expect(ctx.attempt).toBeGreaterThan(0);
        return !outcome.ok || outcome.value.status === 503;
      },
    });
    const seen = record(policy);
    const { task } = scripted(clock, [
      { ms: 10, value: { status: 503 } },
      { ms: 10, value: { status: 502 } },
    ]);
    const accepted = policy.execute(task as () => Promise<{ status: number }>);
    await clock.advance(20);
    await expect(accepted).resolves.toEqual({ status: 502 });
    expect(seen.at(-1)).toEqual(['success', { key: undefined, attempt: 2, attempts: 2 }]);

    const both = scripted(clock, [
      { ms: 10, value: { status: 503 } },
      { ms: 10, value: { status: 503, last: true } },
    ]);
    const exhausted = policy.execute(both.task as () => Promise<{ status: number }>);
    await clock.advance(20);
    await expect(exhausted).resolves.toEqual({ status: 503, last: true });
    expect(seen.at(-1)).toMatchObject(['giveUp', { attempts: 2, reason: 'maxHedges' }]);
  });

  it('a shouldHedge that returns a promise fails the call with a TypeError', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 100, clock, shouldHedge: (async () => true) as never });
    const { started, task } = scripted(clock, [{ ms: 10, ok: false }]);
    const result = policy.execute(task);
    const check = expect(result).rejects.toThrow(
      'hedge: option "shouldHedge" returned a promise; it must decide synchronously',
    );
    await clock.advance(10);
    await check;
    expect(started).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('records every call with the budget and skips the hedges it refuses', async () => {
    const clock = new VirtualClock();
    const budget = countingBudget(false);
    const policy = hedge({ delayMs: 50, clock, budget });
    const seen = record(policy);
    const { started, task } = scripted(clock, [{ ms: 200 }]);
    const result = policy.execute(task, { key: 'k' });
    await clock.advance(200);
    await expect(result).resolves.toBe('answer 1');
    expect(started).toHaveLength(1);
    expect([budget.calls, budget.asked]).toEqual([1, 1]);
    expect(seen).toEqual([
      ['budgetExhausted', { key: 'k', attempt: 2 }],
      ['success', { key: 'k', attempt: 1, attempts: 1 }],
    ]);

    const open = countingBudget(true);
    const paid = hedge({ delayMs: 50, clock, budget: open });
    const second = scripted(clock, [{ ms: 200 }, { ms: 10 }]);
    const hedged = paid.execute(second.task);
    await clock.advance(60);
    await expect(hedged).resolves.toBe('answer 2');
    expect([open.calls, open.asked]).toEqual([1, 1]);
  });

  it('a budget refusal after a hedgeable failure ends the call when nothing else runs', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 50, clock, budget: countingBudget(false) });
    const seen = record(policy);
    const { task } = scripted(clock, [{ ms: 10, ok: false, value: new Error('down') }]);
    const result = policy.execute(task);
    const check = expect(result).rejects.toThrow('down');
    await clock.advance(10);
    await check;
    expect(seen.at(-1)).toMatchObject(['giveUp', { attempts: 1, reason: 'budget' }]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('starts no hedge that the deadline cannot fit', async () => {
    const clock = new VirtualClock(1_000);
    const policy = hedge({ delayMs: 100, clock });
    const seen = record(policy);
    const { started, task } = scripted(clock, [{ ms: 150, ok: false, value: new Error('late') }]);
    const result = policy.execute(task, { deadline: 1_100 });
    expect(policy.pending).toBe(0);
    expect(clock.armedTimers).toBe(1); // the task's own
    const check = expect(result).rejects.toThrow('late');
    await clock.advance(150);
    await check;
    expect(started).toHaveLength(1);
    expect(seen.at(-1)).toMatchObject(['giveUp', { reason: 'deadline' }]);

    const roomy = scripted(clock, [{ ms: 500 }, { ms: 10 }]);
    const fits = policy.execute(roomy.task, { deadline: clock.now() + 101 });
    await clock.advance(110);
    await expect(fits).resolves.toBe('answer 2');
  });

  it("a caller's abort ends the call at once with its reason and leaves nothing behind", async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 50, maxHedges: 2, clock });
    const seen = record(policy);
    const controller = new AbortController();
    const { started, task } = scripted(clock, [{ ms: Infinity }, { ms: Infinity }]);
    const result = policy.execute(task, { signal: controller.signal });
    await clock.advance(60);
    expect(started).toHaveLength(2);
    expect(policy.pending).toBe(1);
    const reason = new Error('caller left');
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    for (const s of started) expect(s.signal.reason).toBe(reason);
    expect(policy.pending).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(seen.at(-1)).toMatchObject(['giveUp', { attempts: 2, reason: 'aborted' }]);
    await clock.advance(1_000);
    expect(started).toHaveLength(2);
  });

  it('an already aborted signal starts nothing', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 50, clock });
    const { started, task } = scripted(clock, []);
    const reason = new Error('gone');
    await expect(policy.execute(task, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(started).toHaveLength(0);
  });

  it('leaves no listener on the caller signal when a call wins', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 50, clock });
    const controller = new AbortController();
    const { started, task } = scripted(clock, [{ ms: 200 }, { ms: 10 }]);
    const result = policy.execute(task, { signal: controller.signal });
    await clock.advance(60);
    await expect(result).resolves.toBe('answer 2');
    expect(started[0]!.signal.aborted).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('an attempt that ignores its signal does not hold back the result', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 50, clock });
    const { started, task } = scripted(clock, [{ ms: Infinity }, { ms: 5 }]);
    const result = policy.execute(task);
    await clock.advance(55);
    await expect(result).resolves.toBe('answer 2');
    expect(started[0]!.signal.aborted).toBe(true);
  });

  it('many calls in flight share one timer', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 100, clock });
    const calls = [];
    for (let i = 0; i < 50; i++) {
      calls.push(policy.execute(() => new Promise(() => {})));
      await clock.advance(1);
    }
    expect(policy.pending).toBe(50);
    expect(clock.armedTimers).toBe(1);
    await clock.advance(100);
    expect(policy.pending).toBe(0);
  });

  it('sends the events to the telemetry bus under its kind', async () => {
    const { telemetry } = await import('../telemetry.js');
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 10, clock, name: 'reads' });
    const events: string[] = [];
    const stop = telemetry.subscribe((event) => {
      if (event.kind === 'hedge') events.push(`${event.policy} ${event.type}`);
    });
    const { task } = scripted(clock, [{ ms: 100 }, { ms: 5 }]);
    const result = policy.execute(task);
    await clock.advance(15);
    await result;
    stop();
    expect(events).toEqual(['reads hedge', 'reads success']);
  });

  it('refuses bad options with a TypeError naming the option', () => {
    const bad: [unknown, string][] = [
      [null, 'hedge: options must be an object (got null)'],
      [{}, 'hedge: option "delayMs" must be a number of milliseconds >= 0 (got NaN)'],
      [{ delayMs: -1 }, 'option "delayMs" must be a number of milliseconds >= 0 (got -1)'],
      [{ delayMs: 10, maxHedges: 1.5 }, 'option "maxHedges" must be an integer >= 0 (got 1.5)'],
      [{ delayMs: 10, budget: {} }, 'option "budget" must be an AttemptBudget'],
      [{ delayMs: 10, shouldHedge: 1 }, 'option "shouldHedge" must be a function (got 1)'],
      [{ delayMs: { minMs: 5 } }, 'option "delayMs.percentile" must be a number in (0, 100]'],
      [
        { delayMs: { percentile: 0, minMs: 5 } },
        '"delayMs.percentile" must be a number in (0, 100] (got 0)',
      ],
      [{ delayMs: { percentile: 95 } }, 'option "delayMs.minMs" must be a number of milliseconds'],
      [
        { delayMs: { percentile: 95, minMs: 5, windowSize: 0 } },
        'option "delayMs.windowSize" must be an integer >= 1 (got 0)',
      ],
      [{ delayMs: 10, name: '' }, 'hedge: option "name" must be a non-empty string'],
    ];
    for (const [options, message] of bad) {
      expect(() => hedge(options as never)).toThrow(TypeError);
      expect(() => hedge(options as never)).toThrow(message);
    }
    expect(hedge({ delayMs: 10, name: 'reads', maxHedges: 3 })).toMatchObject({
      name: 'reads',
      maxHedges: 3,
      delayMs: 10,
      percentileDelay: undefined,
    });
  });

  it('refuses bad per-call inputs with a TypeError', async () => {
    const policy = hedge({ delayMs: 10 });
    await expect(policy.execute(() => 1, { deadline: 'soon' as never })).rejects.toThrow(TypeError);
    await flush();
  });
});
