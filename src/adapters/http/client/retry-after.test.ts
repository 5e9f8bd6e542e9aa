import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attachRetryAfter, parseRetryAfter, retryAfterMs } from './retry-after.js';

const now = Date.parse('Mon, 30 Nov 2026 12:00:00 GMT');

function response(status: number, headers: Record<string, string>): Response {
  return new Response(null, { status, headers });
}

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date against now, a past one as 0', () => {
    expect(parseRetryAfter('Mon, 30 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('reads every delta and every HTTP-date as the wait it names', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10 ** 9 }), (seconds) => {
        expect(parseRetryAfter(String(seconds), now)).toBe(seconds * 1000);
        const at = new Date(now + seconds * 1000).toUTCString();
        expect(parseRetryAfter(at, now)).toBe(seconds * 1000);
      }),
    );
  });

  it('refuses what is neither', () => {
    for (const value of ['-1', '1.5', 'soon', '', '2026-11-30T12:00:30Z', '12 ms']) {
      expect(parseRetryAfter(value, now), value).toBeUndefined();
    }
  });
});

describe('retryAfterMs', () => {
  it('prefers Retry-After to the rate-limit headers', () => {
    const r = response(429, { 'retry-after': '2', 'ratelimit-reset': '9' });
    expect(retryAfterMs(r, now)).toBe(2_000);
  });

  it('falls back to the rate-limit headers when Retry-After is malformed', () => {
    expect(retryAfterMs(response(429, { 'retry-after': 'x', 'ratelimit-reset': '9' }), now)).toBe(
      9_000,
    );
  });

  it('takes the longest t of the exhausted policies in the structured RateLimit field', () => {
    const r = response(503, { ratelimit: '"burst";r=0;t=5, "day";r=0;t=60, "min";r=10;t=900' });
    expect(retryAfterMs(r, now)).toBe(60_000);
    expect(retryAfterMs(response(503, { ratelimit: '"day";r=3;t=60' }), now)).toBeUndefined();
  });

  it('honours RateLimit-Reset and X-RateLimit-Reset on a 429, or when the quota is spent', () => {
    expect(retryAfterMs(response(429, { 'x-ratelimit-reset': '7' }), now)).toBe(7_000);
    const spent = response(503, { 'ratelimit-remaining': '0', 'ratelimit-reset': '3' });
    expect(retryAfterMs(spent, now)).toBe(3_000);
    const left = response(503, { 'x-ratelimit-remaining': '40', 'x-ratelimit-reset': '3600' });
    expect(retryAfterMs(left, now)).toBeUndefined();
  });

  it('reads a reset that can only be a Unix timestamp as one', () => {
    const at = now / 1000 + 42;
    expect(retryAfterMs(response(429, { 'x-ratelimit-reset': String(at) }), now)).toBe(42_000);
  });

  it('is undefined without any of these headers', () => {
    expect(retryAfterMs(response(503, {}), now)).toBeUndefined();
  });
});

describe('attachRetryAfter', () => {
  it('adds a read-only, non-enumerable retryAfterMs to the response', () => {
    const r = response(503, { 'retry-after': '3' });
    attachRetryAfter(r, now);
    expect((r as { retryAfterMs?: number }).retryAfterMs).toBe(3_000);
    expect(Object.keys(r)).not.toContain('retryAfterMs');
    expect(() => {
      (r as { retryAfterMs?: number }).retryAfterMs = 1;
    }).toThrow(TypeError);
  });

  it('adds nothing when the response names no wait', () => {
    const r = response(503, {});
    attachRetryAfter(r, now);
    expect('retryAfterMs' in r).toBe(false);
  });
});
