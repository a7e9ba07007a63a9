import { describe, expect, it } from '@jest/globals';
import { MemoryStateStore } from '../../../extproc/governance/memory-store.ts';
import type { GovernanceConfig } from '../../../extproc/governance/schema.ts';
import { HASH, TestClock, governanceFor, parseConfig, principalFor } from './fixtures.ts';

function memoryStore(clock: TestClock): MemoryStateStore {
  return new MemoryStateStore({ reservationTtlMs: 600_000, idempotencyTtlMs: 3_600_000, clock });
}

function setup(raw: unknown, startMs: number) {
  let config = parseConfig(raw);
  const clock = new TestClock(startMs);
  const store = memoryStore(clock);
  const harness = governanceFor({ config: () => config, store, clock });
  let seq = 0;
  const admit = (keyId: string, overrides: Partial<{ model: string; provider: string; estimateMicros: number; estimateTokens: number }> = {}) =>
    harness.governance.admit({
      requestId: `req-${++seq}`,
      principal: principalFor(config, keyId),
      provider: overrides.provider ?? 'openai',
      model: overrides.model ?? 'gpt-4o',
      estimateMicros: overrides.estimateMicros ?? 1000,
      estimateTokens: overrides.estimateTokens ?? 10,
      now: clock.now(),
    });
  return { ...harness, clock, store, admit, setConfig: (next: GovernanceConfig) => (config = next), config: () => config };
}

const MINUTE = Date.UTC(2025, 5, 2, 10, 0, 0);

describe('rate limits', () => {
  it('allow exactly the limit, then 429 with Retry-After until the window ends', async () => {
    const t = setup({ virtualKeys: [{ id: 'k1', name: 'k', hash: HASH(1), rateLimits: { requestsPerMinute: 3 } }] }, MINUTE + 10_000);
    const first = await t.admit('k1');
    expect(first.ok && first.headers['x-ratelimit-remaining-requests']).toBe('2');
    await t.admit('k1');
    const third = await t.admit('k1');
    expect(third.ok && third.headers['x-ratelimit-remaining-requests']).toBe('0');
    const fourth = await t.admit('k1');
    expect(fourth.ok).toBe(false);
    if (fourth.ok) return;
    expect(fourth.error).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', headers: { 'retry-after': '50' } });
    t.clock.ms = MINUTE + 59_999;
    const lastMs = await t.admit('k1');
    expect(!lastMs.ok && lastMs.error.headers?.['retry-after']).toBe('1');
    t.clock.ms = MINUTE + 60_000; // the next window starts exactly here
    expect((await t.admit('k1')).ok).toBe(true);
  });

  it('token limits reserve the estimate and settle the actual', async () => {
    const t = setup({ virtualKeys: [{ id: 'k1', name: 'k', hash: HASH(1), rateLimits: { tokensPerMinute: 1000 } }] }, MINUTE);
    const big = await t.admit('k1', { estimateTokens: 800 });
    expect(big.ok && big.headers['x-ratelimit-remaining-tokens']).toBe('200');
    expect((await t.admit('k1', { estimateTokens: 300 })).ok).toBe(false);
    if (!big.ok) throw new Error('expected admission');
    await t.governance.settle(big.reservation.requestId, { usage: { inputTokens: 60, outputTokens: 40 }, costMicros: 5 });
    const after = await t.admit('k1', { estimateTokens: 300 });
    expect(after.ok && after.headers['x-ratelimit-remaining-tokens']).toBe('600');
  });

  it('apply per level: a team request limit stops a key that has its own room', async () => {
    const t = setup(
      {
        teams: [{ id: 't1', rateLimits: { requestsPerHour: 2 } }],
        virtualKeys: [
          { id: 'a', name: 'a', hash: HASH(1), teamId: 't1', rateLimits: { requestsPerHour: 100 } },
          { id: 'b', name: 'b', hash: HASH(2), teamId: 't1' },
        ],
      },
      MINUTE,
    );
    expect((await t.admit('a')).ok).toBe(true);
    expect((await t.admit('b')).ok).toBe(true);
    const refused = await t.admit('a');
    expect(!refused.ok && refused.error.message).toContain('team "t1"');
    expect(!refused.ok && refused.error.headers?.['retry-after']).toBe(String(3600));
  });
});

