import { describe, expect, test } from '@jest/globals';
import { checkTimeWindow, localTime, parseClockTime } from '../../../extproc/routing/time-window.ts';
import type { TimeWindow } from '../../../extproc/routing/time-window.ts';

const at = (iso: string): number => Date.parse(iso);
const weeknights: TimeWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '20:00', to: '06:00', timeZone: 'Europe/Berlin' };

describe('checkTimeWindow', () => {
  test.each<[string, TimeWindow, string, boolean]>([
    // Same-day window (Berlin is UTC+2 in June).
    ['office hours inside', { from: '09:00', to: '17:00', timeZone: 'Europe/Berlin' }, '2025-06-04T10:00:00Z', true],
    ['office hours end is exclusive', { from: '09:00', to: '17:00', timeZone: 'Europe/Berlin' }, '2025-06-04T15:00:00Z', false],
    ['office hours start is inclusive', { from: '09:00', to: '17:00', timeZone: 'Europe/Berlin' }, '2025-06-04T07:00:00Z', true],
    // Across midnight: Wed 2025-06-04 is a weekday.
    ['weeknight evening part', weeknights, '2025-06-04T19:30:00Z', true], // Wed 21:30
    ['weeknight morning tail', weeknights, '2025-06-05T03:00:00Z', true], // Thu 05:00
    ['weeknight after the tail', weeknights, '2025-06-05T04:30:00Z', false], // Thu 06:30
    ['weeknight daytime', weeknights, '2025-06-04T12:00:00Z', false],
    // Weekdays name the day the window starts on.
    ['Saturday morning belongs to Friday night', weeknights, '2025-06-07T02:00:00Z', true], // Sat 04:00
    ['Saturday evening starts no window', weeknights, '2025-06-07T19:00:00Z', false], // Sat 21:00
    ['Monday morning has no Sunday window', weeknights, '2025-06-09T02:00:00Z', false], // Mon 04:00
    ['Monday evening starts one', weeknights, '2025-06-09T19:00:00Z', true], // Mon 21:00
    ['weekend all day', { days: ['sat', 'sun'], from: '00:00', to: '24:00', timeZone: 'UTC' }, '2025-06-08T23:59:00Z', true],
    ['weekend all day, not Monday', { days: ['sat', 'sun'], from: '00:00', to: '24:00', timeZone: 'UTC' }, '2025-06-09T00:00:00Z', false],
    ['from == to is 24 hours from its start', { days: ['mon'], from: '09:00', to: '09:00', timeZone: 'UTC' }, '2025-06-10T08:59:00Z', true],
    ['from == to ends at the start time', { days: ['mon'], from: '09:00', to: '09:00', timeZone: 'UTC' }, '2025-06-10T09:00:00Z', false],
    // Spring forward in Berlin, Sun 2025-03-30 01:00Z: 02:00 CET becomes 03:00 CEST.
    ['DST spring: before the change', { days: ['sun'], from: '00:00', to: '06:00', timeZone: 'Europe/Berlin' }, '2025-03-29T23:30:00Z', true],
    ['DST spring: 05:30 CEST is inside', { days: ['sun'], from: '00:00', to: '06:00', timeZone: 'Europe/Berlin' }, '2025-03-30T03:30:00Z', true],
    // With a fixed +01:00 offset this instant would be 05:30 and inside; the wall clock says 06:30.
    ['DST spring: 06:30 CEST is outside', { days: ['sun'], from: '00:00', to: '06:00', timeZone: 'Europe/Berlin' }, '2025-03-30T04:30:00Z', false],
    // Fall back, Sun 2025-10-26 01:00Z: 03:00 CEST becomes 02:00 CET, so 02:xx happens twice.
    ['DST fall: first 02:30 (CEST)', { from: '02:00', to: '03:00', timeZone: 'Europe/Berlin' }, '2025-10-26T00:30:00Z', true],
    ['DST fall: second 02:30 (CET)', { from: '02:00', to: '03:00', timeZone: 'Europe/Berlin' }, '2025-10-26T01:30:00Z', true],
    ['DST fall: 03:30 CET', { from: '02:00', to: '03:00', timeZone: 'Europe/Berlin' }, '2025-10-26T02:30:00Z', false],
    // New York crosses midnight and DST (2025-03-09 07:00Z: 02:00 EST becomes 03:00 EDT).
    ['New York overnight across DST', { days: ['sat'], from: '22:00', to: '04:00', timeZone: 'America/New_York' }, '2025-03-09T07:30:00Z', true], // Sun 03:30 EDT
    ['New York overnight tail over', { days: ['sat'], from: '22:00', to: '04:00', timeZone: 'America/New_York' }, '2025-03-09T08:30:00Z', false], // Sun 04:30 EDT
  ])('%s', (_label, window, iso, inside) => {
    const result = checkTimeWindow(window, at(iso));
    expect(result.inside).toBe(inside);
    expect(result.detail).toContain(window.timeZone);
  });

  test('minute-level caching never serves a stale minute', () => {
    const window: TimeWindow = { from: '20:00', to: '21:00', timeZone: 'Asia/Kathmandu' }; // UTC+05:45
    const start = at('2025-06-04T14:15:00Z');
    expect(checkTimeWindow(window, start - 1).inside).toBe(false);
    expect(checkTimeWindow(window, start).inside).toBe(true);
    expect(checkTimeWindow(window, start + 3_600_000 - 1).inside).toBe(true);
    expect(checkTimeWindow(window, start + 3_600_000).inside).toBe(false);
  });

  test('localTime reads the wall clock of the zone', () => {
    expect(localTime(at('2025-01-15T23:30:00Z'), 'Asia/Tokyo')).toEqual({ weekday: 'thu', minutes: 8 * 60 + 30 });
    expect(localTime(at('2025-01-15T00:15:00Z'), 'UTC')).toEqual({ weekday: 'wed', minutes: 15 });
  });

  test.each([
    ['00:00', 0],
    ['06:30', 390],
    ['24:00', 1440],
    ['24:01', undefined],
    ['7:00', undefined],
    ['12:75', undefined],
  ])('parseClockTime(%s)', (text, minutes) => {
    expect(parseClockTime(text)).toBe(minutes);
  });
});
