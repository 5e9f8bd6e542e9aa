import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExecutionRejectedError, ShuttingDownError } from '../core/errors.js';
import { VirtualClock } from '../testing/index.js';
import { type GracefulShutdown, gracefulShutdown, type ShutdownOptions } from './shutdown.js';

/** Records what shutdown does to it; its responses end when told (or when cut). */
class FakeServer extends EventEmitter {
  readonly open = new Set<FakeResponse>();
  constructor(readonly log: string[]) {
    super();
  }
  close(): void {
    this.log.push('close');
  }
  closeIdleConnections(): void {
    this.log.push('closeIdleConnections');
  }
  closeAllConnections(): void {
    this.log.push(`closeAllConnections (${this.open.size} busy)`);
    for (const response of [...this.open]) response.end();
  }
  /** A request arrives; answer it with the returned response's `end()`. */
  request(): FakeResponse {
    const response = new FakeResponse(this);
    this.open.add(response);
    this.emit('request', {}, response);
    return response;
  }
}

class FakeResponse extends EventEmitter {
  headersSent = false;
  shouldKeepAlive = true;
  readonly headers: Record<string, string> = {};
  constructor(readonly server: FakeServer) {
    super();
  }
  setHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  end(): void {
    this.headersSent = true;
    this.server.open.delete(this);
    this.emit('close');
  }
}

const made: GracefulShutdown[] = [];
afterEach(() => {
  for (const shutdown of made.splice(0)) shutdown.dispose();
});

function setup(options: ShutdownOptions = {}) {
  const clock = new VirtualClock();
  const log: string[] = [];
  const health = { markNotReady: (reason: string) => log.push(`markNotReady ${reason}`) };
  const shutdown = gracefulShutdown({ signals: [], exit: false, clock, health, ...options });
  made.push(shutdown);
  const server = shutdown.server(new FakeServer(log));
  shutdown.on('stateChange', ({ from, to, exitCode }) =>
    log.push(`${from} -> ${to}${exitCode === undefined ? '' : ` (${exitCode})`}`),
  );
  shutdown.on('forced', ({ reason, requests, tracked }) =>
    log.push(`forced ${reason} requests=${requests} tracked=${tracked}`),
  );
  shutdown.on('hookFailed', ({ hook, timedOut }) => log.push(`hookFailed ${hook} ${timedOut}`));
  return { clock, log, shutdown, server };
}

describe('gracefulShutdown sequence', () => {
  it('fails readiness, waits the delay, stops accepting, drains, cuts the rest, runs hooks, stops with 0', async () => {
    const { clock, log, shutdown, server } = setup({ readinessDelayMs: 5000 });
    shutdown.onShutdown('db', () => void log.push('hook db'));
    shutdown.onShutdown('cache', () => void log.push('hook cache'));
    const slow = server.request();
    const done = shutdown.begin('deploy');
    expect(shutdown.state).toBe('draining');
    expect(log).toEqual(['running -> draining', 'markNotReady deploy']);
    await clock.advance(4999);
    expect(log).not.toContain('close');
    await clock.advance(1);
    expect(log.slice(2)).toEqual(['close', 'closeIdleConnections']);
    await clock.advance(10_000);
    expect(shutdown.state).toBe('draining');
    slow.end();
    expect(await done).toBe(0);
    expect(log.slice(4)).toEqual([
      'closeAllConnections (0 busy)',
      'hook cache',
      'hook db',
      'draining -> stopped (0)',
    ]);
    expect(shutdown.state).toBe('stopped');
    expect(clock.armedTimers).toBe(0);
  });

  it('counts requests exactly and asks every response made while draining to close its connection', async () => {
    const { clock, shutdown, server } = setup({ readinessDelayMs: 100 });
    const before = server.request();
    const answered = server.request();
    answered.end();
    expect(shutdown.requests).toBe(1);
    shutdown.begin();
    expect(before.headers).toEqual({ connection: 'close' });
    expect(before.shouldKeepAlive).toBe(false);
    const during = server.request();
    expect(during.headers).toEqual({ connection: 'close' });
    expect(shutdown.requests).toBe(2);
    await clock.advance(100);
    before.end();
    await clock.advance(0);
    expect(shutdown.state).toBe('draining');
    during.end();
    expect(await shutdown.done).toBe(0);
  });

  it('leaves headers already sent alone', () => {
    const { shutdown, server } = setup({ readinessDelayMs: 100 });
    const response = server.request();
    response.headersSent = true;
    shutdown.begin();
    expect(response.headers).toEqual({});
  });

  it('cuts what outlives the drain deadline, still runs the hooks, and stops with 1', async () => {
    const { clock, log, shutdown, server } = setup({ drainTimeoutMs: 1000 });
    shutdown.onShutdown('flush', () => void log.push('hook flush'));
    server.request();
    shutdown.track(new Promise(() => {}));
    shutdown.begin();
    await clock.advance(999);
    expect(log).not.toContain('hook flush');
    await clock.advance(1);
    expect(await shutdown.done).toBe(1);
    expect(log.slice(-4)).toEqual([
      'forced drain-timeout requests=1 tracked=1',
      'closeAllConnections (1 busy)',
      'hook flush',
      'draining -> stopped (1)',
    ]);
    expect(clock.armedTimers).toBe(0);
  });

  it('waits for tracked work, settled either way', async () => {
    const { clock, log, shutdown } = setup();
    shutdown.onShutdown('last', () => void log.push('hook last'));
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const a = shutdown.track(new Promise<void>((r) => (resolve = r)));
    const b = shutdown.track(new Promise<void>((_, r) => (reject = r)));
    b.catch(() => {});
    expect(shutdown.tracked).toBe(2);
    shutdown.begin();
    await clock.advance(100);
    resolve();
    await a;
    expect(log).not.toContain('hook last');
    reject(new Error('boom'));
    expect(await shutdown.done).toBe(0);
    expect(log).toContain('hook last');
    expect(shutdown.tracked).toBe(0);
  });

  it('begin() twice is one shutdown', async () => {
    const { shutdown } = setup();
    const first = shutdown.begin('a');
    expect(shutdown.begin('b')).toBe(first);
    expect(await first).toBe(0);
  });
});

