import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bulkhead } from '../bulkhead/index.js';
import { retry } from '../retry/index.js';
import { VirtualClock } from '../testing/index.js';
import { timeout } from '../timeout/index.js';
import type { ExecutionContext } from './context.js';
import { PolicyEvents } from './events.js';
import { pipeline } from './pipeline.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

/** A native promise whose own `then` property shadows the real one. */
function shadowed<T>(value: T): Promise<T> {
  const promise = Promise.resolve(value);
  Object.defineProperty(promise, 'then', { value: () => undefined });
  return promise;
}

describe('execute edges', () => {
  it('reads a native promise with an own then through the real then, as await does', async () => {
    await expect(pipeline().execute(() => shadowed(42))).resolves.toBe(42);
    const clock = new VirtualClock();
    const guarded = pipeline(retry({ clock }), timeout(100, { clock }), bulkhead({ limit: 1 }));
    await expect(guarded.execute(() => shadowed('ok'))).resolves.toBe('ok');
    expect(guarded.execute(() => shadowed('again')).then).toBe(Promise.prototype.then);
  });

  it('never throws synchronously: a throwing options getter or a revoked proxy rejects', async () => {
    const clock = new VirtualClock();
    const bug = new Error('getter bug');
    const options = {
      get key(): string {
        throw bug;
      },
    };
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    for (const policy of [pipeline(), timeout(10, { clock }), bulkhead({ limit: 1 })]) {
      let ran = false;
      const task = () => {
        ran = true;
      };
      await expect(policy.execute(task, options)).rejects.toBe(bug);
      await expect(policy.execute(task, proxy)).rejects.toThrow(TypeError);
      await expect(policy.execute(task, null as never)).rejects.toThrow(
        'execute() options must be an object (got null)',
      );
      expect(ran).toBe(false);
    }
  });

  it('hands the caller priority to the task and every layer, critical by default', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const policy = pipeline(retry({ clock }), timeout(100, { clock }));
    await policy.execute((ctx) => seen.push(ctx.priority));
    await policy.execute((ctx) => seen.push(ctx.priority), { priority: 'sheddable' });
    expect(seen).toEqual(['critical', 'sheddable']);
    await expect(pipeline().execute(() => 1, { priority: 'urgent' as never })).rejects.toThrow(
      `pipeline: execute() option "priority" must be one of 'critical-plus', 'critical', 'sheddable-plus', 'sheddable' (got "urgent")`,
    );
  });

  it('reads each option once', async () => {
    let reads = 0;
    const signal = new AbortController().signal;
    const options = {
      get signal(): AbortSignal {
        reads++;
        return signal;
      },
    };
    await pipeline().execute(() => 1, options);
    expect(reads).toBe(1);
  });

  it('a signal read after the call settled leaves no listener on the caller signal', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const policy = pipeline(timeout(1000, { clock }));
    const kept: ExecutionContext[] = [];
    for (let i = 0; i < 1000; i++) {
      await policy.execute((ctx) => kept.push(ctx), { signal: controller.signal });
    }
    for (const ctx of kept) expect(ctx.signal.aborted).toBe(false);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // The late signal is a snapshot: it never aborts, and leaves nothing behind when asked.
    controller.abort('late');
    expect(kept[0]!.signal.aborted).toBe(false);
  });

  it('refuses a clock whose unref or ref is not a function, or that has only one of them', () => {
    const base = { now: () => 0, setTimeout: () => 1, clearTimeout: () => {} };
    for (const clock of [
      { ...base, unref: 1, ref: () => {} },
      { ...base, unref: () => {}, ref: 'ref' },
      { ...base, unref: () => {} },
    ]) {
      expect(() => timeout(10, { clock: clock as never })).toThrow(
        /timeout: option "clock" must be a Clock whose unref\(\) and ref\(\) are functions, or neither is set/,
      );
    }
    expect(() => timeout(10, { clock: base })).not.toThrow();
  });

  it('reports an async listener that rejects as an uncaught exception', async () => {
    const rethrown: (() => void)[] = [];
    vi.stubGlobal('queueMicrotask', (task: () => void) => rethrown.push(task));
    const events = new PolicyEvents<{ ping: { n: number } }>('p', 'test');
    const bug = new Error('async listener bug');
    events.on('ping', async () => {
      throw bug;
    });
    events.emit('ping', { n: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(rethrown).toHaveLength(1);
    expect(() => rethrown[0]!()).toThrow(bug);
  });
});
