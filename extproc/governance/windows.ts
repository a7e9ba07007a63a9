// Which counter a budget or rate limit charges at a given instant. Pure: (rule, now, zone) -> ids.
// Calendar windows (daily/weekly/monthly) start at local midnight in the budget time zone,
// computed with Intl only; rate-limit windows are fixed UTC minutes/hours, so a limit is exact
// at the boundary and Retry-After is simply "until the window ends".
import type { Budget } from './schema.ts';

/** One window of one budget: where to write, which buckets to sum, when it stops mattering. */
export interface BudgetWindowSlot {
  /** Stable id of the window, e.g. `monthly:2025-03` or `rolling24h:481234` (the current bucket). */
  writeId: string;
  /** Ids summed to decide admission (one for calendar windows, every live bucket for rolling). */
  readIds: string[];
  /** When the window (or, for rolling, the current bucket) stops counting. */
  endsAtMs: number;
}

interface LocalDate {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
  weekday: number; // 0 = Monday ... 6 = Sunday
}

const formatterCache = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatterCache.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatterCache.set(timeZone, formatter);
  }
  return formatter;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

type LocalParts = LocalDate & { hour: number; minute: number; second: number };

// Intl formatting costs microseconds and every request asks for the same few instants (now,
// today's and this month's midnights), so results are memoised per zone and second.
const partsMemo = new Map<string, LocalParts>();

function localParts(epochMs: number, timeZone: string): LocalParts {
  const key = `${timeZone}|${Math.floor(epochMs / 1000)}`;
  const hit = partsMemo.get(key);
  if (hit) return hit;
  if (partsMemo.size > 4096) partsMemo.clear();
  const value = computeLocalParts(epochMs, timeZone);
  partsMemo.set(key, value);
  return value;
}

function computeLocalParts(epochMs: number, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS.indexOf(parts.weekday ?? ''),
  };
}

/** Offset of `timeZone` from UTC at `epochMs`, in ms (Berlin in winter: +3_600_000). */
function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const p = localParts(epochMs, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/**
 * The instant of local midnight starting `year-month-day` in `timeZone`. Date.UTC normalises
 * overflow (day 32 -> next month). Two passes settle the offset across a DST change; if midnight
 * does not exist locally (a few zones switch at 00:00) this lands on the first instant after it.
 */
export function zonedMidnight(year: number, month: number, day: number, timeZone: string): number {
  const wallClockAsUtc = Date.UTC(year, month - 1, day);
  let instant = wallClockAsUtc - zoneOffsetMs(wallClockAsUtc, timeZone);
  instant = wallClockAsUtc - zoneOffsetMs(instant, timeZone);
  return instant;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** The window of `budget` containing `nowMs`. */
export function budgetWindow(budget: Budget, nowMs: number, timeZone: string): BudgetWindowSlot {
  if (budget.window === 'rolling') {
    const bucket = Math.floor(nowMs / budget.bucketMs);
    const buckets = budget.durationMs / budget.bucketMs;
    const label = `rolling${budget.durationMs}/${budget.bucketMs}`;
    const readIds: string[] = [];
    for (let i = 0; i < buckets; i++) readIds.push(`${label}:${bucket - i}`);
    return { writeId: `${label}:${bucket}`, readIds, endsAtMs: (bucket + 1) * budget.bucketMs };
  }
  const today = localParts(nowMs, timeZone);
  let writeId: string;
  let endsAtMs: number;
  if (budget.window === 'daily') {
    writeId = `daily:${today.year}-${pad(today.month)}-${pad(today.day)}`;
    endsAtMs = zonedMidnight(today.year, today.month, today.day + 1, timeZone);
  } else if (budget.window === 'weekly') {
    // ISO weeks start on Monday; the id is the Monday's date.
    const monday = new Date(Date.UTC(today.year, today.month - 1, today.day - today.weekday));
    writeId = `weekly:${monday.getUTCFullYear()}-${pad(monday.getUTCMonth() + 1)}-${pad(monday.getUTCDate())}`;
    endsAtMs = zonedMidnight(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate() + 7, timeZone);
  } else {
    writeId = `monthly:${today.year}-${pad(today.month)}`;
    endsAtMs = zonedMidnight(today.year, today.month + 1, 1, timeZone);
  }
  return { writeId, readIds: [writeId], endsAtMs };
}

export type RatePeriod = 'minute' | 'hour';
const PERIOD_MS: Record<RatePeriod, number> = { minute: 60_000, hour: 3_600_000 };

/** Fixed, epoch-aligned rate window containing `nowMs`. */
export function rateWindow(period: RatePeriod, nowMs: number): { id: string; endsAtMs: number } {
  const length = PERIOD_MS[period];
  const index = Math.floor(nowMs / length);
  return { id: `${period}:${index}`, endsAtMs: (index + 1) * length };
}

/** Retry-After in whole seconds, rounded up so a client that obeys it lands in the next window. */
export function retryAfterSeconds(endsAtMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((endsAtMs - nowMs) / 1000));
}
