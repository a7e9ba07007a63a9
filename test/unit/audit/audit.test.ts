// Audit chain: durability under concurrency, tamper detection, secrets never stored.
import { mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditSink, verifyAuditFile, verifyAuditRows, runAuditVerify, PgAuditStore, ChainWriter, auditConfigSchema } from '../../../extproc/audit/index.ts';
import type { AuditRecordInput, AuditEntry, PgPoolLike, AuditRow, AuditStore } from '../../../extproc/audit/index.ts';

const CANARY_VIRTUAL_KEY = 'sk-sb-canary-7f3c9a1e5d2b4f60';
const CANARY_SECRET = 'AKIAQ2X7EXAMPLE4KEYZ';

function record(i: number, extra: Partial<AuditRecordInput> = {}): AuditRecordInput {
  return {
    time: new Date(1_700_000_000_000 + i).toISOString(),
    requestId: `req-${i}`,
    keyId: 'vk_team_a',
    team: 'team-a',
    dialect: 'openai-chat',
    rule: 'default',
    attempts: [
      { provider: 'openai', model: 'gpt-4o', keyId: 'openai-1', status: 429, latencyMs: 12 },
      { provider: 'anthropic', model: 'claude-sonnet-4-5', keyId: 'anthropic-1', status: 200, latencyMs: 340 },
    ],
    status: 200,
    outcome: 'ok',
    usage: { inputTokens: 10 + i, outputTokens: 5 },
    costMicros: 1234 + i,
    findings: ['email'],
    ...extra,
  };
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sb-audit-'));
}

async function lines(path: string): Promise<AuditEntry[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as AuditEntry);
}