describe('gracefulShutdown hooks', () => {
  it('run in reverse order; one that throws or hangs is reported and the rest still run', async () => {
    const { clock, log, shutdown } = setup();
    let hungSignal: AbortSignal | undefined;
    shutdown.onShutdown('first', () => void log.push('hook first'));
    shutdown.onShutdown(
      'hangs',
      (signal) => {
        hungSignal = signal;
        return new Promise(() => {});
      },
      { timeoutMs: 200 },
    );
    shutdown.onShutdown('throws', () => {
      throw new Error('boom');
    });
    shutdown.onShutdown('rejects', async () => Promise.reject(new Error('async boom')));
    const removed = shutdown.onShutdown('removed', () => void log.push('hook removed'));
    removed();
    shutdown.begin();
    await clock.advance(199);
    expect(log).toContain('hookFailed throws false');
    expect(log).not.toContain('hook first');
    expect(hungSignal?.aborted).toBe(false);
    await clock.advance(1);
    expect(await shutdown.done).toBe(1);
    expect(log.slice(-5)).toEqual([
      'hookFailed rejects false',
      'hookFailed throws false',
      'hookFailed hangs true',
      'hook first',
      'draining -> stopped (1)',
    ]);
    expect(hungSignal?.aborted).toBe(true);
    expect(hungSignal?.reason).toMatchObject({ name: 'TimeoutError', timeoutMs: 200 });
    expect(clock.armedTimers).toBe(0);
  });

  it('a readiness control that throws is reported and the shutdown goes on', async () => {
    const broken = {
      markNotReady() {
        throw new Error('registry gone');
      },
    };
    const { log, shutdown } = setup({ health: broken });
    expect(await shutdown.begin()).toBe(1);
    expect(log).toContain('hookFailed markNotReady false');
  });
});

describe('gracefulShutdown guard', () => {
  it('lets calls through until the servers stop accepting, then refuses; its running calls are waited for', async () => {
    const { clock, log, shutdown } = setup({ readinessDelayMs: 100 });
    shutdown.onShutdown('last', () => void log.push('hook last'));
    expect(await shutdown.guard.execute(() => 'before')).toBe('before');
    let finish!: (value: string) => void;
    const running = shutdown.guard.execute(() => new Promise<string>((r) => (finish = r)));
    expect(shutdown.tracked).toBe(1);
    shutdown.begin();
    // During the readiness delay the load balancer still sends traffic: keep serving it.
    expect(await shutdown.guard.execute(() => 'during the delay')).toBe('during the delay');
    await clock.advance(100);
    const refused = await shutdown.guard.execute(() => 'never').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ShuttingDownError);
    expect(refused).toBeInstanceOf(ExecutionRejectedError);
    expect(refused).toMatchObject({ code: 'SHUTTING_DOWN', name: 'ShuttingDownError' });
    expect((refused as ShuttingDownError).retryable).toBe(false);
    await clock.advance(1000);
    expect(log).not.toContain('hook last');
    finish('in flight');
    expect(await running).toBe('in flight');
    expect(await shutdown.done).toBe(0);
    expect(log).toContain('hook last');
  });

  it('releases its count when the call fails', async () => {
    const { shutdown } = setup();
    await expect(shutdown.guard.execute(() => Promise.reject(new Error('down')))).rejects.toThrow(
      'down',
    );
    expect(shutdown.tracked).toBe(0);
  });
});

