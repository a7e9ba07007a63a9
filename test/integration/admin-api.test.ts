// The admin API on server.admin, through the real gateway: 3 workers sharing a real Redis, the
// admin server in worker 0, keys it creates used through Envoy by any worker.
import { createOpenAISimulator } from '../simulators/openai.ts';
import type { SimulatedServer } from '../simulators/recorder.ts';
import { newVirtualKey, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { admin, adminUrl, chat, COST_PER_REQUEST, errorCode, metrics, metricValue, pricedConfig, TEN_WORDS, within } from '../helpers/governance.ts';

/** DynamicKeyStore's cache: a revocation reaches every worker within this delay (README). */
const KEY_CACHE_MS = 2000;

let sim: SimulatedServer;
let redis: RedisServer;
let gw: TestGateway;
const root = newVirtualKey();
const teamLead = newVirtualKey();
const configKey = newVirtualKey();

beforeAll(async () => {
  sim = await createOpenAISimulator().start();
  redis = await startRedis();
  gw = await startTestGateway(
    `${pricedConfig(sim.url)}
teams:
  - { id: x, budgets: [{ window: daily, limitUsd: 1 }], rateLimits: { requestsPerMinute: 1000 } }
  - { id: y }
virtualKeys:
  - { id: declared, name: Declared key, hash: ${configKey.hash} }
admins:
  - { id: root, hash: ${root.hash}, scopes: [global] }
  - { id: x-lead, hash: ${teamLead.hash}, scopes: ["team:x"] }
state: { type: redis, url: "${redis.url}", replicas: 3 }
`,
    { env: { SIM_OPENAI_KEY: 'sk-sim' }, workers: 3 },
  );
});

afterAll(async () => {
  await gw?.stop();
  await redis?.stop();
  await sim?.stop();
});

beforeEach(() => {
  sim.reset();
  sim.defaultBehaviour = { text: TEN_WORDS };
});

test('no, a wrong, or a virtual-key credential -> 401 JSON error; /healthz and /metrics need none', async () => {
  for (const key of [undefined, 'sk-sb-not-an-admin', configKey.key]) {
    const r = await admin(gw, key, 'GET', '/admin/keys');
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(errorCode(r)).toBe('invalid_admin_key');
    expect(r.headers.get('www-authenticate')).toContain('Bearer');
  }
  // Unknown routes are not revealed to anonymous callers either.
  expect((await admin(gw, undefined, 'POST', '/admin/no-such-route', {})).status).toBe(401);
  expect((await admin(gw, undefined, 'GET', '/healthz')).json).toEqual({ status: 'ok' });
  const text = await metrics(gw);
  expect(text).toContain('# TYPE switchboard_requests_total counter');
  expect((await admin(gw, root.key, 'GET', '/admin/whoami')).json).toEqual({ id: 'root', scopes: ['global'] });
});

test('the admin API is not reachable through the public Envoy listener', async () => {
  const res = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${root.key}` } });
  expect(res.status).not.toBe(200);
  expect(await res.text()).not.toContain('"data"');
  expect(adminUrl(gw)).not.toBe(gw.url);
});

test('a team-scoped admin cannot create keys beyond its scope (403), and can inside it', async () => {
  const otherTeam = await admin(gw, teamLead.key, 'POST', '/admin/keys', { name: 'for y', teamId: 'y' });
  expect(otherTeam.status).toBe(403);
  expect(errorCode(otherTeam)).toBe('forbidden');
  const noTeam = await admin(gw, teamLead.key, 'POST', '/admin/keys', { name: 'teamless' });
  expect(noTeam.status).toBe(403);
  const tooRich = await admin(gw, teamLead.key, 'POST', '/admin/keys', { name: 'rich', teamId: 'x', budgets: [{ window: 'daily', limitUsd: 5 }] });
  expect(tooRich.status).toBe(403);
  expect((tooRich.json as { error: { message: string } }).error.message).toContain('team "x"');
  const tooFast = await admin(gw, teamLead.key, 'POST', '/admin/keys', { name: 'fast', teamId: 'x', rateLimits: { requestsPerMinute: 5000 } });
  expect(tooFast.status).toBe(403);
  const profileEdit = await admin(gw, teamLead.key, 'PUT', '/admin/profiles/p1', { models: ['*'] });
  expect(profileEdit.status).toBe(403);

  const created = await admin(gw, teamLead.key, 'POST', '/admin/keys', { name: 'x bot', teamId: 'x', budgets: [{ window: 'daily', limitUsd: 0.5 }] });
  expect(created.status).toBe(201);
  const { key, record } = created.json as { key: string; record: { id: string; teamId: string; hash?: string } };
  expect(key.startsWith('sk-sb-')).toBe(true);
  expect(record.teamId).toBe('x');
  expect(record.hash).toBeUndefined();
  expect((await chat(gw.url, key)).status).toBe(200);
  // The lead sees its team's keys only; root sees them all, the declared one included.
  const leadList = (await admin(gw, teamLead.key, 'GET', '/admin/keys')).json as { data: { id: string; teamId?: string }[] };
  expect(leadList.data.every((k) => k.teamId === 'x')).toBe(true);
  expect(leadList.data.map((k) => k.id)).toContain(record.id);
  const rootList = (await admin(gw, root.key, 'GET', '/admin/keys')).json as { data: { id: string }[] };
  expect(rootList.data.map((k) => k.id)).toEqual(expect.arrayContaining(['declared', record.id]));
});

test('a created key works through the gateway on every worker; revoked, it gets 401 within the cache delay', async () => {
  const created = await admin(gw, root.key, 'POST', '/admin/keys', { name: 'temp' });
  expect(created.status).toBe(201);
  const { key, record } = created.json as { key: string; record: { id: string } };
  // Several requests so that every worker (and its key cache) has seen the key.
  for (let i = 0; i < 9; i++) expect((await chat(gw.url, key)).status).toBe(200);

  const revoked = await admin(gw, root.key, 'POST', `/admin/keys/${record.id}/revoke`);
  expect(revoked.status).toBe(200);
  expect((revoked.json as { active: boolean }).active).toBe(false);
  const revokedAt = Date.now();
  // Within the cache delay every worker refuses it, and keeps refusing.
  await within(KEY_CACHE_MS + 1000, async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => chat(gw.url, key)));
    return results.every((r) => r.status === 401);
  }, 'revocation on every worker');
  expect(Date.now() - revokedAt).toBeLessThan(KEY_CACHE_MS + 1000);
  for (let i = 0; i < 6; i++) {
    const r = await chat(gw.url, key);
    expect(r.status).toBe(401);
    expect(errorCode(r)).toBe('invalid_api_key');
  }
});

test('rotate: the new secret works and the old one stops; update narrows models', async () => {
  const created = (await admin(gw, root.key, 'POST', '/admin/keys', { name: 'rotating' })).json as { key: string; record: { id: string } };
  expect((await chat(gw.url, created.key)).status).toBe(200);
  const rotated = await admin(gw, root.key, 'POST', `/admin/keys/${created.record.id}/rotate`);
  expect(rotated.status).toBe(200);
  const fresh = (rotated.json as { key: string }).key;
  expect(fresh).not.toBe(created.key);
  expect((await chat(gw.url, fresh)).status).toBe(200);
  await within(KEY_CACHE_MS + 1000, async () => (await Promise.all(Array.from({ length: 6 }, () => chat(gw.url, created.key)))).every((r) => r.status === 401), 'old secret refused');

  const patched = await admin(gw, root.key, 'PATCH', `/admin/keys/${created.record.id}`, { models: ['other-model'] });
  expect(patched.status).toBe(200);
  await within(KEY_CACHE_MS + 1000, async () => (await Promise.all(Array.from({ length: 6 }, () => chat(gw.url, fresh)))).every((r) => r.status === 403 && errorCode(r) === 'model_not_allowed'), 'update applied');
  expect((await chat(gw.url, fresh, { model: 'other-model' })).status).toBe(200);
  // A key declared in gateway.yaml is read-only here.
  expect((await admin(gw, root.key, 'POST', '/admin/keys/declared/revoke')).status).toBe(409);
  expect((await admin(gw, root.key, 'POST', '/admin/keys/nope/revoke')).status).toBe(404);
});

test('teams, customers and profiles: put, use, read spend, delete', async () => {
  expect((await admin(gw, root.key, 'PUT', '/admin/customers/acme', { name: 'Acme', budgets: [{ window: 'monthly', limitUsd: 10 }] })).status).toBe(200);
  const team = await admin(gw, root.key, 'PUT', '/admin/teams/search', { customerId: 'acme', budgets: [{ window: 'daily', limitUsd: 2 }] });
  expect(team.status).toBe(200);
  expect(team.json).toMatchObject({ id: 'search', customerId: 'acme' });
  expect((await admin(gw, root.key, 'PUT', '/admin/teams/search', { id: 'other' })).status).toBe(400);
  expect((await admin(gw, root.key, 'PUT', '/admin/teams/x', {})).status).toBe(409); // declared in gateway.yaml
  expect((await admin(gw, root.key, 'PUT', '/admin/profiles/mini', { models: [MODEL_GLOB] })).status).toBe(200);
  const made = await admin(gw, root.key, 'POST', '/admin/keys', { name: 'search bot', teamId: 'search', profile: 'mini' });
  expect(made.status).toBe(201);
  const { key, record } = made.json as { key: string; record: { id: string } };
  expect((await chat(gw.url, key)).status).toBe(200);
  expect(errorCode(await chat(gw.url, key, { model: 'other-model' }))).toBe('model_not_allowed');

  for (const [level, id] of [['key', record.id], ['team', 'search'], ['customer', 'acme']] as const) {
    const spend = await admin(gw, root.key, 'GET', `/admin/spend/${level}/${id}`);
    expect(spend.status).toBe(200);
    const report = spend.json as { budgets: { spentMicros: number; reservedMicros: number }[]; ledger: { requests: number; micros: number; tokens: number } };
    expect(report.ledger).toEqual({ requests: 1, micros: COST_PER_REQUEST, tokens: expect.any(Number) as number });
    for (const b of report.budgets) expect(b).toMatchObject({ spentMicros: COST_PER_REQUEST, reservedMicros: 0 });
  }
  expect((await admin(gw, teamLead.key, 'GET', '/admin/spend/team/search')).status).toBe(403);
  expect((await admin(gw, root.key, 'GET', '/admin/spend/galaxy/acme')).status).toBe(404);
  expect((await admin(gw, teamLead.key, 'DELETE', '/admin/teams/search')).status).toBe(403);
  expect((await admin(gw, root.key, 'DELETE', '/admin/profiles/mini')).status).toBe(204);
});

test('malformed bodies and wrong methods are 400 / 405 JSON errors', async () => {
  const res = await fetch(`${adminUrl(gw)}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${root.key}`, 'content-type': 'application/json' }, body: '{"name":' });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_body');
  const unknownField = await admin(gw, root.key, 'POST', '/admin/keys', { name: 'k', hash: 'hmac-sha256:00' });
  expect(unknownField.status).toBe(400);
  expect((await admin(gw, root.key, 'PUT', '/admin/keys')).status).toBe(405);
});

test('/metrics sums every worker', async () => {
  const before = metricValue(await metrics(gw), 'switchboard_requests_total');
  for (let i = 0; i < 12; i++) expect((await chat(gw.url, configKey.key)).status).toBe(200);
  const after = metricValue(await metrics(gw), 'switchboard_requests_total');
  expect(after - before).toBe(12);
});

const MODEL_GLOB = 'sim-*';
