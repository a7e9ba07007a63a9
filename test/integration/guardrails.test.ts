// Guardrails through the real Envoy, with the official OpenAI SDK: request secrets blocked or
// redacted before routing, streamed answers redacted or stopped across chunk boundaries, a dead
// external hook failing closed, and canary keys that must never show up in logs, audit records or
// error bodies. The gateway runs as `switchboard start` in a child process, not quiet, so every
// line the supervisor, the workers and Envoy print is captured.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { hashVirtualKey } from '../../extproc/auth/virtual-key.ts';
import { freePort } from '../helpers/ports.ts';
import { createScriptedStreamSimulator, type ScriptedStreamServer } from '../simulators/scripted-stream.ts';

const HASH_SECRET = 'switchboard-guardrails-it-secret-0123456789';
// Canaries: the provider key the gateway injects, and the virtual keys clients hold.
const PROVIDER_KEY = 'sk-provider-CANARY-b7e14c2d9a0f';
const VK = {
  strict: 'sk-sb-CANARYstrictAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  redact: 'sk-sb-CANARYredactBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
  hooked: 'sk-sb-CANARYhookedCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC',
  unknown: 'sk-sb-CANARYunknownDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD',
};
// Cloud credentials in prompts and answers (random-looking, valid shapes).
const AWS_KEY_ID = 'AKIAZ7QH3KX2MB4PLW6T';
const AWS_SECRET = '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';
const SECRET_VALUES = [AWS_KEY_ID, AWS_SECRET];

interface SpawnedGateway {
  url: string;
  adminUrl: string;
  dir: string;
  stateDir: string;
  output(): string;
  stop(): Promise<void>;
}

