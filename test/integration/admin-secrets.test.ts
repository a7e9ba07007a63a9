// A raw virtual key appears nowhere but in the client's hands: not in any log line of the gateway
// (supervisor, workers, Envoy: `switchboard start` run as a real process, its output captured), not
// in the state store (every Redis key and value scanned), not in any file under the state
// directory (audit log, snapshots, bootstrap), not in any response body or header. Canary keys are
// used on every path that touches a key: success, stream, 401/403/429 errors, each credential
// header, the Gemini ?key= query, admin calls, and an admin-created key.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createOpenAISimulator } from '../simulators/openai.ts';
import type { SimulatedServer } from '../simulators/recorder.ts';
import { newVirtualKey, TEST_KEY_HASH_SECRET } from '../helpers/gateway.ts';
import { freePort } from '../helpers/ports.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { MODEL, pricedConfig, TEN_WORDS, within } from '../helpers/governance.ts';

let sim: SimulatedServer;
let redis: RedisServer;
let child: ChildProcess;
let output = '';
let dir: string;
let url: string;
let adminBase: string;
const rootAdmin = newVirtualKey();
const canary = newVirtualKey();
const unknownCanary = `sk-sb-CANARYunknown${'x'.repeat(30)}`;
const seen: string[] = [];

beforeAll(async () => {
  sim = await createOpenAISimulator().start();
  sim.defaultBehaviour = { text: TEN_WORDS };
  redis = await startRedis();
  dir = mkdtempSync(path.join(os.tmpdir(), 'sb-secrets-'));
  const [listen, adminPort, envoyAdmin] = [await freePort(), await freePort(), await freePort()];
  url = `http://127.0.0.1:${listen}`;
  adminBase = `http://127.0.0.1:${adminPort}`;
  const configFile = path.join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    `server:
  listener: { host: 127.0.0.1, port: ${listen} }
  admin: { host: 127.0.0.1, port: ${adminPort} }
  envoyAdmin: { host: 127.0.0.1, port: ${envoyAdmin} }
  workers: 2
  stateDir: ${dir}/state
  drainTimeoutMs: 2000
${pricedConfig(sim.url)}
virtualKeys:
  - { id: canary, name: Canary, hash: ${canary.hash}, models: [${MODEL}], rateLimits: { requestsPerMinute: 4 } }
admins:
  - { id: root, hash: ${rootAdmin.hash}, scopes: [global] }
state: { type: redis, url: "${redis.url}", replicas: 2 }
audit: { sink: file, dir: ${dir}/state/audit }
`,
  );
  child = spawn(process.execPath, ['extproc/cli.ts', 'start', '-c', configFile], {
    env: { ...process.env, SWITCHBOARD_KEY_HASH_SECRET: TEST_KEY_HASH_SECRET, SIM_OPENAI_KEY: 'sk-sim' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await within(30_000, async () => output.includes('switchboard: serving on') || child.exitCode !== null, 'gateway start');
  if (child.exitCode !== null) throw new Error(`switchboard start exited:\n${output}`);
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await redis?.stop();
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function call(target: string, init: RequestInit): Promise<number> {
  const res = await fetch(target, init);
  const body = await res.text();
  seen.push(body, JSON.stringify([...res.headers]));
  return res.status;
}

const chatBody = (model = MODEL, stream = false) => JSON.stringify({ model, max_tokens: 10, stream, messages: [{ role: 'user', content: 'hello' }] });

function filesUnder(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const full = path.join(root, name);
    const st = statSync(full);
    if (st.isDirectory()) out.push(...filesUnder(full));
    else if (st.isFile()) out.push(full);
  }
  return out;
}

async function dumpRedis(): Promise<string> {
  const client = new Redis(redis.url);
  try {
    const parts: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', '*', 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await client.type(key);
        parts.push(key);
        if (type === 'string') parts.push((await client.get(key)) ?? '');
        else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
        else if (type === 'zset') parts.push(JSON.stringify(await client.zrange(key, '0', '-1', 'WITHSCORES')));
        else if (type === 'stream') parts.push(JSON.stringify(await client.xrange(key, '-', '+')));
        else if (type === 'list') parts.push(JSON.stringify(await client.lrange(key, 0, -1)));
        else if (type === 'set') parts.push(JSON.stringify(await client.smembers(key)));
        else parts.push(`<unscanned ${type}>`);
      }
    } while (cursor !== '0');
    return parts.join('\n');
  } finally {
    client.disconnect();
  }
}

test('canary keys appear in no log line, no Redis key or value, no state file, no response', async () => {
  const json = { 'content-type': 'application/json' };
  const openai = `${url}/v1/chat/completions`;
  expect(await call(openai, { method: 'POST', headers: { ...json, authorization: `Bearer ${canary.key}` }, body: chatBody() })).toBe(200);
  expect(await call(openai, { method: 'POST', headers: { ...json, authorization: `Bearer ${canary.key}` }, body: chatBody(MODEL, true) })).toBe(200);
  expect(await call(openai, { method: 'POST', headers: { ...json, authorization: `Bearer ${canary.key}` }, body: chatBody('other-model') })).toBe(403);
  expect(await call(openai, { method: 'POST', headers: { ...json, authorization: `Bearer ${canary.key}` }, body: '{"model":' })).toBe(400);
  expect(await call(openai, { method: 'POST', headers: { ...json, authorization: `Bearer ${unknownCanary}` }, body: chatBody() })).toBe(401);
  expect(await call(openai, { method: 'POST', headers: { ...json, 'x-api-key': unknownCanary }, body: chatBody() })).toBe(401);
  expect(await call(`${url}/v1/messages`, { method: 'POST', headers: { ...json, 'x-api-key': unknownCanary, 'anthropic-version': '2023-06-01' }, body: JSON.stringify({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }) })).toBe(401);
  expect(await call(`${url}/v1beta/models/${MODEL}:generateContent?key=${unknownCanary}`, { method: 'POST', headers: json, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }) })).toBe(401);
  expect(await call(`${url}/v1/models`, { headers: { authorization: `Bearer ${unknownCanary}` } })).toBe(401);
  // Rate limit (4 per minute): this key has made 4 requests that reached admission or beyond.
  let limited = 0;
  for (let i = 0; i < 4; i++) if ((await call(openai, { method: 'POST', headers: { ...json, authorization: `Bearer ${canary.key}` }, body: chatBody() })) === 429) limited++;
  expect(limited).toBeGreaterThan(0);
  // The admin API: a virtual key as an admin credential, and a key it creates.
  expect(await call(`${adminBase}/admin/keys`, { headers: { authorization: `Bearer ${canary.key}` } })).toBe(401);
  const created = await fetch(`${adminBase}/admin/keys`, { method: 'POST', headers: { ...json, authorization: `Bearer ${rootAdmin.key}` }, body: JSON.stringify({ name: 'made' }) });
  expect(created.status).toBe(201);
  const made = (await created.json()) as { key: string; record: { id: string } };
  expect(await call(openai, { method: 'POST', headers: { ...json, authorization: `Bearer ${made.key}` }, body: chatBody() })).toBe(200);
  expect(await call(`${adminBase}/admin/keys/${made.record.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${rootAdmin.key}` } })).toBe(200);
  expect(await call(`${adminBase}/admin/keys`, { headers: { authorization: `Bearer ${rootAdmin.key}` } })).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // let audit writes and logs flush

  const canaries = [canary.key, unknownCanary, made.key, rootAdmin.key];
  const secretParts = canaries.map((k) => k.slice('sk-sb-'.length));
  const logs = output;
  const store = await dumpRedis();
  const files = filesUnder(path.join(dir, 'state')).filter((f) => !f.endsWith('.sock'));
  const fileText = files.map((f) => readFileSync(f, 'latin1')).join('\n');
  const responses = seen.join('\n');
  // The captures are real: logs from the workers, the dynamic key's hash in Redis, the audit log.
  expect(logs).toContain('ext_proc worker listening');
  expect(logs).toContain('admin call');
  expect(store).toContain(made.record.id);
  expect(files.some((f) => f.includes('audit'))).toBe(true);
  expect(fileText).toContain('canary');
  for (const [where, text] of [['logs', logs], ['redis', store], ['state files', fileText], ['responses', responses]] as const) {
    for (const secret of secretParts) {
      if (text.includes(secret)) throw new Error(`a raw key leaked into ${where}`);
    }
  }
});
