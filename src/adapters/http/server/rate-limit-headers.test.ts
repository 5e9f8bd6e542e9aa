import { describe, expect, it } from 'vitest';
import { quotaPolicy, RateLimitFields, sfString, wholeSeconds } from './rate-limit-headers.js';

describe('RateLimit fields (draft-ietf-httpapi-ratelimit-headers, structured-field form)', () => {
  it('writes a policy name as an sf-string, escaping quotes and backslashes', () => {
    expect(sfString('api')).toBe('"api"');
    expect(sfString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(sfString('tab\there é')).toBe('"tab_here _"');
  });

  it('states a quota per whole-second window', () => {
    expect(quotaPolicy('api', 100, 60_000)).toBe('"api";q=100;w=60');
    expect(quotaPolicy('api', 5, 1000)).toBe('"api";q=5;w=1');
    expect(quotaPolicy('api', 0, 1000)).toBe('"api";q=0;w=1');
  });

  it('restates an interval that is not whole seconds at the same rate', () => {
    expect(quotaPolicy('api', 10, 500)).toBe('"api";q=20;w=1');
    expect(quotaPolicy('api', 3, 1500)).toBe('"api";q=2;w=1');
    expect(quotaPolicy('api', 1, 1500)).toBe('"api";q=2;w=3');
    // No whole quota within an hour: the units that fit the interval rounded up to seconds.
    expect(quotaPolicy('api', 1, 333.3)).toBe('"api";q=3;w=1');
  });

  it('reports whole units remaining and the seconds until the quota is whole, rounded up', () => {
    const fields = new RateLimitFields('my "api"', 10, 60_000);
    expect(fields.policy).toBe('"my \\"api\\"";q=10;w=60');
    expect(fields.current(4, 30_000)).toBe('"my \\"api\\"";r=4;t=30');
    expect(fields.current(2.7, 1)).toBe('"my \\"api\\"";r=2;t=1');
    expect(fields.current(-1, 0)).toBe('"my \\"api\\"";r=0;t=0');
  });

  it('rounds Retry-After up to whole seconds', () => {
    expect(wholeSeconds(0)).toBe(0);
    expect(wholeSeconds(1)).toBe(1);
    expect(wholeSeconds(1000)).toBe(1);
    expect(wholeSeconds(1001)).toBe(2);
    expect(wholeSeconds(-5)).toBe(0);
  });
});
