// One contract, two stores: every behaviour the governance layer relies on is checked against the
// in-memory store and against a real Redis.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { MemoryStateStore } from '../../../extproc/governance/memory-store.ts';
import { RedisStateStore } from '../../../extproc/governance/redis-store.ts';
import type { BudgetCharge, RateCharge, ReserveRequest, StateStore } from '../../../extproc/governance/store.ts';
import { startRedis } from '../../helpers/redis.ts';
import type { RedisServer } from '../../helpers/redis.ts';

const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const FAR = NOW + 86_400_000;
const TTLS = { reservationTtlMs: 60_000, idempotencyTtlMs: 3_600_000 };

let redis: RedisServer;
const clients: Redis[] = [];
let partitionSeq = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis.stop();
});

function redisStore(): RedisStateStore {
  const client = new Redis(redis.url, { commandTimeout: 2000, maxRetriesPerRequest: 1 });
  clients.push(client);
  return new RedisStateStore({ client, keyPrefix: 'sbtest', commandTimeoutMs: 2000, ...TTLS });
}

function budget(counter: string, limitMicros: number): BudgetCharge {
  return { counter, reads: [counter], limitMicros, expiresAtMs: FAR };
}
function rate(counter: string, kind: 'requests' | 'tokens', limit: number): RateCharge {
  return { counter, kind, limit, expiresAtMs: FAR };
}
function request(partition: string, requestId: string, budgets: BudgetCharge[], rates: RateCharge[] = [], estimateMicros = 100, estimateTokens = 10): ReserveRequest {
  return { requestId, partition, subject: 'k1', budgets, rates, estimateMicros, estimateTokens, nowMs: NOW };
}

const implementations: [string, () => StateStore][] = [
  ['memory', () => new MemoryStateStore({ ...TTLS, clock: { now: () => NOW } })],
  ['redis', () => redisStore()],
];

describe.each(implementations)('%s state store', (_name, makeStore) => {
  let store: StateStore;
  let partition: string;
  beforeAll(() => {
    store = makeStore();
  });
  const fresh = (): string => (partition = `p${++partitionSeq}`);

  it('reserves at every level or at none', async () => {
    fresh();
    const keyBudget = budget('b:key:k1:daily', 1000);
    const teamBudget = budget('b:team:t1:daily', 150);
    expect((await store.reserve(request(partition, 'r1', [keyBudget, teamBudget]))).status).toBe('reserved');
    const second = await store.reserve(request(partition, 'r2', [keyBudget, teamBudget]));
    expect(second).toEqual({ status: 'budget_exceeded', index: 1, remainingMicros: 50 });
    // The key level was not charged by the refused request.
    expect(await store.readBudgets(partition, [keyBudget, teamBudget])).toEqual([
      { spentMicros: 0, reservedMicros: 100 },
      { spentMicros: 0, reservedMicros: 100 },
    ]);
  });

  it('settles the actual cost once, writes the ledger and ignores replays', async () => {
    fresh();
    const charge = budget('b:key:k1:monthly', 1000);
    const tokens = rate('r:key:k1:tokens:minute', 'tokens', 1000);
    const reserved = await store.reserve(request(partition, 'r1', [charge], [tokens], 300, 200));
    if (reserved.status !== 'reserved') throw new Error(reserved.status);
    expect(reserved.budgetRemaining).toEqual([700]);
    expect(reserved.rateRemaining).toEqual([800]);
    expect(await store.settle(reserved.reservation, { micros: 120, tokens: 50 }, NOW + 10)).toEqual({ status: 'settled' });
    expect(await store.settle(reserved.reservation, { micros: 120, tokens: 50 }, NOW + 20)).toEqual({ status: 'duplicate' });
    expect(await store.release(reserved.reservation, NOW + 30)).toEqual({ status: 'noop', state: 'settled' });
    expect(await store.readBudgets(partition, [charge])).toEqual([{ spentMicros: 120, reservedMicros: 0 }]);
    expect(await store.readRates(partition, [tokens.counter])).toEqual([50]);
    const ledger = await store.readLedger(partition);
    expect(ledger.map((entry) => [entry.requestId, entry.micros, entry.tokens])).toEqual([['r1', 120, 50]]);
    expect(await store.reserve(request(partition, 'r1', [charge]))).toEqual({ status: 'duplicate', state: 'settled' });
  });

  it('release returns the estimate and the token reservation but not the request count', async () => {
    fresh();
    const charge = budget('b:key:k1:daily', 1000);
    const requests = rate('r:key:k1:requests:minute', 'requests', 5);
    const tokens = rate('r:key:k1:tokens:minute', 'tokens', 1000);
    const reserved = await store.reserve(request(partition, 'r1', [charge], [requests, tokens], 400, 300));
    if (reserved.status !== 'reserved') throw new Error(reserved.status);
    expect(await store.release(reserved.reservation, NOW)).toEqual({ status: 'released' });
    expect(await store.release(reserved.reservation, NOW)).toEqual({ status: 'noop', state: 'released' });
    expect(await store.readBudgets(partition, [charge])).toEqual([{ spentMicros: 0, reservedMicros: 0 }]);
    expect(await store.readRates(partition, [requests.counter, tokens.counter])).toEqual([1, 0]);
  });

  it('expires a reservation nobody settled, and still records a late settle', async () => {
    fresh();
    const charge = budget('b:key:k1:daily', 1000);
    const reserved = await store.reserve(request(partition, 'crashed', [charge], [], 900));
    if (reserved.status !== 'reserved') throw new Error(reserved.status);
    expect((await store.reserve(request(partition, 'blocked', [charge], [], 200))).status).toBe('budget_exceeded');
    expect(await store.expireOverdue(partition, NOW + TTLS.reservationTtlMs - 1)).toBe(0);
    expect(await store.expireOverdue(partition, NOW + TTLS.reservationTtlMs)).toBe(1);
    expect(await store.readBudgets(partition, [charge])).toEqual([{ spentMicros: 0, reservedMicros: 0 }]);
    // The stream was only slow: its real cost is recorded, without giving back an estimate twice.
    expect(await store.settle(reserved.reservation, { micros: 250, tokens: 0 }, NOW + TTLS.reservationTtlMs + 5)).toEqual({ status: 'settled' });
    expect(await store.readBudgets(partition, [charge])).toEqual([{ spentMicros: 250, reservedMicros: 0 }]);
  });

  it('rate limits are exact at the limit', async () => {
    fresh();
    const requests = rate('r:key:k1:requests:minute:1', 'requests', 3);
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await store.reserve(request(partition, `r${i}`, [], [requests]))).status);
    expect(results).toEqual(['reserved', 'reserved', 'reserved', 'rate_limited']);
  });

  it('stores documents', async () => {
    await store.putDoc('team', 'docs-t1', '{"id":"docs-t1"}');
    expect(await store.getDoc('team', 'docs-t1')).toBe('{"id":"docs-t1"}');
    expect((await store.listDocs('team')).get('docs-t1')).toBe('{"id":"docs-t1"}');
    await store.deleteDoc('team', 'docs-t1');
    expect(await store.getDoc('team', 'docs-t1')).toBeUndefined();
  });
});