describe('gracefulShutdown signals', () => {
  const signal = 'SIGUSR2';
  const baseline = process.listenerCount(signal);

  it('the first signal starts it, a second forces an immediate stop with 1, and the listeners go', async () => {
    const { clock, log, shutdown, server } = setup({ signals: [signal], readinessDelayMs: 5000 });
    shutdown.onShutdown('skipped', () => void log.push('hook skipped'));
    server.request();
    expect(process.listenerCount(signal)).toBe(baseline + 1);
    process.emit(signal, signal);
    expect(shutdown.state).toBe('draining');
    expect(log).toContain(`markNotReady ${signal}`);
    await clock.advance(1000);
    process.emit(signal, signal);
    expect(await shutdown.done).toBe(1);
    expect(log.slice(-3)).toEqual([
      'forced second-signal requests=1 tracked=0',
      'closeAllConnections (1 busy)',
      'draining -> stopped (1)',
    ]);
    expect(log).not.toContain('hook skipped');
    expect(log).not.toContain('close');
    expect(process.listenerCount(signal)).toBe(baseline);
    expect(clock.armedTimers).toBe(0);
  });

  it('a second signal during a hanging hook aborts it', async () => {
    const { clock, shutdown } = setup({ signals: [signal] });
    let hookSignal: AbortSignal | undefined;
    shutdown.onShutdown('hangs', (s) => {
      hookSignal = s;
      return new Promise(() => {});
    });
    process.emit(signal, signal);
    await clock.advance(10);
    expect(hookSignal?.aborted).toBe(false);
    process.emit(signal, signal);
    expect(await shutdown.done).toBe(1);
    expect(hookSignal?.aborted).toBe(true);
    expect(clock.armedTimers).toBe(0);
  });

  it('listeners are removed when it stops normally, and on dispose()', async () => {
    const a = setup({ signals: [signal] });
    const b = setup({ signals: [signal, 'SIGHUP'] });
    expect(process.listenerCount(signal)).toBe(baseline + 2);
    expect(await a.shutdown.begin()).toBe(0);
    expect(process.listenerCount(signal)).toBe(baseline + 1);
    b.shutdown.dispose();
    expect(b.shutdown.state).toBe('stopped');
    expect(b.log).toEqual(['running -> stopped (0)']);
    expect(await b.shutdown.done).toBe(0);
    expect(process.listenerCount(signal)).toBe(baseline);
  });

  it('dispose() during a shutdown stops it where it is, with 1, leaving no timer', async () => {
    const { clock, log, shutdown } = setup({ readinessDelayMs: 5000 });
    shutdown.begin();
    shutdown.dispose();
    expect(await shutdown.done).toBe(1);
    await clock.advance(10_000);
    expect(log).not.toContain('close');
    expect(clock.armedTimers).toBe(0);
  });

  it('with exit: true it calls process.exit with the code', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      const { clock, shutdown, server } = setup({ exit: true, drainTimeoutMs: 10 });
      server.request();
      const done = shutdown.begin();
      expect(exit).not.toHaveBeenCalled();
      await clock.advance(10);
      expect(await done).toBe(1);
      expect(exit).toHaveBeenCalledTimes(1);
      expect(exit).toHaveBeenCalledWith(1);
    } finally {
      exit.mockRestore();
    }
  });
});

