import { afterEach, describe, expect, it } from 'vitest';
import { retry } from '../retry/index.js';
import { telemetry } from '../telemetry.js';
import { systemClock } from './clock.js';
import { type ExecutionScope, executionScope, useExecutionScope } from './execution-scope.js';
import { pipeline } from './pipeline.js';

/** A scope that logs what the core asks of it, and marks what runs inside it. */
function loggingScope(log: string[]): ExecutionScope<string> {
  let inside = 'outside';
  const within = <T>(where: string, run: () => T): T => {
    const before = inside;
    inside = where;
    try {
      return run();
    } finally {
      inside = before;
    }
  };
  return {
    open: (policy, kind, call, key) => {
      log.push(`open ${policy} ${kind} ${typeof call} ${key}`);
      return `call of ${policy}`;
    },
    enter: (handle, run) => within(handle, run),
    attempt: (handle, attempt, run) => {
      log.push(`attempt ${attempt} of ${handle}, from ${inside}`);
      return within(`attempt ${attempt}`, run);
    },
    detached: (run) => within('detached', run),
    get inside() {
      return inside;
    },
  } as ExecutionScope<string> & { readonly inside: string };
}

describe('execution scope', () => {
  let stops: (() => void)[] = [];
  afterEach(() => {
    for (const stop of stops) stop();
    stops = [];
  });

  it('runs each observed call, and each attempt of it, through the scope in use', async () => {
    const log: string[] = [];
    const scope = loggingScope(log) as ExecutionScope<string> & { readonly inside: string };
    stops.push(useExecutionScope(scope));
    stops.push(telemetry.subscribe(() => {}, { executions: true }));
    const policy = pipeline(retry({ maxAttempts: 2, backoff: () => 0 }), { name: 'api' });
    const seen: string[] = [];
    await policy.execute(
      (ctx) => {
        seen.push(scope.inside);
        if (ctx.attempt === 1) throw new Error('once');
        return 'ok';
      },
      { key: 'k' },
    );
    expect(log).toEqual([
      'open api pipeline number k',
      'attempt 1 of call of api, from call of api',
      'attempt 2 of call of api, from outside',
    ]);
    expect(seen).toEqual(['attempt 1', 'attempt 2']);
  });

  it('runs attempts through the scope when only execution events are wanted', async () => {
    const log: string[] = [];
    const scope = loggingScope(log) as ExecutionScope<string> & { readonly inside: string };
    stops.push(useExecutionScope(scope));
    const types: string[] = [];
    stops.push(
      telemetry.subscribe((event) => types.push(event.type), { executions: true, attempts: false }),
    );
    let seen = '';
    const value = await retry().execute(() => {
      seen = scope.inside;
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(seen).toBe('attempt 1');
    expect(log).toEqual([
      'open retry retry number undefined',
      'attempt 1 of call of retry, from call of retry',
    ]);
    expect(types).toEqual(['success', 'execution']);
  });

  it('times an attempt whose task throws at once inside the scope as a failure', async () => {
    stops.push(useExecutionScope(loggingScope([])));
    const attempts: string[] = [];
    stops.push(
      telemetry.subscribe(
        (event) => {
          if (event.type === 'attempt') attempts.push(event.detail.outcome);
        },
        { attempts: true },
      ),
    );
    const thrown = new Error('at once');
    await expect(
      retry({ maxAttempts: 1 }).execute(() => {
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    expect(attempts).toEqual(['failure']);
  });

  it('is not asked about calls nobody observes', async () => {
    const log: string[] = [];
    stops.push(useExecutionScope(loggingScope(log)));
    await retry().execute(() => 'ok');
    expect(log).toEqual([]);
  });

  it('allows one scope at a time, and its disposer frees the place', () => {
    const stop = useExecutionScope(loggingScope([]));
    expect(() => useExecutionScope(loggingScope([]))).toThrow('already in use');
    stop();
    stop();
    expect(executionScope()).toBeUndefined();
    stops.push(useExecutionScope(loggingScope([])));
  });

  it("arms the system clock's timers through the scope's detached()", async () => {
    const scope = loggingScope([]) as ExecutionScope<string> & { readonly inside: string };
    stops.push(useExecutionScope(scope));
    let armedIn = '';
    const originalSetTimeout = globalThis.setTimeout;
    await new Promise<void>((resolve) => {
      globalThis.setTimeout = ((callback: () => void, ms: number) => {
        armedIn = scope.inside;
        return originalSetTimeout(callback, ms);
      }) as typeof setTimeout;
      try {
        systemClock.setTimeout(resolve, 0);
      } finally {
        globalThis.setTimeout = originalSetTimeout;
      }
    });
    expect(armedIn).toBe('detached');
  });
});
