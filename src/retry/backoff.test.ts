import { afterEach, describe, expect, it, vi } from 'vitest';
import { failure, type Outcome } from '../core/outcome.js';
import { type Backoff, backoff, type Random } from './backoff.js';

const failed: Outcome = failure(new Error('boom'));
const fixed =
  (value: number): Random =>
  () =>
    value;

/** The delays a backoff gives for attempts 1..count, feeding each delay back as `previous`. */
function delays(b: Backoff, count: number, random: Random): number[] {
  const out: number[] = [];
  let previous = 0;
  for (let attempt = 1; attempt <= count; attempt++) {
    previous = b(attempt, failed, previous, random);
    out.push(previous);
  }
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('backoff.constant', () => {
  it('gives the same delay after every attempt', () => {
    expect(delays(backoff.constant(250), 4, fixed(0.5))).toEqual([250, 250, 250, 250]);
    expect(delays(backoff.constant(0), 2, fixed(0.5))).toEqual([0, 0]);
  });

  it('refuses a bad delay, naming it', () => {
    expect(() => backoff.constant(-1)).toThrow(
      'backoff.constant: option "ms" must be a number of milliseconds >= 0 (got -1)',
    );
    expect(() => backoff.constant('10' as never)).toThrow(/option "ms" .* \(got "10"\)/);
  });

  it("'full' jitter is random_between(0, ms); 'equal' is ms / 2 + random_between(0, ms / 2)", () => {
    const full = backoff.constant(400, { jitter: 'full' });
    expect(delays(full, 3, fixed(0.5))).toEqual([200, 200, 200]);
    expect(delays(full, 2, fixed(0))).toEqual([0, 0]);
    expect(full(1, failed, 0, fixed(0.25))).toBe(100);
    const equal = backoff.constant(400, { jitter: 'equal' });
    expect(delays(equal, 3, fixed(0.5))).toEqual([300, 300, 300]);
    expect(delays(equal, 2, fixed(0))).toEqual([200, 200]);
    expect(delays(backoff.constant(400, { jitter: 'none' }), 2, fixed(0.5))).toEqual([400, 400]);
    expect(delays(backoff.constant(400, {}), 2, fixed(0.5))).toEqual([400, 400]);
  });

  it('uses its own random over the one passed in, and Math.random when none is', () => {
    const own = backoff.constant(400, { jitter: 'full', random: fixed(0.25) });
    expect(own(1, failed, 0, fixed(0.75))).toBe(100);
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const call = backoff.constant(400, { jitter: 'equal' }) as (
      attempt: number,
      outcome: Outcome,
      previous: number,
    ) => number;
    expect(call(1, failed, 0)).toBe(300);
  });

  it('validates its options, refusing decorrelated jitter with the reason', () => {
    expect(() => backoff.constant(100, { jitter: 'decorrelated' } as never)).toThrow(
      new TypeError(
        `backoff.constant: option "jitter" must be one of 'none', 'full', 'equal'; 'decorrelated' grows each delay from the previous one, so only backoff.exponential offers it (got "decorrelated")`,
      ),
    );
    expect(() => backoff.constant(100, { jitter: 'half' as never })).toThrow(
      `backoff.constant: option "jitter" must be one of 'none', 'full', 'equal' (got "half")`,
    );
    expect(() => backoff.constant(100, { random: 0.5 as never })).toThrow(
      'backoff.constant: option "random" must be a function (got 0.5)',
    );
    expect(() => backoff.constant(100, 'full' as never)).toThrow(
      'backoff.constant: options must be an object (got "full")',
    );
  });
});

describe('backoff.linear', () => {
  it('adds stepMs per attempt up to maxMs', () => {
    const b = backoff.linear({ initialMs: 100, stepMs: 50, maxMs: 300 });
    expect(delays(b, 6, fixed(0.5))).toEqual([100, 150, 200, 250, 300, 300]);
  });

  it('defaults to 100 ms steps from 100 ms', () => {
    expect(delays(backoff.linear(), 3, fixed(0.5))).toEqual([100, 200, 300]);
    expect(backoff.linear()(1_000, failed, 0, fixed(0.5))).toBe(30_000);
  });

  it("spreads each delay with 'full' or 'equal' jitter, after the cap", () => {
    const opts = { initialMs: 100, stepMs: 100, maxMs: 250 } as const;
    const full = backoff.linear({ ...opts, jitter: 'full' });
    expect(delays(full, 4, fixed(0.5))).toEqual([50, 100, 125, 125]);
    const equal = backoff.linear({ ...opts, jitter: 'equal' });
    expect(delays(equal, 4, fixed(0.5))).toEqual([75, 150, 187.5, 187.5]);
    expect(delays(equal, 3, fixed(0))).toEqual([50, 100, 125]);
    const own = backoff.linear({ ...opts, jitter: 'full', random: fixed(0.25) });
    expect(own(2, failed, 0, fixed(0.75))).toBe(50);
  });

  it('validates its options', () => {
    expect(() => backoff.linear({ jitter: 'decorrelated' } as never)).toThrow(
      `backoff.linear: option "jitter" must be one of 'none', 'full', 'equal'; 'decorrelated' grows each delay from the previous one, so only backoff.exponential offers it (got "decorrelated")`,
    );
    expect(() => backoff.linear({ random: 'x' as never })).toThrow(
      'backoff.linear: option "random" must be a function (got "x")',
    );
    expect(() => backoff.linear({ stepMs: Number.NaN })).toThrow(
      'backoff.linear: option "stepMs" must be a number of milliseconds >= 0 (got NaN)',
    );
    expect(() => backoff.linear({ initialMs: 500, maxMs: 200 })).toThrow(
      'backoff.linear: option "maxMs" must be a finite number of milliseconds >= initialMs (500) (got 200)',
    );
    expect(() => backoff.linear(5 as never)).toThrow(
      'backoff.linear: options must be an object (got 5)',
    );
  });
});

describe('backoff.exponential', () => {
  const opts = { initialMs: 100, factor: 2, maxMs: 1_000 } as const;

  it("'none' grows by factor from initialMs and stops at maxMs", () => {
    const b = backoff.exponential({ ...opts, jitter: 'none' });
    expect(delays(b, 6, fixed(0.5))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    // factor^n overflows to Infinity long before attempt 5000; the cap still holds.
    expect(b(5_000, failed, 1_000, fixed(0.5))).toBe(1_000);
    const triple = backoff.exponential({ initialMs: 10, factor: 3, maxMs: 1_000, jitter: 'none' });
    expect(delays(triple, 4, fixed(0.5))).toEqual([10, 30, 90, 270]);
  });

  it("'full' is random_between(0, capped exponential)", () => {
    const b = backoff.exponential({ ...opts, jitter: 'full' });
    expect(delays(b, 5, fixed(0.5))).toEqual([50, 100, 200, 400, 500]);
    expect(delays(b, 5, fixed(0))).toEqual([0, 0, 0, 0, 0]);
    const high = delays(b, 5, fixed(0.999_999));
    [100, 200, 400, 800, 1_000].forEach((exp, i) => {
      expect(high[i]).toBeLessThan(exp);
      expect(high[i]).toBeGreaterThan(exp * 0.999);
    });
  });

  it("'equal' is half the capped exponential plus random_between(0, that half)", () => {
    const b = backoff.exponential({ ...opts, jitter: 'equal' });
    expect(delays(b, 5, fixed(0.5))).toEqual([75, 150, 300, 600, 750]);
    expect(delays(b, 5, fixed(0))).toEqual([50, 100, 200, 400, 500]);
    const high = delays(b, 5, fixed(0.999_999));
    [100, 200, 400, 800, 1_000].forEach((exp, i) => {
      expect(high[i]).toBeLessThan(exp);
      expect(high[i]).toBeGreaterThan(exp * 0.999);
    });
  });

  it("'decorrelated' is min(cap, random_between(base, previous * 3)), previous from base", () => {
    const b = backoff.exponential({ ...opts, jitter: 'decorrelated' });
    // previous 0 -> base 100: between(100, 300) = 200; between(100, 600) = 350; ...
    expect(delays(b, 5, fixed(0.5))).toEqual([200, 350, 575, 912.5, 1_000]);
    expect(delays(b, 4, fixed(0))).toEqual([100, 100, 100, 100]);
    // The previous delay, not the attempt number, drives it.
    expect(b(9, failed, 150, fixed(0.5))).toBe(100 + 0.5 * (450 - 100));
    const high = delays(b, 6, fixed(0.999_999));
    expect(high[0]).toBeLessThan(300);
    expect(high[0]).toBeGreaterThan(299);
    expect(Math.max(...high)).toBe(1_000);
  });

  it('uses its own random over the one passed in, and Math.random when none is', () => {
    const own = backoff.exponential({ ...opts, jitter: 'full', random: fixed(0.25) });
    expect(own(1, failed, 0, fixed(0.75))).toBe(25);
    const passed = backoff.exponential({ ...opts, jitter: 'full' });
    expect(passed(2, failed, 0, fixed(0.75))).toBe(150);
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const call = passed as (attempt: number, outcome: Outcome, previous: number) => number;
    expect(call(3, failed, 0)).toBe(200);
  });

  it("defaults to initialMs 100, factor 2, maxMs 30_000 and 'full' jitter", () => {
    const b = backoff.exponential();
    expect(delays(b, 3, fixed(0.5))).toEqual([50, 100, 200]);
    expect(b(50, failed, 0, fixed(0.5))).toBe(15_000);
  });

  it('validates its options, naming option, value and expectation', () => {
    const cases: [unknown, string][] = [
      [{ initialMs: 0 }, 'option "initialMs" must be a finite number of milliseconds > 0 (got 0)'],
      [{ factor: 0.5 }, 'option "factor" must be a finite number >= 1 (got 0.5)'],
      [
        { factor: Number.POSITIVE_INFINITY },
        'option "factor" must be a finite number >= 1 (got Infinity)',
      ],
      [
        { maxMs: 50 },
        'option "maxMs" must be a finite number of milliseconds >= initialMs (100) (got 50)',
      ],
      [
        { maxMs: Number.POSITIVE_INFINITY },
        'option "maxMs" must be a finite number of milliseconds >= initialMs (100) (got Infinity)',
      ],
      [
        { jitter: 'partial' },
        `option "jitter" must be one of 'none', 'full', 'equal', 'decorrelated' (got "partial")`,
      ],
      [{ random: 1 }, 'option "random" must be a function (got 1)'],
      [null, 'options must be an object (got null)'],
    ];
    for (const [options, message] of cases) {
      expect(() => backoff.exponential(options as never)).toThrow(
        `backoff.exponential: ${message}`,
      );
    }
  });
});
