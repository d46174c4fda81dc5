/**
 * Validation of the `?from=YYYY-MM-DD&to=YYYY-MM-DD` day range of the analytics queries (UTC days, both inclusive).
 */
import { BadRequestException } from '@nestjs/common';

/** Longest range accepted, in days. */
export const MAX_RANGE_DAYS = 366;
/** Days in the default range (ending today, UTC). */
export const DEFAULT_RANGE_DAYS = 30;
const DAY_MS = 86_400_000;

/** A validated range: `from` ≤ `to`, at most {@link MAX_RANGE_DAYS} days. */
export interface DayRange {
  from: string;
  to: string;
}

function parseDay(raw: string, name: string, reasons: string[]): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== raw) {
    reasons.push(`${name} must be a date YYYY-MM-DD`);
    return null;
  }
  return t;
}

/** The UTC date of epoch ms `t`. */
export function dayOf(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * Parses the range; a missing `to` is today (UTC), a missing `from` is {@link DEFAULT_RANGE_DAYS} days up to `to`.
 * @throws {BadRequestException} listing every problem: malformed or impossible dates, `from` after `to`, a range
 *   longer than {@link MAX_RANGE_DAYS} days.
 */
export function parseDayRange(from: string | undefined, to: string | undefined, now = Date.now()): DayRange {
  const reasons: string[] = [];
  const toT = to === undefined || to === '' ? Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate()) : parseDay(to, 'to', reasons);
  const fromT = from === undefined || from === '' ? (toT === null ? null : toT - (DEFAULT_RANGE_DAYS - 1) * DAY_MS) : parseDay(from, 'from', reasons);
  if (fromT !== null && toT !== null) {
    if (fromT > toT) reasons.push('from must not be after to');
    else if ((toT - fromT) / DAY_MS + 1 > MAX_RANGE_DAYS) reasons.push(`the range must be at most ${MAX_RANGE_DAYS} days`);
  }
  if (reasons.length > 0 || fromT === null || toT === null) throw new BadRequestException(reasons.join('; '));
  return { from: dayOf(fromT), to: dayOf(toT) };
}

/** Every day of `range`, oldest first. */
export function daysOf(range: DayRange): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${range.from}T00:00:00Z`), end = Date.parse(`${range.to}T00:00:00Z`); t <= end; t += DAY_MS) out.push(dayOf(t));
  return out;
}
