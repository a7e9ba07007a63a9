// Policy + instant -> the concrete counters a request checks and charges. Counter names carry the
// level, the id and the window, e.g. `b:team:t1:monthly:2025-03` or `r:key:k1:tokens:minute:2914`.
import type { LevelLimits } from './policy.ts';
import type { Budget, RateLimits } from './schema.ts';
import type { BudgetCharge, RateCharge } from './store.ts';
import { budgetWindow, rateWindow } from './windows.ts';
import type { RatePeriod } from './windows.ts';

export interface LabelledBudgetCharge extends BudgetCharge {
  level: LevelLimits['level'];
  id: string;
  budget: Budget;
  /** Tracking-only counters (no configured budget) record spend for reports but never refuse. */
  enforced: boolean;
}

export interface LabelledRateCharge extends RateCharge {
  level: LevelLimits['level'];
  id: string;
  period: RatePeriod;
  windowEndsAtMs: number;
}

export interface Charges {
  budgets: LabelledBudgetCharge[];
  rates: LabelledRateCharge[];
}

const UNLIMITED = Number.MAX_SAFE_INTEGER;
/** Counters outlive their window by this much, so a late settle still finds them. */
const GRACE_MS = 2 * 86_400_000;
/** Rate windows only need to outlive their end long enough for settles to adjust tokens. */
const RATE_GRACE_MS = 3_600_000;

const RATE_FIELDS: [keyof RateLimits, 'requests' | 'tokens', RatePeriod][] = [
  ['requestsPerMinute', 'requests', 'minute'],
  ['requestsPerHour', 'requests', 'hour'],
  ['tokensPerMinute', 'tokens', 'minute'],
  ['tokensPerHour', 'tokens', 'hour'],
];

export interface ChargeOptions {
  timeZone: string;
  /** Replicas sharing the limit when each must enforce its own share (degraded mode); default 1. */
  shareOf?: number;
}

export function buildCharges(levels: LevelLimits[], nowMs: number, options: ChargeOptions): Charges {
  const budgets: LabelledBudgetCharge[] = [];
  const rates: LabelledRateCharge[] = [];
  for (const level of levels) {
    const prefix = `${level.level}:${level.id}`;
    const configured = level.budgets.map((budget) => ({ budget, enforced: true }));
    // Every level tracks its monthly spend, budget or not, so admins can read it.
    if (!level.budgets.some((budget) => budget.window === 'monthly')) {
      configured.push({ budget: { window: 'monthly', limitMicros: UNLIMITED }, enforced: false });
    }
    for (const { budget, enforced } of configured) {
      const window = budgetWindow(budget, nowMs, options.timeZone);
      const lifetime = budget.window === 'rolling' ? budget.durationMs : 0;
      budgets.push({
        counter: `b:${prefix}:${window.writeId}`,
        reads: window.readIds.map((id) => `b:${prefix}:${id}`),
        limitMicros: budget.limitMicros,
        expiresAtMs: window.endsAtMs + lifetime + GRACE_MS,
        level: level.level,
        id: level.id,
        budget,
        enforced,
      });
    }
    for (const [field, kind, period] of RATE_FIELDS) {
      const limit = level.rateLimits[field];
      if (limit === undefined) continue;
      const window = rateWindow(period, nowMs);
      const share = Math.max(1, Math.floor(limit / (options.shareOf ?? 1)));
      rates.push({
        counter: `r:${prefix}:${kind}:${window.id}`,
        kind,
        limit: share,
        expiresAtMs: window.endsAtMs + RATE_GRACE_MS,
        level: level.level,
        id: level.id,
        period,
        windowEndsAtMs: window.endsAtMs,
      });
    }
  }
  return { budgets, rates };
}
