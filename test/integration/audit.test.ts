// The audit log the real gateway writes (Envoy + supervisor + worker, OpenAI SDK traffic), checked
// with the shipped CLI: `switchboard audit verify <dir>` passes on the files as written, and exits
// non-zero for each kind of tampering (edit, delete, insert, reorder), and for a re-hashed forgery
// when the log is HMAC-keyed.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { entryHash, GENESIS_HASH } from '../../extproc/audit/index.ts';
import { createOpenAISimulator } from '../simulators/openai.ts';
import type { SimulatedServer } from '../simulators/recorder.ts';
import { newVirtualKey, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const cli = path.resolve('extproc/cli.ts');

function verify(dir: string, env: Record<string, string> = {}): { code: number | null; out: string } {
  const base = { ...process.env };
  delete base.SWITCHBOARD_AUDIT_HMAC_KEY;
  const r = spawnSync(process.execPath, [cli, 'audit', 'verify', dir], { env: { ...base, ...env }, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

type Entry = Record<string, unknown> & { seq: number; hash: string; prevHash: string; requestId: string; status: number };

const readLines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const writeLines = (file: string, lines: string[]): void => writeFileSync(file, lines.map((l) => `${l}\n`).join(''));

/** Drives a little traffic of every kind: JSON, stream, guardrail block, unknown model. */
async function traffic(gw: TestGateway, key: string): Promise<number> {
  const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one' }] });
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'two' }], stream: true });
  for await (const chunk of stream) void chunk;
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'three' }] });
  await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'token AKIAZ7QH3KX2MB4PLW6T' }] })).rejects.toMatchObject({ status: 400 });
  await expect(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'five' }] })).rejects.toMatchObject({ status: 404 });
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'six' }] });
  return 6;
}

/** Rejections are appended off the response path: wait for every record to be on disk. */
async function waitForRecords(file: string, count: number): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    let lines: string[] = [];
    try {
      lines = readLines(file);
    } catch {
      /* not yet created */
    }
    if (lines.length >= count) return lines;
    await new Promise((r) => setTimeout(r, 50));
  }
  const found = (() => {
    try {
      return readLines(file).map((l) => `${(JSON.parse(l) as Entry).status}`).join(',');
    } catch {
      return 'no file';
    }
  })();
  throw new Error(`fewer than ${count} audit records in ${file} (statuses found: ${found})`);
}

const gatewayYaml = (simUrl: string, hash: string, audit: string): string => `
providers:
  openai: { type: openai, baseUrl: ${simUrl}, keys: [{ id: main, secret: { env: SIM_OPENAI_KEY } }] }
models:
  gpt-4o-mini: { targets: [{ provider: openai, model: gpt-4o-mini }] }
virtualKeys:
  - { id: auditor, name: Auditor, hash: ${hash} }
guardrails:
  policies:
    default: { actions: { secret: block } }
audit: ${audit}
`;

let sim: SimulatedServer;
const work = mkdtempSync(path.join(os.tmpdir(), 'sb-it-audit-'));

beforeAll(async () => {
  sim = await createOpenAISimulator().start();
});

