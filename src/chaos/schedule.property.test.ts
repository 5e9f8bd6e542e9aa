import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSchedule, type Weekday } from './schedule.js';

const weekdays: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** The same question answered through `Date`'s UTC calendar, minute by minute. */
function reference(now: number, from: number, to: number, days: readonly Weekday[]): boolean {
  const date = new Date(now);
  const minute = date.getUTCHours() * 60 + date.getUTCMinutes();
  const today = weekdays[date.getUTCDay()]!;
  const yesterday = weekdays[(date.getUTCDay() + 6) % 7]!;
  if (from < to) return days.includes(today) && minute >= from && minute < to;
  return (days.includes(today) && minute >= from) || (days.includes(yesterday) && minute < to);
}

describe('daily schedule windows', () => {
  it("agree with Date's UTC calendar at any time, for any window and days", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 24 * 60 - 1 }),
        fc.integer({ min: 1, max: 24 * 60 }),
        fc.uniqueArray(fc.constantFrom(...weekdays), { minLength: 1 }),
        // Whole minutes from 1900 to 2200, so the reference's minute arithmetic is exact.
        fc.integer({ min: -36_816_480, max: 121_000_000 }).map((minutes) => minutes * 60_000),
        (from, to, days, now) => {
          fc.pre(from !== to);
          const schedule = compileSchedule('chaos-monkey', 'schedule', [
            { from: hhmm(from), to: hhmm(to), days },
          ])!;
          expect(schedule(now)).toBe(reference(now, from, to, days));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
