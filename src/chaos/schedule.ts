import { describe } from '../core/policy.js';
import { invalid } from '../core/validate.js';

/** A day of the week, as in a cron line. */
export type Weekday = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';

/** A stretch of time on the clock's scale: from `start` (included) to `end` (excluded). */
export interface AbsoluteWindow {
  /** Milliseconds on the clock's scale (`clock.now()`), a finite number. */
  readonly start: number;
  /** Milliseconds on the clock's scale, after `start`; Infinity for "from `start` on". */
  readonly end: number;
}

/**
 * The same hours every day, or on some days of the week, in UTC: from `from` (included) to
 * `to` (excluded). A window whose `to` is earlier than its `from` runs past midnight, and
 * belongs to the day it starts on (`{ from: '22:00', to: '02:00', days: ['fri'] }` is Friday
 * 22:00 to Saturday 02:00).
 */
export interface DailyWindow {
  /** 'HH:MM', from '00:00' to '23:59'. */
  readonly from: string;
  /** 'HH:MM', from '00:00' to '24:00' (the end of the day); not equal to `from`. */
  readonly to: string;
  /** The days it starts on. Default: every day. */
  readonly days?: readonly Weekday[];
}

export type ScheduleWindow = AbsoluteWindow | DailyWindow;

/** Answers whether a time on the clock's scale falls in one of the schedule's windows. */
export type Schedule = (now: number) => boolean;

const DAY_MS = 86_400_000;
const weekdays: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const everyDay = 0b111_1111;

/**
 * The windows as one check, or undefined when there are none (no schedule: always on).
 * `option` names the option in errors, e.g. `experiments[0].schedule`.
 */
export function compileSchedule(
  policy: string,
  option: string,
  windows: unknown,
): Schedule | undefined {
  if (windows === undefined) return undefined;
  if (!Array.isArray(windows) || windows.length === 0) {
    throw invalid(policy, option, windows, 'a non-empty array of time windows');
  }
  const checks = windows.map((window: unknown, at) =>
    compileWindow(policy, `${option}[${at}]`, window),
  );
  return (now) => {
    for (const inWindow of checks) if (inWindow(now)) return true;
    return false;
  };
}

function compileWindow(policy: string, option: string, window: unknown): Schedule {
  if (typeof window !== 'object' || window === null) {
    throw invalid(policy, option, window, 'an object: { start, end } or { from, to, days }');
  }
  const w = window as Record<string, unknown>;
  const absolute = 'start' in w || 'end' in w;
  const daily = 'from' in w || 'to' in w || 'days' in w;
  if (absolute === daily) {
    throw invalid(
      policy,
      option,
      window,
      'either an absolute window { start, end } or a daily one { from, to, days }',
    );
  }
  return absolute ? absoluteWindow(policy, option, w) : dailyWindow(policy, option, w);
}

function absoluteWindow(policy: string, option: string, w: Record<string, unknown>): Schedule {
  const { start, end } = w;
  if (typeof start !== 'number' || !Number.isFinite(start)) {
    throw invalid(policy, `${option}.start`, start, "a finite number on the clock's scale");
  }
  if (typeof end !== 'number' || !(end > start)) {
    throw invalid(policy, `${option}.end`, end, `a number after start (${start}), or Infinity`);
  }
  return (now) => now >= start && now < end;
}

function dailyWindow(policy: string, option: string, w: Record<string, unknown>): Schedule {
  const from = timeOfDay(policy, `${option}.from`, w.from, false);
  const to = timeOfDay(policy, `${option}.to`, w.to, true);
  if (from === to) {
    throw invalid(
      policy,
      `${option}.to`,
      w.to,
      `a time of day other than from (${describe(w.from)})`,
    );
  }
  const days = dayMask(policy, `${option}.days`, w.days);
  const starts = (day: number) => (days & (1 << day)) !== 0;
  return (now) => {
    const dayNumber = Math.floor(now / DAY_MS);
    const msOfDay = now - dayNumber * DAY_MS;
    // 1970-01-01, day 0 of the epoch, was a Thursday.
    const day = (((dayNumber + 4) % 7) + 7) % 7;
    if (from < to) return starts(day) && msOfDay >= from && msOfDay < to;
    // Past midnight: the evening part belongs to today, the morning part to yesterday.
    return (starts(day) && msOfDay >= from) || (starts((day + 6) % 7) && msOfDay < to);
  };
}

/** 'HH:MM' as milliseconds since midnight; '24:00' only where `endOfDay` allows it. */
function timeOfDay(policy: string, option: string, value: unknown, endOfDay: boolean): number {
  const match = typeof value === 'string' ? /^(\d\d):(\d\d)$/.exec(value) : null;
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  const ok =
    match !== null && minutes < 60 && (hours < 24 || (endOfDay && hours === 24 && minutes === 0));
  if (!ok) {
    throw invalid(
      policy,
      option,
      value,
      `a UTC time of day 'HH:MM' from '00:00' to '${endOfDay ? '24:00' : '23:59'}'`,
    );
  }
  return (hours * 60 + minutes) * 60_000;
}

function dayMask(policy: string, option: string, value: unknown): number {
  if (value === undefined) return everyDay;
  const expected = `a non-empty array of ${weekdays.map((d) => `'${d}'`).join(', ')}`;
  if (!Array.isArray(value) || value.length === 0) throw invalid(policy, option, value, expected);
  let mask = 0;
  for (const day of value) {
    const at = weekdays.indexOf(day as Weekday);
    if (at === -1) throw invalid(policy, option, value, expected);
    mask |= 1 << at;
  }
  return mask;
}
