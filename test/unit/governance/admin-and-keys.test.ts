// Virtual keys end to end through the admin service: scoped creation, authentication, expiry,
// revocation, rotation; the raw key never reaches the store (Redis or the snapshot file); spend
// in the in-memory store survives a restart.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { authenticateAdmin } from '../../../extproc/auth/admin-credentials.ts';
import { Authenticator } from '../../../extproc/auth/authenticate.ts';
import { CombinedKeyLookup, ConfigKeyLookup, DynamicKeyStore } from '../../../extproc/auth/key-store.ts';
import { generateVirtualKey, hashVirtualKey, keyHashSecretFromEnv } from '../../../extproc/auth/virtual-key.ts';
import { AdminError, AdminService } from '../../../extproc/governance/admin.ts';
import type { AdminCaller } from '../../../extproc/governance/admin.ts';
import { StoreDirectory } from '../../../extproc/governance/directory.ts';
import { MemoryStateStore } from '../../../extproc/governance/memory-store.ts';
import { RedisStateStore } from '../../../extproc/governance/redis-store.ts';
import type { StateStore } from '../../../extproc/governance/store.ts';
import { startRedis } from '../../helpers/redis.ts';
import type { RedisServer } from '../../helpers/redis.ts';
import { TestClock, governanceFor, parseConfig } from './fixtures.ts';

const SECRET = keyHashSecretFromEnv({ SWITCHBOARD_KEY_HASH_SECRET: 'test-secret-test-secret-test-secret-0123' });
const GLOBAL: AdminCaller = { id: 'root', scopes: ['global'] };
const TEAM_A: AdminCaller = { id: 'lead-a', scopes: ['team:a'] };
const ACME: AdminCaller = { id: 'acme-admin', scopes: ['customer:acme'] };

const declaredRaw = 'sk-sb-declared-key-for-tests-0000000000000000000';
const config = parseConfig({
  customers: [{ id: 'acme', budgets: [{ window: 'monthly', limitUsd: 100 }] }],
  teams: [
    { id: 'a', customerId: 'acme', budgets: [{ window: 'monthly', limitUsd: 10 }], rateLimits: { requestsPerMinute: 60 } },
    { id: 'b', customerId: 'acme' },
  ],
  profiles: [{ name: 'chat', models: ['gpt-4o*'] }],
  virtualKeys: [{ id: 'declared', name: 'from yaml', hash: hashVirtualKey(declaredRaw, SECRET), teamId: 'b', expiresAt: '2025-07-01T00:00:00+02:00' }],
});

function setup(store: StateStore, clock = new TestClock(Date.UTC(2025, 5, 2, 10))) {
  const directory = new StoreDirectory({ config: () => config, store, clock, cacheTtlMs: 0 });
  const dynamicKeys = new DynamicKeyStore({ store, clock, cacheTtlMs: 0 });
  const admin = new AdminService({ config: () => config, store, keys: dynamicKeys, directory, secret: SECRET, clock });
  const auth = new Authenticator({ keys: new CombinedKeyLookup(new ConfigKeyLookup(() => config.virtualKeys), dynamicKeys), secret: SECRET });
  return { admin, auth, clock, directory };
}

