import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import { PolicyEvents, telemetry } from './events.js';

type Events = { ping: { n: number } };

describe('policy events', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('is enabled only while someone listens, here or on the telemetry bus', () => {
    const events = new PolicyEvents<Events>('p', 'test');
    expect(events.enabled).toBe(false);
    const off = events.on('ping', () => {});
    expect(events.enabled).toBe(true);
    off();
    off();
    expect(events.enabled).toBe(false);
    const offBus = telemetry.subscribe(() => {});
    expect(events.enabled).toBe(true);
    offBus();
    offBus();
    expect(events.enabled).toBe(false);
    expect(telemetry.active).toBe(false);
  });

  it('delivers the current event to every listener even if one unsubscribes another', () => {
    const events = new PolicyEvents<Events>('p', 'test');
    const seen: string[] = [];
    let offSecond = (): void => {};
    events.on('ping', ({ n }) => {
      seen.push(`first ${n}`);
      offSecond();
    });
    offSecond = events.on('ping', ({ n }) => seen.push(`second ${n}`));
    events.emit('ping', { n: 1 });
    events.emit('ping', { n: 2 });
    expect(seen).toEqual(['first 1', 'second 1', 'first 2']);
  });

  it('keeps a throwing listener from breaking the call, and rethrows its error on a fresh stack', async () => {
    const rethrown: (() => void)[] = [];
    vi.stubGlobal('queueMicrotask', (task: () => void) => rethrown.push(task));
    const clock = new VirtualClock();
    const policy = timeout(5, { clock });
    const bug = new Error('listener bug');
    const later: number[] = [];
    policy.on('timeout', () => {
      throw bug;
    });
    policy.on('timeout', ({ timeoutMs }) => later.push(timeoutMs));
    const call = policy.execute(
      (ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        ),
    );
    const settled = call.catch((error: unknown) => error);
    await clock.advance(5);
    expect(await settled).toMatchObject({ code: 'TIMEOUT' });
    expect(later).toEqual([5]);
    expect(rethrown).toHaveLength(1);
    expect(() => rethrown[0]!()).toThrow(bug);
  });

  it('refuses a listener that is not a function', () => {
    const events = new PolicyEvents<Events>('db', 'test');
    expect(() => events.on('ping', 'nope' as never)).toThrow(
      'db: listener for "ping" must be a function',
    );
  });
});