describe('redis store under concurrency from three replicas', () => {
  it('never settles more than the budget and the counters equal the ledger', async () => {
    const replicas = [redisStore(), redisStore(), redisStore()];
    const partition = 'concurrency';
    const limitMicros = 50_000;
    const charge = budget('b:team:t1:daily', limitMicros);
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const store = replicas[i % 3] as RedisStateStore;
        await new Promise((resolve) => setTimeout(resolve, i % 13)); // staggered: freed budget is reused
        const reserved = await store.reserve(request(partition, `req-${i}`, [charge], [], 1000));
        if (reserved.status !== 'reserved') return { id: `req-${i}`, outcome: reserved.status };
        await new Promise((resolve) => setTimeout(resolve, i % 7));
        if (i % 10 === 0) {
          await store.release(reserved.reservation, NOW);
          return { id: `req-${i}`, outcome: 'released' };
        }
        // Actual cost at or below the estimate, as when max_tokens bounds the output.
        await store.settle(reserved.reservation, { micros: 1000 - (i % 5) * 100, tokens: 0 }, NOW);
        return { id: `req-${i}`, outcome: 'settled' };
      }),
    );
    const settled = outcomes.filter((o) => o.outcome === 'settled');
    const [usage] = await replicas[0]!.readBudgets(partition, [charge]);
    const ledger = await replicas[1]!.readLedger(partition);
    const released = outcomes.filter((o) => o.outcome === 'released');
    // 50 estimates fit at once; releases and actuals below the estimate free room for a few more.
    expect(settled.length + released.length).toBeGreaterThanOrEqual(50);
    expect(outcomes.some((o) => o.outcome === 'budget_exceeded')).toBe(true);
    expect(usage!.spentMicros).toBeLessThanOrEqual(limitMicros);
    expect(usage!.reservedMicros).toBe(0);
    expect(usage!.spentMicros).toBe(ledger.reduce((sum, entry) => sum + entry.micros, 0));
    expect(new Set(ledger.map((entry) => entry.requestId))).toEqual(new Set(settled.map((o) => o.id)));
    const probe = new Redis(redis.url);
    clients.push(probe);
    expect(await probe.zcard('{sbtest:concurrency}:pending')).toBe(0);
  });
});