describe('virtual keys', () => {
  it('look like sk-sb-<base64url> and hash deterministically under the secret', () => {
    const key = generateVirtualKey();
    expect(key).toMatch(/^sk-sb-[A-Za-z0-9_-]{43}$/);
    expect(hashVirtualKey(key, SECRET)).toBe(hashVirtualKey(key, SECRET));
    expect(hashVirtualKey(key, SECRET)).not.toBe(hashVirtualKey(key, Buffer.from('another-secret-another-secret-0123')));
    expect(() => keyHashSecretFromEnv({ SWITCHBOARD_KEY_HASH_SECRET: 'short' })).toThrow();
  });

  it('authenticate: missing, unknown, declared by hash, expired, revoked, rotated', async () => {
    const t = setup(new MemoryStateStore({ reservationTtlMs: 1000, idempotencyTtlMs: 1000, clock: new TestClock(0) }));
    const now = Date.UTC(2025, 5, 2, 10);
    expect(await t.auth.authenticate(undefined, now)).toMatchObject({ ok: false, reason: 'missing', error: { status: 401, code: 'invalid_api_key' } });
    expect(await t.auth.authenticate('sk-sb-nope', now)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(await t.auth.authenticate(declaredRaw, now)).toMatchObject({ ok: true, principal: { keyId: 'declared', teamId: 'b' } });
    // Declared expiry: 1 July 00:00 in Berlin = 30 June 22:00 UTC.
    expect(await t.auth.authenticate(declaredRaw, Date.UTC(2025, 5, 30, 22))).toMatchObject({ ok: false, reason: 'expired', error: { status: 401, type: 'authentication_error' } });

    const created = await t.admin.createKey(GLOBAL, { name: 'ci', teamId: 'a' });
    expect((await t.auth.authenticate(created.key, now)).ok).toBe(true);
    const rotated = await t.admin.rotateKey(GLOBAL, created.record.id);
    expect(await t.auth.authenticate(created.key, now)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(await t.auth.authenticate(rotated.key, now)).toMatchObject({ ok: true, principal: { keyId: created.record.id } });
    await t.admin.revokeKey(TEAM_A, created.record.id);
    expect(await t.auth.authenticate(rotated.key, now)).toMatchObject({ ok: false, reason: 'revoked', error: { status: 401 } });
    await expect(t.admin.updateKey(GLOBAL, 'declared', { name: 'x' })).rejects.toMatchObject({ status: 409 });
  });
});

describe('admin scopes', () => {
  it('admin credentials authenticate to their scopes only', () => {
    const admins = parseConfig({ admins: [{ id: 'lead', hash: hashVirtualKey('sk-sb-admin-lead', SECRET), scopes: ['team:a'] }] }).admins;
    expect(authenticateAdmin('sk-sb-admin-lead', admins, SECRET)).toEqual({ id: 'lead', scopes: ['team:a'] });
    expect(authenticateAdmin('sk-sb-admin-other', admins, SECRET)).toBeUndefined();
    expect(authenticateAdmin(declaredRaw, admins, SECRET)).toBeUndefined();
  });

  it('a scoped admin cannot act or grant beyond its scope', async () => {
    const t = setup(new MemoryStateStore({ reservationTtlMs: 1000, idempotencyTtlMs: 1000, clock: new TestClock(0) }));
    await expect(t.admin.createKey(TEAM_A, { name: 'x', teamId: 'b' })).rejects.toMatchObject({ status: 403 });
    await expect(t.admin.createKey(TEAM_A, { name: 'x' })).rejects.toMatchObject({ status: 403 });
    await expect(t.admin.createKey(TEAM_A, { name: 'x', teamId: 'a', budgets: [{ window: 'monthly', limitUsd: 11 }] })).rejects.toThrow(/exceeds team "a"/);
    await expect(t.admin.createKey(TEAM_A, { name: 'x', teamId: 'a', rateLimits: { requestsPerMinute: 61 } })).rejects.toThrow(AdminError);
    const ok = await t.admin.createKey(TEAM_A, { name: 'x', teamId: 'a', profile: 'chat', budgets: [{ window: 'monthly', limitUsd: 10 }] });
    expect(ok.record).toMatchObject({ teamId: 'a', profile: 'chat' });
    expect(ok.record).not.toHaveProperty('hash');
    // A customer admin manages teams of its customer, within the customer's budget, and no other.
    await expect(t.admin.putTeam(ACME, { id: 'c', customerId: 'acme', budgets: [{ window: 'monthly', limitUsd: 101 }] })).rejects.toMatchObject({ status: 403 });
    await t.admin.putTeam(ACME, { id: 'c', customerId: 'acme', budgets: [{ window: 'monthly', limitUsd: 50 }] });
    await expect(t.admin.putTeam(TEAM_A, { id: 'c', customerId: 'acme' })).rejects.toMatchObject({ status: 403 });
    await expect(t.admin.putTeam(ACME, { id: 'other', customerId: 'globex' })).rejects.toMatchObject({ status: 403 });
    await expect(t.admin.putProfile(ACME, { name: 'p' })).rejects.toMatchObject({ status: 403 });
    // Visibility follows scope.
    expect((await t.admin.listKeys(TEAM_A)).map((key) => key.id)).toEqual([ok.record.id]);
    expect((await t.admin.listKeys(ACME)).map((key) => key.id).sort()).toEqual(['declared', ok.record.id].sort());
    await expect(t.admin.readSpend(TEAM_A, 'team', 'b')).rejects.toMatchObject({ status: 403 });
  });

  it('reports spend of a key and its team after requests settle', async () => {
    const clock = new TestClock(Date.UTC(2025, 5, 2, 10));
    const store = new MemoryStateStore({ reservationTtlMs: 60_000, idempotencyTtlMs: 60_000, clock });
    const t = setup(store, clock);
    const created = await t.admin.createKey(TEAM_A, { name: 'x', teamId: 'a' });
    const authenticated = await t.auth.authenticate(created.key, clock.now());
    if (!authenticated.ok) throw new Error('expected key');
    const { governance } = governanceFor({ config: () => config, store, clock });
    const admitted = await governance.admit({ requestId: 'r1', principal: authenticated.principal, provider: 'openai', model: 'gpt-4o', estimateMicros: 500, estimateTokens: 10, now: clock.now() });
    if (!admitted.ok) throw new Error(admitted.error.message);
    await governance.settle('r1', { usage: { inputTokens: 10, outputTokens: 20 }, costMicros: 321 });
    const keySpend = await t.admin.readSpend(TEAM_A, 'key', created.record.id);
    expect(keySpend.budgets).toEqual([{ budget: { window: 'monthly', limitMicros: Number.MAX_SAFE_INTEGER }, enforced: false, spentMicros: 321, reservedMicros: 0 }]);
    expect(keySpend.ledger).toEqual({ requests: 1, micros: 321, tokens: 30 });
    const teamSpend = await t.admin.readSpend(ACME, 'team', 'a');
    expect(teamSpend.budgets[0]).toMatchObject({ enforced: true, spentMicros: 321 });
  });
});

describe('persistence and secrecy', () => {
  let redis: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });

  it('the raw key never appears in Redis keys or values', async () => {
    const store = new RedisStateStore({ client, keyPrefix: 'sb', commandTimeoutMs: 1000, reservationTtlMs: 60_000, idempotencyTtlMs: 60_000 });
    const clock = new TestClock(Date.UTC(2025, 5, 2, 10));
    const t = setup(store, clock);
    const { key: canary, record } = await t.admin.createKey(GLOBAL, { name: 'canary', teamId: 'a' });
    const authenticated = await t.auth.authenticate(canary, clock.now());
    if (!authenticated.ok) throw new Error('expected key');
    const { governance } = governanceFor({ config: () => config, store, clock });
    await governance.admit({ requestId: 'r1', principal: authenticated.principal, provider: 'openai', model: 'gpt-4o', estimateMicros: 5, estimateTokens: 1, now: clock.now() });
    await governance.settle('r1', { usage: { inputTokens: 1, outputTokens: 1 }, costMicros: 5 });
    await t.admin.rotateKey(GLOBAL, record.id);

    const dump: string[] = [];
    for (const name of await client.keys('*')) {
      dump.push(name);
      const type = await client.type(name);
      if (type === 'hash') dump.push(JSON.stringify(await client.hgetall(name)));
      else if (type === 'stream') dump.push(JSON.stringify(await client.xrange(name, '-', '+')));
      else if (type === 'zset') dump.push(JSON.stringify(await client.zrange(name, '0', '-1')));
      else if (type === 'string') dump.push((await client.get(name)) ?? '');
      else throw new Error(`unexpected type ${type}`);
    }
    const text = dump.join('\n');
    expect(text).toContain(record.id); // the dump is real: the key's record is in it
    expect(text).not.toContain(canary);
    expect(text).not.toContain(canary.slice('sk-sb-'.length, 'sk-sb-'.length + 16));
  });

  it('in-memory spend, keys and ledger survive a restart; the snapshot holds no raw key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sb-governance-'));
    try {
      const clock = new TestClock(Date.UTC(2025, 5, 2, 10));
      const first = await MemoryStateStore.open({ dir, reservationTtlMs: 60_000, idempotencyTtlMs: 3_600_000, clock });
      const t = setup(first, clock);
      const { key: canary } = await t.admin.createKey(GLOBAL, { name: 'canary', teamId: 'a' });
      const authenticated = await t.auth.authenticate(canary, clock.now());
      if (!authenticated.ok) throw new Error('expected key');
      const { governance } = governanceFor({ config: () => config, store: first, clock });
      await governance.admit({ requestId: 'r1', principal: authenticated.principal, provider: 'openai', model: 'gpt-4o', estimateMicros: 900, estimateTokens: 1, now: clock.now() });
      await governance.settle('r1', { usage: { inputTokens: 1, outputTokens: 1 }, costMicros: 777 });
      await first.close();
      expect(await readdir(dir)).toEqual(['governance-state.json']); // temp file renamed away

      const file = await readFile(join(dir, 'governance-state.json'), 'utf8');
      expect(file).toContain('777');
      expect(file).not.toContain(canary);

      const second = await MemoryStateStore.open({ dir, reservationTtlMs: 60_000, idempotencyTtlMs: 3_600_000, clock });
      const after = setup(second, clock);
      expect((await after.auth.authenticate(canary, clock.now())).ok).toBe(true);
      const spend = await after.admin.readSpend(GLOBAL, 'team', 'a');
      expect(spend.budgets[0]).toMatchObject({ spentMicros: 777, reservedMicros: 0 });
      expect(spend.ledger).toEqual({ requests: 1, micros: 777, tokens: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
