import { describe, expect, it } from 'vitest';
import { bulkhead, gracefulShutdown, healthRegistry, rateLimiter } from '../../../index.js';
import { budgetFrom, priorityFrom, resolveServerOptions } from './options.js';

describe('server policy options', () => {
  it('fills in the defaults', () => {
    const s = resolveServerOptions(undefined);
    expect(s).toMatchObject({
      deadlineHeader: 'x-request-timeout-ms',
      priorityHeader: 'x-request-priority',
      minBudgetMs: 0,
      propagate: false,
      retryAfterMs: 1000,
    });
    expect([...s.healthPaths]).toEqual([
      ['/livez', 'liveness'],
      ['/readyz', 'readiness'],
      ['/health', 'health'],
    ]);
  });

  it('takes the policies it is given', () => {
    const shutdown = gracefulShutdown({ signals: [], exit: false });
    try {
      const s = resolveServerOptions({
        shedder: bulkhead({ limit: 1 }),
        rateLimiter: rateLimiter({ limit: 1 }),
        health: healthRegistry(),
        shutdown,
        healthPaths: { readiness: '/ready', health: false },
        deadlineHeader: 'X-Budget',
      });
      expect([...s.healthPaths.keys()]).toEqual(['/livez', '/ready']);
      expect(s.deadlineHeader).toBe('x-budget');
    } finally {
      shutdown.dispose();
    }
  });

  it.each([
    [{ shedder: {} }, 'option "shedder" must be a policy (an object with execute()) (got {})'],
    [{ rateLimiter: bulkhead({ limit: 1 }) }, 'option "rateLimiter" must be a RateLimiterPolicy'],
    [{ health: {} }, 'option "health" must be a HealthRegistry'],
    [{ shutdown: { server() {} } }, 'option "shutdown" must be a GracefulShutdown'],
    [{ keyOf: 'ip' }, 'option "keyOf" must be a function (got "ip")'],
    [{ priorityOf: 1 }, 'option "priorityOf" must be a function (got 1)'],
    [{ deadlineHeader: 'x budget' }, 'option "deadlineHeader" must be a header name'],
    [{ priorityHeader: '' }, 'option "priorityHeader" must be a header name'],
    [{ minBudgetMs: -1 }, 'option "minBudgetMs" must be a number of milliseconds >= 0 (got -1)'],
    [{ retryAfterMs: Number.NaN }, 'option "retryAfterMs" must be a number of milliseconds'],
    [{ propagate: 'yes' }, 'option "propagate" must be a boolean (got "yes")'],
    [{ healthPaths: { readiness: 'readyz' } }, 'option "healthPaths.readiness" must be a path'],
    [
      { healthPaths: { liveness: '/h', health: '/h' } },
      'option "healthPaths.health" must be a path no other',
    ],
    [
      { healthPaths: { startup: '/s' } },
      'option "healthPaths" must be an object with \'liveness\'',
    ],
    [{ clock: {} }, 'option "clock" must be a Clock'],
    [5, 'serverPolicy: options must be an object (got 5)'],
  ])('refuses %j', (options, message) => {
    expect(() => resolveServerOptions(options)).toThrow(TypeError);
    expect(() => resolveServerOptions(options)).toThrow(message);
  });
});

describe('request headers', () => {
  it('reads a budget as decimal milliseconds, and anything else as none', () => {
    expect(budgetFrom('250')).toBe(250);
    expect(budgetFrom(' 12.5 ')).toBe(12.5);
    expect(budgetFrom('-3')).toBe(-3);
    expect(budgetFrom('0')).toBe(0);
    for (const junk of [undefined, '', ' ', 'soon', '1e3', '0x10', 'Infinity', ['1', '2']]) {
      expect(budgetFrom(junk), String(junk)).toBeNaN();
    }
  });

  it('reads a priority by its exact name, and anything else as none', () => {
    expect(priorityFrom('sheddable')).toBe('sheddable');
    expect(priorityFrom('critical-plus')).toBe('critical-plus');
    expect(priorityFrom('Sheddable')).toBeUndefined();
    expect(priorityFrom(['critical'])).toBeUndefined();
    expect(priorityFrom(undefined)).toBeUndefined();
  });
});