async function rewrite(path: string, entries: AuditEntry[]): Promise<void> {
  await writeFile(path, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
}

describe('audit log', () => {
  test('N concurrent appends: all present, in order, chain verifies (with a small queue forcing backpressure)', async () => {
    const dir = await tempDir();
    const sink = await createAuditSink({ dir, maxQueue: 16, maxBatch: 8 }, { instance: 'w0' });
    const N = 500;
    await Promise.all(Array.from({ length: N }, (_, i) => sink.append(record(i))));
    await sink.close();
    const path = join(dir, 'audit-w0.jsonl');
    const entries = await lines(path);
    expect(entries).toHaveLength(N);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.requestId)).size).toBe(N);
    expect(entries[0]!.attempts).toHaveLength(2);
    expect(await verifyAuditFile(path)).toEqual({ ok: true, entries: N, problems: [] });
  });

  test('a restarted process continues its chain; two processes keep separate chains', async () => {
    const dir = await tempDir();
    for (const round of [0, 1]) {
      const a = await createAuditSink({ dir }, { instance: 'w0' });
      const b = await createAuditSink({ dir }, { instance: 'w1' });
      await Promise.all([a.append(record(round * 10)), b.append(record(round * 10 + 1)), a.append(record(round * 10 + 2))]);
      await a.close();
      await b.close();
    }
    expect((await readdir(dir)).sort()).toEqual(['audit-w0.jsonl', 'audit-w1.jsonl']);
    expect((await lines(join(dir, 'audit-w0.jsonl'))).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(await runAuditVerify([dir])).toEqual({ ok: true, problems: [], entries: 6 });
  });

  describe('tampering is detected with the first bad seq', () => {
    let dir: string;
    let path: string;
    let entries: AuditEntry[];
    beforeEach(async () => {
      dir = await tempDir();
      const sink = await createAuditSink({ dir }, { instance: 'w0' });
      for (let i = 0; i < 10; i++) await sink.append(record(i));
      await sink.close();
      path = join(dir, 'audit-w0.jsonl');
      entries = await lines(path);
    });

    test('untouched log verifies', async () => {
      expect((await verifyAuditFile(path)).ok).toBe(true);
    });
    test('edit', async () => {
      entries[4]!.costMicros = 1;
      await rewrite(path, entries);
      expect((await verifyAuditFile(path)).problems[0]).toMatchObject({ seq: 5, reason: 'edited' });
    });
    test('delete', async () => {
      entries.splice(6, 1);
      await rewrite(path, entries);
      expect((await verifyAuditFile(path)).problems[0]).toMatchObject({ seq: 7, reason: 'deleted' });
    });
    test('insert (a copy of a valid record)', async () => {
      entries.splice(3, 0, entries[8]!);
      await rewrite(path, entries);
      expect((await verifyAuditFile(path)).problems[0]).toMatchObject({ seq: 9, reason: 'inserted_or_reordered' });
    });
    test('reorder', async () => {
      [entries[2], entries[3]] = [entries[3]!, entries[2]!];
      await rewrite(path, entries);
      expect((await verifyAuditFile(path)).problems[0]).toMatchObject({ seq: 4, reason: 'inserted_or_reordered' });
      const result = await runAuditVerify([path]);
      expect(result.ok).toBe(false);
    });
    test('re-hashing an edited record without the HMAC key does not pass an HMAC verify', async () => {
      const hdir = await tempDir();
      const sink = await createAuditSink({ dir: hdir, hmacKeyEnv: 'K' }, { instance: 'w0', env: { K: 'server-side-secret' } });
      for (let i = 0; i < 3; i++) await sink.append(record(i));
      await sink.close();
      const hpath = join(hdir, 'audit-w0.jsonl');
      expect((await verifyAuditFile(hpath, 'server-side-secret')).ok).toBe(true);
      expect((await verifyAuditFile(hpath)).ok).toBe(false);
    });
  });

  test('the raw virtual key and secrets in bodies never reach a record', async () => {
    const dir = await tempDir();
    const sink = await createAuditSink({ dir, bodies: 'full' }, { instance: 'w0' });
    await sink.append(
      record(1, {
        input: { model: 'gpt-4o', messages: [{ role: 'user', content: `my gateway key is ${CANARY_VIRTUAL_KEY}, aws ${CANARY_SECRET}, mail a@b.example` }] },
        output: `echo: ${CANARY_SECRET}`,
      }),
    );
    await sink.close();
    const redactedDir = await tempDir();
    const redactedSink = await createAuditSink({ dir: redactedDir, bodies: 'redacted' }, { instance: 'w0' });
    await redactedSink.append(record(2, { input: `mail a@b.example ${CANARY_SECRET}` }));
    await redactedSink.close();
    const full = await readFile(join(dir, 'audit-w0.jsonl'), 'utf8');
    expect(full).not.toContain(CANARY_SECRET);
    expect(full).toContain('[REDACTED:aws_access_key]');
    expect(full).toContain('a@b.example'); // full mode keeps PII
    expect(full).toContain('vk_team_a');
    const redacted = await readFile(join(redactedDir, 'audit-w0.jsonl'), 'utf8');
    expect(redacted).not.toContain('a@b.example');
    expect(redacted).not.toContain(CANARY_SECRET);
    const none = await tempDir();
    const noneSink = await createAuditSink({ dir: none }, { instance: 'w0' });
    await noneSink.append(record(3, { input: `x ${CANARY_SECRET}` }));
    await noneSink.close();
    expect(await readFile(join(none, 'audit-w0.jsonl'), 'utf8')).not.toContain('"input"');
  });

  test('a failing store rejects the callers (never a silent drop) and the chain stays intact', async () => {
    const written: AuditEntry[] = [];
    let fail = false;
    const store: AuditStore = {
      head: async () => (written.length ? { seq: written[written.length - 1]!.seq, hash: written[written.length - 1]!.hash } : { seq: 0, hash: (await import('../../../extproc/audit/chain.ts')).GENESIS_HASH }),
      write: async (entries) => {
        if (fail) throw new Error('disk full');
        written.push(...entries);
      },
      close: async () => undefined,
    };
    const writer = new ChainWriter(store, { instance: 'w0', maxQueue: 4, maxBatch: 2 });
    const { buildAuditBody } = await import('../../../extproc/audit/record.ts');
    await writer.append(buildAuditBody(record(0), 'none'));
    fail = true;
    await expect(writer.append(buildAuditBody(record(1), 'none'))).rejects.toThrow('disk full');
    fail = false;
    await writer.append(buildAuditBody(record(2), 'none'));
    await writer.close();
    expect(written.map((e) => e.requestId)).toEqual(['req-0', 'req-2']);
    const rows: AuditRow[] = written.map((e) => ({ instance: e.instance, seq: e.seq, entry: JSON.stringify(e) }));
    expect(verifyAuditRows(rows).ok).toBe(true);
  });

  test('records arriving within the linger window share one write; close flushes what still lingers', async () => {
    const batches: string[][] = [];
    const store: AuditStore = {
      head: async () => ({ seq: 0, hash: (await import('../../../extproc/audit/chain.ts')).GENESIS_HASH }),
      write: async (entries) => void batches.push(entries.map((e) => e.requestId)),
      close: async () => undefined,
    };
    const { buildAuditBody } = await import('../../../extproc/audit/record.ts');
    const writer = new ChainWriter(store, { instance: 'w0', maxQueue: 100, maxBatch: 3, lingerMs: 50 });
    const first = [0, 1].map((i) => writer.append(buildAuditBody(record(i), 'none')));
    expect(batches).toEqual([]); // still lingering
    await Promise.all(first);
    expect(batches).toEqual([['req-0', 'req-1']]);
    // A full batch does not wait for the window.
    const t0 = Date.now();
    await Promise.all([2, 3, 4].map((i) => writer.append(buildAuditBody(record(i), 'none'))));
    expect(Date.now() - t0).toBeLessThan(50);
    expect(batches[1]).toEqual(['req-2', 'req-3', 'req-4']);
    const last = writer.append(buildAuditBody(record(5), 'none'));
    await writer.close();
    await last;
    expect(batches[2]).toEqual(['req-5']);
  });

  test('a linger timer that fires after its record was already written does not stall later records', async () => {
    const batches: string[][] = [];
    let release: (() => void) | undefined;
    const store: AuditStore = {
      head: async () => ({ seq: 0, hash: (await import('../../../extproc/audit/chain.ts')).GENESIS_HASH }),
      write: async (entries) => {
        batches.push(entries.map((e) => e.requestId));
        if (batches.length === 1) await new Promise<void>((r) => (release = r)); // the first write is slow
      },
      close: async () => undefined,
    };
    const { buildAuditBody } = await import('../../../extproc/audit/record.ts');
    const writer = new ChainWriter(store, { instance: 'w0', maxQueue: 100, maxBatch: 100, lingerMs: 5 });
    const a = writer.append(buildAuditBody(record(0), 'none'));
    await new Promise((r) => setTimeout(r, 20)); // A's write has started and hangs
    const b = writer.append(buildAuditBody(record(1), 'none')); // arms a linger timer
    release!(); // A done: the running loop picks B up before B's timer fires
    await Promise.all([a, b]);
    await new Promise((r) => setTimeout(r, 20)); // B's timer fires on an empty queue
    await writer.append(buildAuditBody(record(2), 'none')); // must still be written
    expect(batches.flat()).toEqual(['req-0', 'req-1', 'req-2']);
    await writer.close();
  }, 5_000);

  test('postgres store: batches in a transaction, rows verify, tampered rows do not', async () => {
    // An in-memory stand-in that speaks the few statements the store issues.
    const table: { instance: string; seq: number; hash: string; entry: string }[] = [];
    let staged: typeof table = [];
    const client = {
      query: async (sql: string, params: unknown[] = []) => {
        if (sql === 'BEGIN') staged = [];
        else if (sql === 'COMMIT') table.push(...staged);
        else if (sql.startsWith('INSERT')) staged.push({ instance: params[0] as string, seq: params[1] as number, hash: params[2] as string, entry: params[5] as string });
        return { rows: [] };
      },
      release: () => undefined,
    };
    const pool: PgPoolLike = {
      connect: async () => client,
      query: async (sql: string, params: unknown[] = []) => {
        if (sql.startsWith('SELECT seq, hash')) {
          const mine = table.filter((r) => r.instance === params[0]).sort((a, b) => b.seq - a.seq);
          return { rows: mine.slice(0, 1) };
        }
        if (sql.startsWith('SELECT instance')) return { rows: [...table].sort((a, b) => a.seq - b.seq) };
        return { rows: [] };
      },
    };
    const sink = await createAuditSink({ sink: 'postgres' }, { instance: 'w3', pgPool: pool });
    await Promise.all(Array.from({ length: 20 }, (_, i) => sink.append(record(i))));
    const store = new PgAuditStore(pool, 'switchboard_audit', 'w3');
    const rows = await store.readRows();
    expect(rows).toHaveLength(20);
    expect(verifyAuditRows(rows)).toEqual({ ok: true, entries: 20, problems: [] });
    const tampered = rows.map((r) => ({ ...r }));
    tampered[5]!.entry = tampered[5]!.entry.replace('"costMicros":1239', '"costMicros":1');
    expect(verifyAuditRows(tampered).problems[0]).toMatchObject({ seq: 6, reason: 'edited' });
    expect(verifyAuditRows(rows.filter((_, i) => i !== 9)).problems[0]).toMatchObject({ seq: 10, reason: 'deleted' });
  });

  test('schema defaults', () => {
    expect(auditConfigSchema.parse({})).toMatchObject({ sink: 'file', bodies: 'none', dir: '.state/audit', maxQueue: 10000 });
  });
});
