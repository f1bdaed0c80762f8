import { addMonths, shanghaiDayStart, shanghaiMonth } from '@taobi/rules';
import type { Cadence } from './catalogue-schema';

/**
 * Periods of periodic benefits, in China Standard Time (fixed UTC+8, see @taobi/rules' calendar):
 * daily periods are calendar days (`2026-11-23`, 00:00 to 00:00), weekly periods are ISO weeks
 * (`2026-W47`, Monday 00:00 to Monday 00:00), monthly periods are calendar months (`2026-11`, the
 * 1st 00:00 to the next 1st). A member gets one grant of a periodic benefit per period; the key is
 * part of the grant's unique key.
 */
const OFFSET_MS = 8 * 3600_000;
const DAY_MS = 24 * 3600_000;
const WEEK_MS = 7 * DAY_MS;

export interface Period {
  cadence: Cadence;
  key: string;
  /** Inclusive. */
  start: Date;
  /** Exclusive: the start of the next period. */
  end: Date;
}

/** Midnight (Shanghai) of the day holding `at`, as a UTC instant. */
function dayStart(at: Date): Date {
  const local = new Date(at.getTime() + OFFSET_MS);
  return new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()) - OFFSET_MS);
}

/** Midnight (Shanghai) of the Monday that starts the ISO week holding `at`, as a UTC instant. */
function weekStart(at: Date): Date {
  const local = new Date(at.getTime() + OFFSET_MS);
  const midnight = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  const sinceMonday = (local.getUTCDay() + 6) % 7;
  return new Date(midnight - sinceMonday * DAY_MS - OFFSET_MS);
}

function isoWeekKey(at: Date): string {
  const monday = new Date(weekStart(at).getTime() + OFFSET_MS);
  // The ISO week-year is the year of the week's Thursday.
  const thursday = new Date(monday.getTime() + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / WEEK_MS) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The period of `cadence` that holds the instant `at`. */
export function periodOf(cadence: Cadence, at: Date): Period {
  if (cadence === 'daily') {
    const start = dayStart(at);
    const key = new Date(start.getTime() + OFFSET_MS).toISOString().slice(0, 10);
    return { cadence, key, start, end: new Date(start.getTime() + DAY_MS) };
  }
  if (cadence === 'weekly') {
    const start = weekStart(at);
    return { cadence, key: isoWeekKey(at), start, end: new Date(start.getTime() + WEEK_MS) };
  }
  const month = shanghaiMonth(at);
  return {
    cadence,
    key: month,
    start: shanghaiDayStart(month, 1),
    end: shanghaiDayStart(addMonths(month, 1), 1),
  };
}

/** Parses `2026-11-23`, `2026-W47` or `2026-11`; undefined when malformed or naming no such day or week. */
export function parsePeriod(key: string): Period | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(key)) {
    const midnight = Date.parse(`${key}T00:00:00+08:00`);
    if (Number.isNaN(midnight)) return undefined;
    const period = periodOf('daily', new Date(midnight));
    return period.key === key ? period : undefined;
  }
  const monthly = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(key);
  if (monthly) return periodOf('monthly', shanghaiDayStart(key, 1));
  const weekly = /^(\d{4})-W(\d{2})$/.exec(key);
  if (!weekly) return undefined;
  const year = Number(weekly[1]);
  const week = Number(weekly[2]);
  if (week < 1 || week > 53) return undefined;
  // ISO week 1 is the week holding January 4th.
  const week1 = weekStart(new Date(Date.UTC(year, 0, 4) - OFFSET_MS));
  const period = periodOf('weekly', new Date(week1.getTime() + (week - 1) * WEEK_MS));
  return period.key === key ? period : undefined;
}

/** The first period start of `cadence` strictly after `after` (when the scheduled job runs next). */
export function nextPeriodStart(cadence: Cadence, after: Date): Date {
  return periodOf(cadence, after).end;
}

/**
 * `at` moved by `months` calendar months on the Shanghai wall clock, keeping the time of day; the
 * day is clamped to the target month's length (a term started on Jan 31 ends on Feb 28/29).
 */
export function addCalendarMonths(at: Date, months: number): Date {
  const local = new Date(at.getTime() + OFFSET_MS);
  const total = local.getUTCFullYear() * 12 + local.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(local.getUTCDate(), lastDay);
  const timeOfDay =
    local.getTime() - Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  return new Date(Date.UTC(year, month, day) + timeOfDay - OFFSET_MS);
}
