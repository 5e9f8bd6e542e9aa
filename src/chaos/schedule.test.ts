import { describe, expect, it } from 'vitest';
import { compileSchedule, type Schedule } from './schedule.js';

const at = (iso: string) => Date.parse(iso);

function compile(windows: unknown): Schedule {
  const schedule = compileSchedule('chaos-monkey', 'schedule', windows);
  if (schedule === undefined) throw new Error('expected a schedule');
  return schedule;
}

describe('schedules', () => {
  it('has none when no windows are given: always on', () => {
    expect(compileSchedule('chaos-monkey', 'schedule', undefined)).toBeUndefined();
  });

  it('covers an absolute window from start, included, to end, excluded', () => {
    const schedule = compile([{ start: 1_000, end: 2_000 }]);
    expect([999, 1_000, 1_999, 2_000].map(schedule)).toEqual([false, true, true, false]);
    const open = compile([{ start: 5_000, end: Number.POSITIVE_INFINITY }]);
    expect([4_999, 5_000, 1e15].map(open)).toEqual([false, true, true]);
  });

  it('covers daily hours in UTC on the given weekdays, like business hours', () => {
    const schedule = compile([
      { from: '09:00', to: '17:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] },
    ]);
    // 2026-11-30 is a Monday; 2026-12-04 a Friday; 2026-12-05 a Saturday.
    expect(
      [
        '2026-11-30T08:59:59.999Z',
        '2026-11-30T09:00:00.000Z',
        '2026-11-30T16:59:59.999Z',
        '2026-11-30T17:00:00.000Z',
        '2026-12-04T12:00:00.000Z',
        '2026-12-05T12:00:00.000Z',
        '2026-12-06T12:00:00.000Z',
      ].map((iso) => schedule(at(iso))),
    ).toEqual([false, true, true, false, true, false, false]);
  });

  it('runs a window past midnight, belonging to the day it starts on', () => {
    const schedule = compile([{ from: '22:00', to: '02:00', days: ['fri'] }]);
    expect(
      [
        '2026-12-04T21:59:59.999Z', // Friday, before
        '2026-12-04T22:00:00.000Z', // Friday, start
        '2026-12-05T01:59:59.999Z', // Saturday morning, still Friday's window
        '2026-12-05T02:00:00.000Z', // end
        '2026-12-05T22:30:00.000Z', // Saturday night: not a start day
        '2026-12-04T01:00:00.000Z', // Friday morning: Thursday's window, not started
      ].map((iso) => schedule(at(iso))),
    ).toEqual([false, true, true, false, false, false]);
  });

  it('takes every day by default and 24:00 as the end of the day', () => {
    const schedule = compile([{ from: '18:00', to: '24:00' }]);
    expect(
      [
        '2026-12-06T17:59:59.999Z',
        '2026-12-06T18:00:00.000Z',
        '2026-12-06T23:59:59.999Z',
        '2026-12-07T00:00:00.000Z',
      ].map((iso) => schedule(at(iso))),
    ).toEqual([false, true, true, false]);
  });

  it('works before the epoch and on a virtual clock starting at 0 (a Thursday)', () => {
    const thursdays = compile([{ from: '00:00', to: '01:00', days: ['thu'] }]);
    expect([0, 3_599_999, 3_600_000].map(thursdays)).toEqual([true, true, false]);
    // 1969-12-31 was a Wednesday.
    const wednesdays = compile([{ from: '23:00', to: '24:00', days: ['wed'] }]);
    expect([-1, -3_600_000, -3_600_001].map(wednesdays)).toEqual([true, true, false]);
  });

  it('is on in any of its windows', () => {
    const schedule = compile([
      { start: 0, end: 10 },
      { start: 100, end: 110 },
    ]);
    expect([5, 50, 105].map(schedule)).toEqual([true, false, true]);
  });

  it.each([
    [[], 'option "schedule" must be a non-empty array of time windows (got [])'],
    [{ start: 0, end: 1 }, 'option "schedule" must be a non-empty array of time windows'],
    [
      [null],
      'option "schedule[0]" must be an object: { start, end } or { from, to, days } (got null)',
    ],
    [[{}], 'option "schedule[0]" must be either an absolute window { start, end } or a daily one'],
    [
      [{ start: 0, end: 5, from: '09:00' }],
      'either an absolute window { start, end } or a daily one',
    ],
    [
      [{ start: '0', end: 5 }],
      `option "schedule[0].start" must be a finite number on the clock's scale (got "0")`,
    ],
    [
      [{ start: 5, end: 5 }],
      'option "schedule[0].end" must be a number after start (5), or Infinity (got 5)',
    ],
    [
      [{ start: 0 }],
      'option "schedule[0].end" must be a number after start (0), or Infinity (got undefined)',
    ],
    [
      [{ from: '9:00', to: '17:00' }],
      `option "schedule[0].from" must be a UTC time of day 'HH:MM' from '00:00' to '23:59' (got "9:00")`,
    ],
    [
      [{ from: '24:00', to: '17:00' }],
      `option "schedule[0].from" must be a UTC time of day 'HH:MM' from '00:00' to '23:59'`,
    ],
    [
      [{ from: '09:00', to: '24:01' }],
      `option "schedule[0].to" must be a UTC time of day 'HH:MM' from '00:00' to '24:00' (got "24:01")`,
    ],
    [[{ from: '09:00', to: '09:60' }], `option "schedule[0].to" must be a UTC time of day`],
    [
      [{ from: '09:00', to: '09:00' }],
      'option "schedule[0].to" must be a time of day other than from ("09:00") (got "09:00")',
    ],
    [
      [{ from: '09:00', to: '17:00', days: [] }],
      `option "schedule[0].days" must be a non-empty array of 'sun', 'mon'`,
    ],
    [
      [{ from: '09:00', to: '17:00', days: ['Monday'] }],
      `option "schedule[0].days" must be a non-empty array of`,
    ],
  ])('refuses a bad schedule (%#)', (windows, message) => {
    expect(() => compileSchedule('chaos-monkey', 'schedule', windows)).toThrow(TypeError);
    expect(() => compileSchedule('chaos-monkey', 'schedule', windows)).toThrow(message);
  });
});
