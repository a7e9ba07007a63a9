// Redis goes away mid-run: budgets fail closed within the command timeout, rate limits degrade to
// this replica's share, and once Redis is back, retried settles of the same request ids count once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisStateStore } from '../../../extproc/governance/redis-store.ts';
import { startRedis } from '../../helpers/redis.ts';
import type { RedisServer } from '../../helpers/redis.ts';
import { HASH, TestClock, governanceFor, parseConfig, principalFor } from './fixtures.ts';

const TIMEOUT_MS = 250;
let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { commandTimeout: TIMEOUT_MS, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

const config = parseConfig({
  virtualKeys: [
    { id: 'budgeted', name: 'b', hash: HASH(1), budgets: [{ window: 'daily', limitUsd: 1 }] },
    { id: 'limited', name: 'l', hash: HASH(2), rateLimits: { requestsPerMinute: 4 } },
  ],
});

function setup() {
  const clock = new TestClock(Date.UTC(2025, 5, 2, 10, 0, 0));
  const store = new RedisStateStore({ client, keyPrefix: 'outage', commandTimeoutMs: TIMEOUT_MS, reservationTtlMs: 600_000, idempotencyTtlMs: 3_600_000 });
  return { clock, store, ...governanceFor({ config: () => config, store, clock, replicas: 2 }) };
}

describe('redis outage', () => {
  it('fails budgets closed within the timeout and degrades rate limits; nothing double counts after', async () => {
    const t = setup();
    const admit = (keyId: string, requestId: string) =>
      t.governance.admit({ requestId, principal: principalFor(config, keyId), provider: 'openai', model: 'gpt-4o', estimateMicros: 1000, estimateTokens: 10, now: t.clock.now() });

    // Healthy: five requests admitted.
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5'];
    for (const id of ids) expect((await admit('budgeted', id)).ok).toBe(true);

    // Partition: Redis stops answering. Settles time out and are deferred, but their commands
    // may still be executed by Redis once it resumes.
    redis.pause();
    for (const id of ids) await t.governance.settle(id, { usage: { inputTokens: 5, outputTokens: 5 }, costMicros: 700 });
    expect(t.governance.deferredCount).toBe(5);
    // (the refused reserve below adds a sixth: a compensating release)

    const started = performance.now();
    const refused = await admit('budgeted', 'during-outage');
    const elapsed = performance.now() - started;
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.status).toBe(503);
    expect(refused.error.message).toContain('state store unavailable');
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 150);
    expect(await t.metricValue('switchboard_budget_fail_closed_total')).toBe(1);
    expect(await t.metricValue('switchboard_state_store_unavailable_total')).toBeGreaterThanOrEqual(6);

    // No budget on this key: its 4 per minute become 4 / 2 replicas = 2 on this replica.
    const degraded = [];
    for (let i = 0; i < 3; i++) degraded.push(await admit('limited', `d${i}`));
    expect(degraded.map((result) => result.ok)).toEqual([true, true, false]);
    expect(await t.metricValue('switchboard_ratelimit_degraded_total')).toBe(3);
    expect(t.logLines.join('')).toContain('budget fails closed');

    // Redis is back: the queued settles may have run; the retries must not add to them.
    redis.resume();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await t.governance.flushDeferred()).toBe(0);
    expect(await t.governance.flushDeferred()).toBe(0);
    const partition = 'k:budgeted';
    const ledger = await t.store.readLedger(partition);
    expect(ledger.map((entry) => entry.requestId).sort()).toEqual(ids);
    const counter = ledger[0]!.budgetCounters[0]!;
    const [usage] = await t.store.readBudgets(partition, [{ reads: [counter] }]);
    expect(usage).toEqual({ spentMicros: 5 * 700, reservedMicros: 0 });
    // A client retrying one of the same request ids is not charged a second time either.
    const replay = await admit('budgeted', 'r1');
    expect(replay.ok && replay.headers).toEqual({});
    const [afterReplay] = await t.store.readBudgets(partition, [{ reads: [counter] }]);
    expect(afterReplay).toEqual(usage);
  });

  it('fails closed when Redis is killed, and recovers when it returns', async () => {
    const t = setup();
    const admit = (requestId: string) =>
      t.governance.admit({ requestId, principal: principalFor(config, 'budgeted'), provider: 'openai', model: 'gpt-4o', estimateMicros: 1000, estimateTokens: 10, now: t.clock.now() });
    await redis.kill();
    const started = performance.now();
    const refused = await admit('killed-1');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 150);
    expect(!refused.ok && refused.error.status).toBe(503);
    await redis.restart();
    await new Promise((resolve) => setTimeout(resolve, 300)); // ioredis reconnects on its schedule
    expect((await admit('killed-2')).ok).toBe(true);
  });
});

describe('event-loop stalls', () => {
  it('a reply that arrived in time is not lost to the deadline when the loop was blocked past it', async () => {
    const { connectRedis } = await import('../../../extproc/governance/redis-store.ts');
    const stalled = connectRedis(redis.url, TIMEOUT_MS);
    try {
      const store = new RedisStateStore({ client: stalled, keyPrefix: 'stall', commandTimeoutMs: TIMEOUT_MS, reservationTtlMs: 600_000, idempotencyTtlMs: 3_600_000 });
      await store.putDoc('team', 't', '{}');
      const pending = store.getDoc('team', 't');
      // A long synchronous task (GC, a cold cache, a big body): Redis answers within a
      // millisecond, but nothing runs until the loop is free, and then timers run before I/O.
      const until = Date.now() + TIMEOUT_MS * 2;
      while (Date.now() < until) { /* busy */ }
      await expect(pending).resolves.toBe('{}');
    } finally {
      stalled.disconnect();
    }
  });
});
