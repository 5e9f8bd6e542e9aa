import { describe, expect, it } from 'vitest';
import { LoadShedError, TimeoutError } from '../core/errors.js';
import type { ConcurrencyLimit } from '../core/limit.js';
import { VirtualClock } from '../testing/index.js';
import { loadShedder } from './index.js';
import { flush, harness } from './test-helpers.js';

class FakeLimit implements ConcurrencyLimit {
  current: number;
  readonly samples: [number, number, boolean][] = [];
  constructor(current: number) {
    this.current = current;
  }
  sample(rttMs: number, inflight: number, dropped: boolean): void {
    this.samples.push([rttMs, inflight, dropped]);
  }
}

describe('loadShedder: adaptive limit', () => {
  it('reads the limit at each admission and tells it how every call went', async () => {
    const clock = new VirtualClock();
    const limit = new FakeLimit(2);
    const policy = loadShedder({ limit, queue: 5, clock });
    const { started, call, open, gates } = harness(policy);
    const a = call('a');
    await clock.advance(10);
    const b = call('b');
    const c = call('c');
    expect([policy.running, policy.queued, policy.limit]).toEqual([2, 1, 2]);
    await clock.advance(20);
    open('a');
    await a;
    // a ran 30 ms with itself alone in flight; its slot went to c.
    expect(limit.samples).toEqual([[30, 1, false]]);
    expect(started).toEqual(['a', 'b', 'c']);
    await clock.advance(5);
    gates.get('b')!.fail(new TimeoutError(25));
    await expect(b).rejects.toBeInstanceOf(TimeoutError);
    gates.get('c')!.fail(new Error('plain failure'));
    await expect(c).rejects.toThrow('plain failure');
    expect(limit.samples).toEqual([
      [30, 1, false],
      [25, 2, true],
      [5, 2, false],
    ]);
    const shedInside = policy.execute(() => {
      throw new LoadShedError('downstream shed', 'capacity', 'critical');
    });
    await expect(shedInside).rejects.toBeInstanceOf(LoadShedError);
    expect(limit.samples.at(-1)).toEqual([0, 1, true]);
  });

  it('serves the waiters first when the limit grows, and starts nothing while it is exceeded', async () => {
    const clock = new VirtualClock();
    const limit = new FakeLimit(1);
    const policy = loadShedder({ limit, queue: 5, clock });
    const { started, call, open } = harness(policy);
    const calls = [call('a'), call('b'), call('c')];
    limit.current = 2;
    calls.push(call('d'));
    await flush();
    // The grown limit's slot went to b, who came first; d waits behind c.
    expect(started).toEqual(['a', 'b']);
    expect(policy.queued).toBe(2);
    limit.current = 1;
    open('a');
    await flush();
    // Two running against a limit of 1: the freed slot is not handed on.
    expect(started).toEqual(['a', 'b']);
    expect([policy.running, policy.queued]).toEqual([1, 2]);
    open('b');
    await flush();
    expect(started).toEqual(['a', 'b', 'c']);
    open('c');
    await flush();
    open('d');
    await expect(Promise.all(calls)).resolves.toEqual(['a', 'b', 'c', 'd']);
    expect(policy.stats()).toMatchObject({ running: 0, queued: 0, limit: 1 });
  });

  it('gives the slot back untold when the caller aborts just as the slot is handed over', async () => {
    const limit = new FakeLimit(1);
    const policy = loadShedder({ limit, queue: 1, clock: new VirtualClock() });
    const { started, call, open } = harness(policy);
    const controller = new AbortController();
    const first = call('a');
    const second = call('b', 'critical', controller.signal);
    policy.on('dequeued', () => controller.abort(new Error('too late')));
    open('a');
    await first;
    await expect(second).rejects.toThrow('too late');
    expect(started).toEqual(['a']);
    expect(limit.samples).toHaveLength(1);
    expect([policy.running, policy.queued]).toEqual([0, 0]);
  });

  it('gives the slot back when a custom clock throws', async () => {
    const clock = new VirtualClock();
    let broken = false;
    const flaky = {
      now: () => {
        if (broken) throw new Error('clock broke');
        return clock.now();
      },
      setTimeout: clock.setTimeout.bind(clock),
      clearTimeout: clock.clearTimeout.bind(clock),
    };
    const limit = new FakeLimit(1);
    const policy = loadShedder({ limit, clock: flaky });
    broken = true;
    await expect(policy.execute(() => 'x')).rejects.toThrow('clock broke');
    expect(policy.running).toBe(0);
    expect(limit.samples).toEqual([]);
    broken = false;
    await expect(policy.execute(() => 'y')).resolves.toBe('y');
  });

  it('frees the slot even when the limit throws from sample', async () => {
    const limit = new FakeLimit(1);
    limit.sample = () => {
      throw new Error('limit bug');
    };
    const policy = loadShedder({ limit, clock: new VirtualClock() });
    await expect(policy.execute(() => 'x')).rejects.toThrow('limit bug');
    expect(policy.running).toBe(0);
  });
});

describe('loadShedder: retryAfterMs', () => {
  it('hints the smoothed service time of the calls it timed (queued ones, with a fixed limit)', async () => {
    const clock = new VirtualClock();
    const policy = loadShedder({ limit: 1, queue: 1, codel: false, clock });
    const { call, open } = harness(policy);
    const a = call('a');
    const b = call('b');
    await expect(call('c')).rejects.toMatchObject({ retryAfterMs: undefined });
    await clock.advance(10);
    open('a');
    await a;
    await clock.advance(40);
    const d = call('d');
    open('b');
    await b;
    // b ran 40 ms; d has its slot and e the queue place.
    const e = call('e');
    const refused = await call('f').catch((error: LoadShedError) => error);
    expect(refused).toMatchObject({ reason: 'capacity', retryAfterMs: 40 });
    await clock.advance(90);
    open('d');
    await d;
    // d ran 90 ms: 40 + 0.2 x (90 - 40) = 50.
    const g = call('g');
    await expect(call('h')).rejects.toMatchObject({ retryAfterMs: 50 });
    open('e');
    await e;
    open('g');
    await g;
  });
});