describe('gracefulShutdown options and registration', () => {
  it.each([
    [{ signals: 'SIGTERM' }, 'shutdown: option "signals" must be an array of signal names'],
    [{ signals: ['SIGNOPE'] }, 'option "signals" must be an array of signal names'],
    [
      { readinessDelayMs: -1 },
      'option "readinessDelayMs" must be a number of milliseconds >= 0 (got -1)',
    ],
    [
      { drainTimeoutMs: Number.NaN },
      'option "drainTimeoutMs" must be a number of milliseconds >= 0 or Infinity (got NaN)',
    ],
    [{ exit: 'no' }, 'option "exit" must be a boolean (got "no")'],
    [{ health: {} }, 'option "health" must be a ReadinessControl'],
    [{ clock: {} }, 'option "clock" must be a Clock'],
    [{ name: '' }, 'option "name" must be a non-empty string'],
  ])('refuses %j', (options, message) => {
    expect(() => gracefulShutdown(options as ShutdownOptions)).toThrow(TypeError);
    expect(() => gracefulShutdown(options as ShutdownOptions)).toThrow(message);
  });

  it('refuses bad hooks, servers and tracked values', () => {
    const { shutdown } = setup();
    expect(() => shutdown.onShutdown('', () => {})).toThrow(TypeError);
    expect(() => shutdown.onShutdown('x', 'no' as never)).toThrow(
      'shutdown: onShutdown("x") needs a function (got "no")',
    );
    expect(() => shutdown.onShutdown('x', () => {}, { timeoutMs: -5 })).toThrow(
      'shutdown: onShutdown("x"): option "timeoutMs" must be a number of milliseconds >= 0 or Infinity (got -5)',
    );
    expect(() => shutdown.server({} as never)).toThrow('server() needs a node:http');
    expect(() => shutdown.track(42 as never)).toThrow('track() needs a promise (got 42)');
  });

  it('takes an object exposing its server, once; a server added while draining is drained too', async () => {
    const { clock, log, shutdown } = setup({ readinessDelayMs: 100 });
    const inner = new FakeServer(log);
    const app = { server: inner };
    expect(shutdown.server(app)).toBe(app);
    shutdown.server(inner);
    const busy = inner.request();
    shutdown.begin();
    const late = new FakeServer(log);
    shutdown.server(late);
    expect(late.request().headers).toEqual({ connection: 'close' });
    await clock.advance(100);
    // The first fake from setup, the app's, and the late one: each closed once.
    expect(log.filter((line) => line === 'close')).toHaveLength(3);
    expect(shutdown.requests).toBe(2);
    busy.end();
    for (const response of [...late.open]) response.end();
    expect(await shutdown.done).toBe(0);
  });
});

describe('gracefulShutdown with HTTP/2 sessions', () => {
  class FakeSession extends EventEmitter {
    closed = false;
    destroyed = false;
    constructor(readonly log: string[]) {
      super();
    }
    close(): void {
      this.closed = true;
      this.log.push('session close');
    }
    destroy(): void {
      this.destroyed = true;
      this.log.push('session destroy');
      this.emit('close');
    }
  }

  it('sends a GOAWAY when the servers stop accepting, and destroys what is left at the deadline', async () => {
    const { clock, log, server, shutdown } = setup({ readinessDelayMs: 100, drainTimeoutMs: 1000 });
    const session = new FakeSession(log);
    server.emit('session', session);
    server.request();
    shutdown.begin();
    await clock.advance(99);
    expect(session.closed).toBe(false);
    await clock.advance(1);
    expect(log.slice(-3)).toEqual(['close', 'closeIdleConnections', 'session close']);
    const late = new FakeSession(log);
    server.emit('session', late);
    expect(late.closed).toBe(true);
    await clock.advance(1000);
    expect(await shutdown.done).toBe(1);
    expect(session.destroyed).toBe(true);
    expect(late.destroyed).toBe(true);
  });
});

describe('gracefulShutdown drain, against a model', () => {
  it('stops when the last request ends, or at the drain deadline with 1 if any is left', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 8 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 2000 }),
        async (ends, readinessDelayMs, drainTimeoutMs) => {
          const deadline = readinessDelayMs + drainTimeoutMs;
          // A request ending exactly at the deadline is a tie the model does not decide.
          fc.pre(!ends.includes(deadline));
          const { clock, shutdown, server } = setup({ readinessDelayMs, drainTimeoutMs });
          let stoppedAt = -1;
          shutdown.on('stateChange', ({ to }) => {
            if (to === 'stopped') stoppedAt = clock.now();
          });
          for (const end of ends) {
            const response = server.request();
            clock.setTimeout(() => response.end(), end);
          }
          shutdown.begin();
          await clock.advance(4000);
          // Nothing left when the drain starts: clean at once, even with no time to drain.
          const last = Math.max(readinessDelayMs, ...ends);
          const clean = last === readinessDelayMs || last < deadline;
          const expected = clean ? [last, 0] : [deadline, 1];
          expect([stoppedAt, await shutdown.done]).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