afterAll(async () => {
  await sim?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('audit verify on the files the gateway wrote', () => {
  let gw: TestGateway;
  const key = newVirtualKey();
  let liveDir = '';
  let pristine = '';

  beforeAll(async () => {
    gw = await startTestGateway(gatewayYaml(sim.url, key.hash, '{ bodies: redacted }'), { env: { SIM_OPENAI_KEY: 'sk-sim-audit' } });
    liveDir = path.join(gw.dir, 'state', 'audit');
    const count = await traffic(gw, key.key);
    await waitForRecords(path.join(liveDir, 'audit-w0.jsonl'), count);
    pristine = path.join(work, 'pristine');
    cpSync(liveDir, pristine, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  test('the live audit directory verifies: exit 0, intact; the records are what happened', () => {
    const r = verify(liveDir);
    expect(r.out).toContain('audit log verified: intact');
    expect(r.code).toBe(0);
    const entries = readLines(path.join(liveDir, 'audit-w0.jsonl')).map((l) => JSON.parse(l) as Entry);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    expect(entries).toHaveLength(6);
    // (The streamed request's status is left out: see the guardrails test on stream endings.)
    expect(entries.filter((e) => e.status === 200).length).toBeGreaterThanOrEqual(3);
    expect(entries.find((e) => e.status === 400)).toMatchObject({ outcome: 'rejected:content_blocked', findings: ['aws_access_key'] });
    expect(entries.find((e) => e.status === 404)).toMatchObject({ outcome: 'rejected:model_not_found' });
    // The key appears by id only; the blocked secret never reaches the record.
    const text = readFileSync(path.join(liveDir, 'audit-w0.jsonl'), 'utf8');
    expect(text).toContain('"keyId":"auditor"');
    expect(text).not.toContain(key.key);
    expect(text).not.toContain('AKIAZ7QH3KX2MB4PLW6T');
  });

  // Each case tampers with a fresh copy of what the gateway wrote.
  const cases: [string, (lines: string[]) => string[], RegExp][] = [
    [
      'edit (a field changed, hash left alone)',
      (lines) => lines.map((l, i) => (i === 2 ? JSON.stringify({ ...(JSON.parse(l) as Entry), status: 299 }) : l)),
      /seq 3 does not match its hash \(edited\)/,
    ],
    ['delete (one line removed)', (lines) => lines.filter((_, i) => i !== 2), /entries 3\.\.3 are missing \(deleted\)/],
    [
      'insert (a forged entry with a correct own hash)',
      (lines) => {
        const prev = JSON.parse(lines[1]!) as Entry;
        const { hash: _drop, ...unsigned } = { ...prev, seq: 3, prevHash: prev.hash, requestId: 'forged', status: 200 };
        void _drop;
        const forged = { ...unsigned, hash: entryHash(unsigned) };
        return [...lines.slice(0, 2), JSON.stringify(forged), ...lines.slice(2)];
      },
      /does not follow seq \d+ \(inserted or reordered\)/,
    ],
    ['reorder (two lines swapped)', (lines) => [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)], /seq 3 does not follow seq 1 \(inserted or reordered\)/],
  ];

  test.each(cases)('%s is detected: non-zero exit, the problem named', (name, tamper, expected) => {
    const dir = path.join(work, name.split(' ')[0]!);
    cpSync(pristine, dir, { recursive: true });
    const file = path.join(dir, 'audit-w0.jsonl');
    const before = readLines(file);
    const after = tamper(before);
    expect(after).not.toEqual(before);
    writeLines(file, after);
    const r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain('audit log verification FAILED');
    expect(r.out).toMatch(expected);
  });

  test('an untouched copy still verifies (the tampering, not the copying, is what fails)', () => {
    const dir = path.join(work, 'untouched');
    cpSync(pristine, dir, { recursive: true });
    expect(verify(dir).code).toBe(0);
  });
});

describe('HMAC-keyed audit log', () => {
  const HMAC_KEY = 'audit-hmac-key-for-the-integration-test';
  let gw: TestGateway;
  const key = newVirtualKey();
  let dir = '';

  beforeAll(async () => {
    gw = await startTestGateway(gatewayYaml(sim.url, key.hash, '{ hmacKeyEnv: SB_AUDIT_KEY }'), { env: { SIM_OPENAI_KEY: 'sk-sim-audit', SB_AUDIT_KEY: HMAC_KEY } });
    const count = await traffic(gw, key.key);
    await waitForRecords(path.join(gw.dir, 'state', 'audit', 'audit-w0.jsonl'), count);
    dir = path.join(work, 'hmac');
    cpSync(path.join(gw.dir, 'state', 'audit'), dir, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  test('verifies with the key, not without it', () => {
    expect(verify(dir, { SWITCHBOARD_AUDIT_HMAC_KEY: HMAC_KEY }).code).toBe(0);
    expect(verify(dir).code).toBe(1);
    expect(verify(dir, { SWITCHBOARD_AUDIT_HMAC_KEY: 'some other key' }).code).toBe(1);
  });

  test('an edit with the whole chain re-hashed (a forger without the key) is detected', () => {
    const forgedDir = path.join(work, 'hmac-forged');
    cpSync(dir, forgedDir, { recursive: true });
    const file = path.join(forgedDir, 'audit-w0.jsonl');
    let prevHash = GENESIS_HASH;
    const rewritten = readLines(file).map((l, i) => {
      const { hash: _old, ...rest } = JSON.parse(l) as Entry;
      void _old;
      const unsigned = { ...rest, prevHash, ...(i === 1 ? { status: 201 } : {}) };
      const hash = entryHash(unsigned); // plain SHA-256: all the forger can compute
      prevHash = hash;
      return JSON.stringify({ ...unsigned, hash });
    });
    writeLines(file, rewritten);
    // Without the key the forgery is self-consistent: exactly why the HMAC key matters.
    expect(verify(forgedDir).code).toBe(0);
    const r = verify(forgedDir, { SWITCHBOARD_AUDIT_HMAC_KEY: HMAC_KEY });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/seq 1 does not match its hash \(edited\)/);
  });
});