describe('budgets', () => {
  it('a team budget stops a key that still has its own budget', async () => {
    const t = setup(
      {
        customers: [{ id: 'acme' }],
        teams: [{ id: 't1', customerId: 'acme', budgets: [{ window: 'daily', limitMicros: 2500 }] }],
        virtualKeys: [{ id: 'k1', name: 'k', hash: HASH(1), teamId: 't1', budgets: [{ window: 'daily', limitUsd: 10 }] }],
      },
      MINUTE,
    );
    const first = await t.admit('k1');
    expect(first.ok && first.headers['x-sb-budget-remaining']).toBe('0.001500');
    expect((await t.admit('k1')).ok).toBe(true);
    const third = await t.admit('k1');
    expect(third.ok).toBe(false);
    if (third.ok) return;
    expect(third.error).toMatchObject({ status: 429, type: 'insufficient_quota', code: 'budget_exceeded', headers: { 'x-should-retry': 'false' } });
    expect(third.error.message).toContain('team "t1" daily budget');
  });

  it('a monthly budget in Europe/Berlin resets at local midnight on the 1st', async () => {
    // Berlin is UTC+2 in summer: local midnight of 1 July is 30 June 22:00 UTC.
    const lastMoment = Date.UTC(2025, 5, 30, 21, 59, 59, 999);
    const t = setup(
      {
        budgetTimeZone: 'Europe/Berlin',
        virtualKeys: [{ id: 'k1', name: 'k', hash: HASH(1), budgets: [{ window: 'monthly', limitMicros: 1000 }] }],
      },
      Date.UTC(2025, 5, 30, 12),
    );
    const spent = await t.admit('k1');
    if (!spent.ok) throw new Error('expected admission');
    await t.governance.settle(spent.reservation.requestId, { usage: { inputTokens: 1, outputTokens: 1 }, costMicros: 1000 });
    t.clock.ms = lastMoment;
    expect((await t.admit('k1')).ok).toBe(false);
    t.clock.ms = lastMoment + 1;
    expect((await t.admit('k1')).ok).toBe(true);
  });

  it('a rolling 24h budget frees spend bucket by bucket', async () => {
    const t = setup(
      { virtualKeys: [{ id: 'k1', name: 'k', hash: HASH(1), budgets: [{ window: 'rolling', duration: '24h', bucket: '1h', limitMicros: 1000 }] }] },
      Date.UTC(2025, 5, 2, 10, 30),
    );
    const spent = await t.admit('k1');
    if (!spent.ok) throw new Error('expected admission');
    await t.governance.settle(spent.reservation.requestId, { usage: { inputTokens: 1, outputTokens: 1 }, costMicros: 1000 });
    t.clock.ms = Date.UTC(2025, 5, 3, 9, 59, 59);
    expect((await t.admit('k1')).ok).toBe(false);
    t.clock.ms = Date.UTC(2025, 5, 3, 10, 0, 0); // the 10:00 bucket of yesterday left the window
    expect((await t.admit('k1')).ok).toBe(true);
  });

  it('release gives the estimate back and settle is idempotent', async () => {
    const t = setup({ virtualKeys: [{ id: 'k1', name: 'k', hash: HASH(1), budgets: [{ window: 'daily', limitMicros: 1000 }] }] }, MINUTE);
    const first = await t.admit('k1');
    if (!first.ok) throw new Error('expected admission');
    expect((await t.admit('k1')).ok).toBe(false);
    await t.governance.release(first.reservation.requestId);
    const second = await t.admit('k1');
    if (!second.ok) throw new Error('expected admission');
    await t.governance.settle(second.reservation.requestId, { usage: { inputTokens: 1, outputTokens: 1 }, costMicros: 400 });
    await t.governance.settle(second.reservation.requestId, { usage: { inputTokens: 1, outputTokens: 1 }, costMicros: 400 });
    const [usage] = await t.store.readBudgets(first.reservation.partition, [{ reads: [first.reservation.budgetCounters[0]!] }]);
    expect(usage).toEqual({ spentMicros: 400, reservedMicros: 0 });
  });
});

describe('access', () => {
  const raw = {
    profiles: [{ name: 'basic', models: ['gpt-4o'], providers: ['openai'], rateLimits: { requestsPerMinute: 100 } }],
    virtualKeys: [
      { id: 'k1', name: 'k1', hash: HASH(1), profile: 'basic' },
      { id: 'k2', name: 'k2', hash: HASH(2), profile: 'basic', models: ['claude-*'], providers: ['anthropic'] },
    ],
  };

  it('refuses models and providers outside the key policy with 403', async () => {
    const t = setup(raw, MINUTE);
    const model = await t.admit('k1', { model: 'gpt-4o-mini' });
    expect(!model.ok && model.error).toMatchObject({ status: 403, type: 'permission_error', code: 'model_not_allowed' });
    const provider = await t.admit('k1', { provider: 'groq' });
    expect(!provider.ok && provider.error.message).toContain('provider "groq"');
    // Key-level overrides replace the profile's field, not add to it.
    expect((await t.admit('k2', { model: 'claude-3-5-sonnet', provider: 'anthropic' })).ok).toBe(true);
    expect((await t.admit('k2', { model: 'gpt-4o', provider: 'anthropic' })).ok).toBe(false);
  });

  it('a profile edit applies to every attached key at once', async () => {
    const t = setup(raw, MINUTE);
    expect((await t.admit('k1', { model: 'gpt-4o-mini' })).ok).toBe(false);
    t.setConfig(parseConfig({ ...raw, profiles: [{ name: 'basic', models: ['gpt-4o*'], rateLimits: { requestsPerMinute: 1 } }] }));
    const allowed = await t.admit('k1', { model: 'gpt-4o-mini', provider: 'azure' });
    expect(allowed.ok && allowed.headers['x-ratelimit-remaining-requests']).toBe('0');
    expect((await t.admit('k1')).ok).toBe(false);
  });

  it('a key whose profile is missing fails closed', async () => {
    const t = setup({ virtualKeys: [{ id: 'k1', name: 'k', hash: HASH(1), profile: 'gone' }] }, MINUTE);
    const result = await t.admit('k1');
    expect(!result.ok && result.error.status).toBe(403);
  });
});
