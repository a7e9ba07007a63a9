// Time-of-day windows in an IANA time zone, evaluated on local wall-clock time with Intl (no tz
// database package). `days` names the day a window STARTS on: a Friday 20:00-06:00 window covers
// Friday night and the early hours of Saturday. from == to means a 24-hour window. On a DST change
// the local wall clock decides: a window may be an hour shorter or longer that day.

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface TimeWindow {
  /** Days the window starts on; absent means every day. */
  days?: readonly Weekday[];
  /** Local "HH:MM", inclusive. */
  from: string;
  /** Local "HH:MM", exclusive; "24:00" allowed. */
  to: string;
  timeZone: string;
}

export interface LocalTime {
  weekday: Weekday;
  /** Minutes since local midnight. */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Parses "HH:MM" (00:00 to 24:00) into minutes since midnight, or undefined when malformed. */
export function parseClockTime(value: string): number | undefined {
  const match = /^(\d{2}):(\d{2})$/.exec(value);
  if (!match) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes !== 0)) return undefined;
  return hours * 60 + minutes;
}

// formatToParts costs ~10 us; every zone offset in use is a whole number of minutes, so local
// time only changes on UTC minute boundaries and the last answer per zone can be reused.
const lastByZone = new Map<string, { minute: number; local: LocalTime }>();

export function localTime(nowMs: number, timeZone: string): Readonly<LocalTime> {
  const minute = Math.floor(nowMs / 60_000);
  const cached = lastByZone.get(timeZone);
  if (cached && cached.minute === minute) return cached.local;
  const local = formatLocalTime(nowMs, timeZone);
  lastByZone.set(timeZone, { minute, local });
  return local;
}

function formatLocalTime(nowMs: number, timeZone: string): LocalTime {
  let weekday: Weekday = 'mon';
  let hours = 0;
  let minutes = 0;
  for (const part of formatterFor(timeZone).formatToParts(nowMs)) {
    if (part.type === 'weekday') weekday = part.value.toLowerCase().slice(0, 3) as Weekday;
    else if (part.type === 'hour') hours = Number(part.value);
    else if (part.type === 'minute') minutes = Number(part.value);
  }
  return { weekday, minutes: hours * 60 + minutes };
}

function previousDay(day: Weekday): Weekday {
  const index = WEEKDAYS.indexOf(day);
  return WEEKDAYS[(index + 6) % 7] as Weekday;
}

function formatMinutes(total: number): string {
  const hours = Math.floor(total / 60);
  const minutes = total % 60;
  return `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
}

export interface WindowCheck {
  inside: boolean;
  /** Human-readable reason, for explain output. */
  detail: string;
}

export function checkTimeWindow(window: TimeWindow, nowMs: number): WindowCheck {
  const from = parseClockTime(window.from);
  const to = parseClockTime(window.to);
  if (from === undefined || to === undefined) {
    // The schema rejects this; guard anyway so a bad window never matches.
    return { inside: false, detail: `malformed window ${window.from}-${window.to}` };
  }
  const local = localTime(nowMs, window.timeZone);
  const dayAllowed = (day: Weekday): boolean => !window.days || window.days.includes(day);
  const where = `local ${local.weekday} ${formatMinutes(local.minutes)} ${window.timeZone}`;
  const span = `${window.days ? window.days.join(',') : 'every day'} ${window.from}-${window.to}`;

  let inside: boolean;
  if (from < to) {
    inside = dayAllowed(local.weekday) && local.minutes >= from && local.minutes < to;
  } else {
    // Crosses midnight (or is a full 24 h when from == to): today's evening part, or the
    // morning tail of a window that started yesterday.
    const tonight = dayAllowed(local.weekday) && local.minutes >= from;
    const lastNight = dayAllowed(previousDay(local.weekday)) && local.minutes < to;
    inside = tonight || lastNight;
  }
  return { inside, detail: `${where} ${inside ? 'inside' : 'outside'} ${span}` };
}
