import { describe, expect, it } from '@jest/globals';
import { BudgetSchema, GovernanceConfigSchema } from '../../../extproc/governance/schema.ts';
import { budgetWindow, rateWindow, retryAfterSeconds, zonedMidnight } from '../../../extproc/governance/windows.ts';

describe('budget windows', () => {
  it('finds local midnight across DST in Europe/Berlin', () => {
    expect(new Date(zonedMidnight(2025, 3, 30, 'Europe/Berlin')).toISOString()).toBe('2025-03-29T23:00:00.000Z'); // CET
    expect(new Date(zonedMidnight(2025, 3, 31, 'Europe/Berlin')).toISOString()).toBe('2025-03-30T22:00:00.000Z'); // CEST
    expect(new Date(zonedMidnight(2025, 13, 1, 'America/New_York')).toISOString()).toBe('2026-01-01T05:00:00.000Z');
  });

  it('labels daily, weekly (ISO, Monday) and monthly windows in the zone', () => {
    const sundayNightUtc = Date.UTC(2025, 5, 1, 22, 30); // Monday 00:30 in Berlin
    const daily = budgetWindow(BudgetSchema.parse({ window: 'daily', limitUsd: 1 }), sundayNightUtc, 'Europe/Berlin');
    expect(daily).toEqual({ writeId: 'daily:2025-06-02', readIds: ['daily:2025-06-02'], endsAtMs: Date.UTC(2025, 5, 2, 22) });
    expect(budgetWindow(BudgetSchema.parse({ window: 'weekly', limitUsd: 1 }), sundayNightUtc, 'Europe/Berlin').writeId).toBe('weekly:2025-06-02');
    expect(budgetWindow(BudgetSchema.parse({ window: 'weekly', limitUsd: 1 }), sundayNightUtc, 'UTC').writeId).toBe('weekly:2025-05-26');
    const monthly = budgetWindow(BudgetSchema.parse({ window: 'monthly', limitUsd: 1 }), Date.UTC(2025, 11, 31, 23, 30), 'Europe/Berlin');
    expect(monthly.writeId).toBe('monthly:2026-01');
    expect(new Date(monthly.endsAtMs).toISOString()).toBe('2026-01-31T23:00:00.000Z');
  });

  it('rolling windows sum their buckets', () => {
    const rolling = BudgetSchema.parse({ window: 'rolling', duration: '24h', limitMicros: 5 });
    const slot = budgetWindow(rolling, 3_600_000 * 100 + 5, 'UTC');
    expect(slot.readIds).toHaveLength(24);
    expect(slot.writeId).toBe(slot.readIds[0]);
    expect(slot.endsAtMs).toBe(3_600_000 * 101);
  });

  it('rate windows are epoch-aligned and Retry-After rounds up', () => {
    expect(rateWindow('minute', 60_000 * 7 + 1)).toEqual({ id: 'minute:7', endsAtMs: 60_000 * 8 });
    expect(retryAfterSeconds(60_000, 59_001)).toBe(1);
    expect(retryAfterSeconds(60_000, 0)).toBe(60);
  });
});

describe('config schema', () => {
  it('normalises money to micro-dollars and rejects ambiguity', () => {
    expect(BudgetSchema.parse({ window: 'daily', limitUsd: 12.5 })).toEqual({ window: 'daily', limitMicros: 12_500_000 });
    expect(() => BudgetSchema.parse({ window: 'daily', limitUsd: 1, limitMicros: 1 })).toThrow();
    expect(() => BudgetSchema.parse({ window: 'rolling', limitUsd: 1 })).toThrow();
    expect(() => GovernanceConfigSchema.parse({ budgetTimeZone: 'Mars/Olympus' })).toThrow();
    const parsed = GovernanceConfigSchema.parse({ state: { type: 'redis', url: 'redis://r:6379' } });
    expect(parsed.state).toMatchObject({ type: 'redis', commandTimeoutMs: 250, replicas: 1 });
    expect(parsed.pricing.unknownPricePolicy).toBe('reject');
  });
});