/** `switchboard start` as a child process with its output (and its children's) captured. */
async function spawnGateway(yamlBody: string, env: Record<string, string>): Promise<SpawnedGateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-it-guard-'));
  const [listen, admin, envoyAdmin] = [await freePort(), await freePort(), await freePort()];
  const stateDir = path.join(dir, 'state');
  const configFile = path.join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    `server:\n  listener: { host: 127.0.0.1, port: ${listen} }\n  admin: { host: 127.0.0.1, port: ${admin} }\n  envoyAdmin: { host: 127.0.0.1, port: ${envoyAdmin} }\n  workers: 1\n  stateDir: ${stateDir}\n  drainTimeoutMs: 2000\n` +
      yamlBody,
  );
  const cli = path.resolve('extproc/cli.ts');
  const child: ChildProcess = spawn(process.execPath, [cli, 'start', '-c', configFile], {
    env: { ...process.env, SWITCHBOARD_KEY_HASH_SECRET: HASH_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), 30_000);
    const check = (): void => {
      if (out.includes('switchboard: serving on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) during start-up:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${listen}`,
    adminUrl: `http://127.0.0.1:${admin}`,
    dir,
    stateDir,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** Every regular file under dir, recursively (sockets and the like skipped). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) n++;
  return n;
}

interface AuditLine {
  requestId: string;
  outcome: string;
  status: number;
  findings: string[];
  costMicros: number;
  input?: string;
  output?: string;
}

function auditRecords(gw: SpawnedGateway): AuditLine[] {
  const file = path.join(gw.stateDir, 'audit', 'audit-w0.jsonl');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditLine);
}

/** Rejections are audited off the response path: wait until the record is on disk. */
async function auditRecordFor(gw: SpawnedGateway, requestId: string): Promise<AuditLine> {
  for (let i = 0; i < 100; i++) {
    const found = auditRecords(gw).find((r) => r.requestId === requestId);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no audit record for request ${requestId}`);
}

let sim: ScriptedStreamServer;
let gw: SpawnedGateway;
let hookPort: number;
/** Every error body a client received, checked for canaries at the end. */
const errorBodies: string[] = [];

beforeAll(async () => {
  sim = await createScriptedStreamSimulator().start();
  hookPort = await freePort(); // nothing listens here: the hook is unreachable
  const hash = (k: string) => hashVirtualKey(k, Buffer.from(HASH_SECRET, 'utf8'));
  gw = await spawnGateway(
    `
providers:
  openai: { type: openai, baseUrl: ${sim.url}, keys: [{ id: main, secret: { env: SIM_OPENAI_KEY } }] }
models:
  gpt-4o-mini: { targets: [{ provider: openai, model: gpt-4o-mini }] }
virtualKeys:
  - { id: strict, name: Strict, hash: ${hash(VK.strict)}, guardrailPolicy: strict }
  - { id: redacting, name: Redacting, hash: ${hash(VK.redact)}, guardrailPolicy: redacting }
  - { id: hooked, name: Hooked, hash: ${hash(VK.hooked)}, guardrailPolicy: hooked }
guardrails:
  defaultPolicy: redacting
  policies:
    strict: { actions: { secret: block } }
    redacting: { actions: { secret: redact } }
    hooked: { actions: { secret: redact }, externalHooks: [moderation] }
  externalHooks:
    moderation: { url: "http://127.0.0.1:${hookPort}/moderate", timeoutMs: 1500 }
audit:
  bodies: full
`,
    { SIM_OPENAI_KEY: PROVIDER_KEY },
  );
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await sim?.stop();
  if (gw && !process.env.SB_TEST_KEEP) rmSync(gw.dir, { recursive: true, force: true });
});

beforeEach(() => sim.reset());

const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });

/** The raw HTTP exchange, for bodies the SDK would hide. */
async function rawChat(apiKey: string, body: object, record = true): Promise<{ status: number; text: string; requestId: string }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400 && record) errorBodies.push(text);
  return { status: res.status, text, requestId: res.headers.get('x-sb-request-id') ?? '' };
}

const promptWithCloudKey = `Please debug my deploy script. It sets AWS_ACCESS_KEY_ID=${AWS_KEY_ID} and aws_secret_access_key = "${AWS_SECRET}" before calling s3 sync.`;

describe('request guardrails', () => {
  test('block: a prompt carrying an AWS key id + secret -> 400 content_blocked naming the rule, never the value; the provider gets nothing', async () => {
    let caught: unknown;
    try {
      await client(VK.strict).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: promptWithCloudKey }] });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OpenAI.APIError);
    const e = caught as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(400);
    expect(e.code).toBe('content_blocked');
    expect(e.type).toBe('invalid_request_error');
    const message = (e.error as { message: string }).message;
    // The first blocking finding in the text is the key id; the policy is named too.
    expect(message).toContain('aws_access_key');
    expect(message).toContain('strict');

    const raw = await rawChat(VK.strict, { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: promptWithCloudKey }] });
    expect(raw.status).toBe(400);
    for (const v of SECRET_VALUES) expect(raw.text).not.toContain(v);
    expect(JSON.parse(raw.text)).toEqual({ error: { message: expect.stringContaining('rule aws_access_key'), type: 'invalid_request_error', param: null, code: 'content_blocked' } });
    expect(sim.requests).toHaveLength(0);

    const audit = await auditRecordFor(gw, raw.requestId);
    expect(audit.outcome).toBe('rejected:content_blocked');
    expect(audit.findings).toEqual(expect.arrayContaining(['aws_access_key', 'aws_secret_key']));
  });

  test('block applies to every part: the secret in an array content part of a system message is found too', async () => {
    const raw = await rawChat(VK.strict, {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'context' }, { type: 'text', text: `creds: ${AWS_KEY_ID}` }] },
        { role: 'user', content: 'hello' },
      ],
    });
    expect(raw.status).toBe(400);
    expect(raw.text).toContain('content_blocked');
    expect(raw.text).not.toContain(AWS_KEY_ID);
    expect(sim.requests).toHaveLength(0);
  });

  test('redact: the provider receives placeholders instead of the key id and secret, and the answer still comes back', async () => {
    sim.scriptStream({ deltas: ['Your script looks fine.'] });
    const res = await client(VK.redact).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: promptWithCloudKey }] });
    expect(res.choices[0]?.message.content).toBe('Your script looks fine.');
    expect(sim.requests).toHaveLength(1);
    const seen = sim.requests[0]!;
    for (const v of SECRET_VALUES) expect(seen.body).not.toContain(v);
    const content = (seen.json as { messages: { content: string }[] }).messages[0]!.content;
    expect(content).toBe(
      'Please debug my deploy script. It sets AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key] and aws_secret_access_key = "[REDACTED:aws_secret_key]" before calling s3 sync.',
    );
    expect((seen.json as { model: string }).model).toBe('gpt-4o-mini');
  });
});

async function collectStream(apiKey: string): Promise<{ text: string; error?: unknown }> {
  const stream = await client(apiKey).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Show me the config.' }], stream: true });
  let text = '';
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  } catch (err) {
    return { text, error: err };
  }
  return { text };
}

describe('output guardrails on streams', () => {
  // The key id split over three events, and the secret's value split from its variable name;
  // every text event is also cut in two network writes, in the middle of its delta.
  const preface = 'Here is the configuration you asked for. '.repeat(30);
  const deltas = [preface, 'export AWS_ACCESS_KEY_ID=AKIA', 'Z7QH3KX2', 'MB4PLW6T\nexport aws_secret_access_key=', AWS_SECRET.slice(0, 17), AWS_SECRET.slice(17), '\nDone.'];

  test('the script really cuts inside the secrets (events and writes)', () => {
    const joined = deltas.join('');
    expect(joined).toContain(AWS_KEY_ID);
    expect(joined).toContain(AWS_SECRET);
    for (const v of SECRET_VALUES) expect(deltas.some((d) => d.includes(v))).toBe(false);
  });

  test('redact: a secret split across chunks reaches the client as a placeholder', async () => {
    sim.scriptStream({ deltas });
    const { text, error } = await collectStream(VK.redact);
    expect(error).toBeUndefined();
    expect(text).toBe(`${preface}export AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key]\nexport aws_secret_access_key=[REDACTED:aws_secret_key]\nDone.`);
    // The simulator wrote the key id in pieces, and no single write held it.
    expect(sim.lastWrites.some((w) => w.includes('AKIA') && !w.includes(AWS_KEY_ID))).toBe(true);
    expect(sim.lastWrites.some((w) => w.includes(AWS_KEY_ID))).toBe(false);
  });

  test('redact: the raw SSE bytes carry no fragment of the secret', async () => {
    sim.scriptStream({ deltas });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${VK.redact}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Show me the config.' }], stream: true }),
    });
    expect(res.status).toBe(200);
    const wire = await res.text();
    // Fragments as the provider cut them: none may leave before the scanner saw the whole.
    for (const fragment of ['Z7QH3KX2', 'MB4PLW6T', AWS_SECRET.slice(0, 17), AWS_SECRET.slice(17)]) expect(wire).not.toContain(fragment);
    expect(wire).toContain('[REDACTED:aws_access_key]');
  });

  test('a guarded stream ends cleanly: [DONE] reaches the client and the audit record says ok, with a cost', async () => {
    // Regression: the final, empty end_of_stream body chunk used to arrive as protobufjs' default
    // `[]` (not a Uint8Array); the SSE decoder threw, the ext_proc stream broke, the tail ([DONE],
    // usage) was lost and the request settled as stream_broken at zero cost (fixed in 52836eb).
    sim.scriptStream({ deltas: ['Nothing secret here.'] });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${VK.redact}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say something.' }], stream: true }),
    });
    const wire = await res.text();
    const audit = await auditRecordFor(gw, res.headers.get('x-sb-request-id') ?? '');
    expect({ done: wire.trimEnd().endsWith('data: [DONE]'), outcome: audit.outcome, status: audit.status, billed: audit.costMicros > 0 }).toEqual({ done: true, outcome: 'ok', status: 200, billed: true });
  });

  test('block: the stream ends with the in-band content_blocked error; the SDK throws; nothing of the secret was delivered', async () => {
    sim.scriptStream({ deltas });
    const { text, error } = await collectStream(VK.strict);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const e = error as InstanceType<typeof OpenAI.APIError>;
    expect(e.code).toBe('content_blocked');
    expect(e.message).toContain('aws_access_key');
    // What was delivered before the stop is a prefix of the answer that ends before the key id.
    expect(preface + 'export AWS_ACCESS_KEY_ID=').toContain(text);
    expect(text).not.toContain('AKIA');
    for (const v of SECRET_VALUES) expect(e.message).not.toContain(v);
  });

  test('block: a non-streamed answer carrying the secret is replaced by a content_blocked error', async () => {
    sim.scriptStream({ deltas });
    const raw = await rawChat(VK.strict, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Show me the config.' }] });
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.text).error.code).toBe('content_blocked');
    for (const v of SECRET_VALUES) expect(raw.text).not.toContain(v);
  });
});

describe('external hook', () => {
  test('a hook on a closed port fails closed: 400 content_blocked, nothing reaches the provider, the failure is observable', async () => {
    const raw = await rawChat(VK.hooked, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'An entirely harmless question about tea.' }] });
    expect(raw.status).toBe(400);
    const body = JSON.parse(raw.text) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('content_blocked');
    expect(body.error.message).toContain('external:moderation');
    expect(sim.requests).toHaveLength(0);

    // Observable 1: the audit record names the hook as the finding.
    const audit = await auditRecordFor(gw, raw.requestId);
    expect(audit.outcome).toBe('rejected:content_blocked');
    expect(audit.findings).toEqual(['external:moderation']);
    // Observable 2: the worker's warning, with the hook and the reason.
    const warned = gw
      .output()
      .split('\n')
      .filter((l) => l.includes('external guardrail hook failed'))
      .map((l) => JSON.parse(l) as { hook: string; reason: string; level: number });
    expect(warned).toEqual(expect.arrayContaining([expect.objectContaining({ hook: 'moderation', reason: 'unreachable', level: 40 })]));
  });

  test('the failure counter switchboard_guardrail_external_failures_total is exposed on the admin port', async () => {
    // The admin endpoint belongs to extproc/admin (a colleague's work in progress). Until it
    // serves /metrics this test fails, on purpose: the metric must be scrapeable.
    let metrics = '';
    try {
      const res = await fetch(`${gw.adminUrl}/metrics`);
      metrics = res.ok ? await res.text() : `HTTP ${res.status}`;
    } catch (err) {
      metrics = `unreachable: ${(err as Error).message}`;
    }
    expect(metrics).toMatch(/switchboard_guardrail_external_failures_total\{[^}]*hook="moderation"[^}]*reason="unreachable"[^}]*\} [1-9]/);
  });
});

describe('canaries', () => {
  test('an unknown virtual key is not echoed in the 401 body', async () => {
    const unknown = await rawChat(VK.unknown, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(unknown.status).toBe(401);
    expect(JSON.parse(unknown.text).error.code).toBe('invalid_api_key');
    expect(unknown.text).not.toContain(VK.unknown);
  });

  test('an upstream error that echoes the provider key does not hand the key to the client', async () => {
    // Regression: provider error messages used to pass through verbatim (OpenAI masks keys in its
    // messages, but OpenAI-compatible servers and proxies may not); scrubbed since 52836eb.
    sim.enqueue({ status: 401, body: { error: { message: `Incorrect API key provided: ${PROVIDER_KEY}.`, type: 'invalid_request_error', code: 'invalid_api_key' } } });
    const upstream = await rawChat(VK.redact, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, false);
    expect(upstream.status).toBeGreaterThanOrEqual(400);
    expect(sim.requests).toHaveLength(1);
    expect(upstream.text).not.toContain(PROVIDER_KEY);
  });

  test('provider and virtual key canaries appear zero times in logs, state files (audit included) and error bodies', async () => {
    // Every audited request is on disk before the scan (rejections are written off the path).
    await new Promise((r) => setTimeout(r, 300));
    const records = auditRecords(gw);
    expect(records.length).toBeGreaterThanOrEqual(8);
    const files = filesUnder(gw.dir).filter((f) => f !== path.join(gw.dir, 'gateway.yaml'));
    expect(files).toContain(path.join(gw.stateDir, 'audit', 'audit-w0.jsonl'));
    const haystacks: [string, string][] = [
      ['logs', gw.output()],
      ...files.map((f): [string, string] => [f, readFileSync(f, 'latin1')]),
      ['error bodies', errorBodies.join('\n')],
    ];
    expect(gw.output().length).toBeGreaterThan(0);
    expect(errorBodies.length).toBeGreaterThanOrEqual(5);
    const canaries = [PROVIDER_KEY, ...Object.values(VK), 'CANARY', ...SECRET_VALUES];
    const found = haystacks.flatMap(([where, text]) => canaries.filter((c) => occurrences(text, c) > 0).map((c) => `${c} in ${where}`));
    expect(found).toEqual([]);
  });
});
