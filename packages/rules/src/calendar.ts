/**
 * Calendar months and the monthly evaluation in China Standard Time (Asia/Shanghai).
 * China has had no daylight saving time since 1991, so Asia/Shanghai is a fixed UTC+8 and plain
 * offset arithmetic is exact; no time-zone database is needed.
 */
const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/** A month as `YYYY-MM`. */
export type Month = string;

/** The Asia/Shanghai calendar month an instant falls in. */
export function shanghaiMonth(at: Date): Month {
  const local = new Date(at.getTime() + SHANGHAI_OFFSET_MS);
  return `${String(local.getUTCFullYear()).padStart(4, '0')}-${String(local.getUTCMonth() + 1).padStart(2, '0')}`;
}

function parseMonth(month: Month): { year: number; index: number } {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) throw new RangeError(`not a YYYY-MM month: ${month}`);
  return { year: Number(match[1]), index: Number(match[2]) - 1 };
}

/** `month` plus `count` months (negative to go back). */
export function addMonths(month: Month, count: number): Month {
  const { year, index } = parseMonth(month);
  const total = year * 12 + index + count;
  return `${String(Math.floor(total / 12)).padStart(4, '0')}-${String((total % 12) + 1).padStart(2, '0')}`;
}

/** Whole months from `from` to `to` (positive when `to` is later). */
export function monthsBetween(from: Month, to: Month): number {
  const a = parseMonth(from);
  const b = parseMonth(to);
  return b.year * 12 + b.index - (a.year * 12 + a.index);
}

/** The instant a Shanghai calendar day starts: `day` of `month` at 00:00 +08:00. */
export function shanghaiDayStart(month: Month, day: number): Date {
  const { year, index } = parseMonth(month);
  return new Date(Date.UTC(year, index, day) - SHANGHAI_OFFSET_MS);
}

/**
 * The rolling window of `months` calendar months ending with the month of `asOf`, inclusive:
 * with 12 months and asOf in 2026-11, the window is 2025-12 .. 2026-11.
 */
export function windowOf(asOf: Date, months: number): { from: Month; to: Month } {
  const to = shanghaiMonth(asOf);
  return { from: addMonths(to, -(months - 1)), to };
}

/** The first evaluation instant strictly after `after` (day `dayOfMonth`, 00:00 Asia/Shanghai). */
export function nextEvaluationAt(after: Date, dayOfMonth: number): Date {
  const month = shanghaiMonth(after);
  const thisMonth = shanghaiDayStart(month, dayOfMonth);
  return thisMonth.getTime() > after.getTime()
    ? thisMonth
    : shanghaiDayStart(addMonths(month, 1), dayOfMonth);
}

/** The latest evaluation instant at or before `at`. */
export function lastEvaluationAt(at: Date, dayOfMonth: number): Date {
  const month = shanghaiMonth(at);
  const thisMonth = shanghaiDayStart(month, dayOfMonth);
  return thisMonth.getTime() <= at.getTime() ? thisMonth : shanghaiDayStart(addMonths(month, -1), dayOfMonth);
}
