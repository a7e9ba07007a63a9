// Verifies audit chains: each entry must follow its predecessor (seq + 1, prevHash = previous
// hash) and hash to its stored hash. Reports the first bad seq of each chain and why.
// Limitation: removing entries from the END of a chain leaves a valid shorter chain; compare the
// head with an external anchor (metrics, a periodic copy) to catch truncation.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { entryHash, GENESIS_HASH } from './chain.ts';
import type { AuditEntry } from './record.ts';
import type { AuditRow } from './pg-store.ts';

export interface VerifyProblem {
  /** File path or `instance:<id>` for rows. */
  source: string;
  /** The first entry that does not verify (or the seq expected where something is missing). */
  seq: number;
  reason: 'edited' | 'deleted' | 'inserted_or_reordered' | 'bad_genesis' | 'unparseable';
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  problems: VerifyProblem[];
}

/** Verifies one chain given in stored order; stops at the first problem. */
export function verifyChain(entries: readonly AuditEntry[], source: string, hmacKey?: string): VerifyProblem | undefined {
  let prevSeq = 0;
  let prevHash = GENESIS_HASH;
  const seqs = new Set(entries.map((e) => e.seq));
  for (const entry of entries) {
    const { hash, ...unsigned } = entry;
    if (entryHash(unsigned, hmacKey) !== hash) {
      return { source, seq: entry.seq, reason: 'edited', message: `${source}: entry seq ${entry.seq} does not match its hash (edited)` };
    }
    // A gap whose missing seq never shows up later is a deletion; otherwise entries moved.
    if (entry.seq > prevSeq + 1 && !seqs.has(prevSeq + 1)) {
      return { source, seq: prevSeq + 1, reason: 'deleted', message: `${source}: entries ${prevSeq + 1}..${entry.seq - 1} are missing (deleted)` };
    }
    if (entry.seq !== prevSeq + 1 || entry.prevHash !== prevHash) {
      const reason = prevSeq === 0 && entry.seq === 1 ? 'bad_genesis' : 'inserted_or_reordered';
      return { source, seq: entry.seq, reason, message: `${source}: entry seq ${entry.seq} does not follow seq ${prevSeq} (inserted or reordered)` };
    }
    prevSeq = entry.seq;
    prevHash = hash;
  }
  return undefined;
}

function parseLines(text: string, source: string): { entries: AuditEntry[]; problem?: VerifyProblem } {
  const entries: AuditEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.length === 0) continue;
    try {
      entries.push(JSON.parse(lines[i]!) as AuditEntry);
    } catch {
      const seq = (entries[entries.length - 1]?.seq ?? 0) + 1;
      return { entries, problem: { source, seq, reason: 'unparseable', message: `${source}: line ${i + 1} is not JSON` } };
    }
  }
  return { entries };
}

/** Verifies one chain stored in one or more files (rotation segments, oldest first). */
export async function verifyAuditFile(paths: string | string[], hmacKey?: string): Promise<VerifyResult> {
  const list = Array.isArray(paths) ? paths : [paths];
  const entries: AuditEntry[] = [];
  const source = list[list.length - 1]!;
  for (const path of list) {
    const parsed = parseLines(await readFile(path, 'utf8'), path);
    entries.push(...parsed.entries);
    if (parsed.problem) return { ok: false, entries: entries.length, problems: [parsed.problem] };
  }
  const problem = verifyChain(entries, source, hmacKey);
  return { ok: !problem, entries: entries.length, problems: problem ? [problem] : [] };
}

/** Verifies rows from the Postgres store: one chain per instance, ordered by seq. */
export function verifyAuditRows(rows: readonly AuditRow[], hmacKey?: string): VerifyResult {
  const byInstance = new Map<string, AuditEntry[]>();
  const problems: VerifyProblem[] = [];
  for (const row of rows) {
    let entry: AuditEntry;
    try {
      entry = JSON.parse(row.entry) as AuditEntry;
    } catch {
      problems.push({ source: `instance:${row.instance}`, seq: Number(row.seq), reason: 'unparseable', message: `row ${row.instance}/${row.seq} is not JSON` });
      continue;
    }
    // The row's own columns must agree with the hashed entry.
    if (entry.instance !== row.instance || entry.seq !== Number(row.seq)) {
      problems.push({ source: `instance:${row.instance}`, seq: Number(row.seq), reason: 'edited', message: `row ${row.instance}/${row.seq} columns disagree with its entry` });
      continue;
    }
    let list = byInstance.get(row.instance);
    if (!list) byInstance.set(row.instance, (list = []));
    list.push(entry);
  }
  let count = 0;
  for (const [instance, entries] of byInstance) {
    entries.sort((a, b) => a.seq - b.seq);
    count += entries.length;
    const problem = verifyChain(entries, `instance:${instance}`, hmacKey);
    if (problem) problems.push(problem);
  }
  return { ok: problems.length === 0, entries: count, problems };
}

/** Groups audit-<instance>[.<n>].jsonl files of a directory by instance, segments oldest first. */
async function chainsIn(dir: string): Promise<string[][]> {
  const names = (await readdir(dir)).filter((n) => n.startsWith('audit-') && n.endsWith('.jsonl'));
  const chains = new Map<string, { segment: number; path: string }[]>();
  for (const name of names) {
    const core = name.slice('audit-'.length, -'.jsonl'.length);
    const dot = core.lastIndexOf('.');
    const tail = dot >= 0 ? core.slice(dot + 1) : '';
    const numbered = tail.length > 0 && [...tail].every((c) => c >= '0' && c <= '9');
    const instance = numbered ? core.slice(0, dot) : core;
    const segment = numbered ? Number(tail) : Number.MAX_SAFE_INTEGER; // the live file is newest
    let list = chains.get(instance);
    if (!list) chains.set(instance, (list = []));
    list.push({ segment, path: join(dir, name) });
  }
  return [...chains.values()].map((l) => l.sort((a, b) => a.segment - b.segment).map((s) => s.path));
}

/**
 * CLI entry (`switchboard audit verify <file|dir>...`): a directory verifies every chain in it.
 * The HMAC key, if the log was written with one, comes from opts or SWITCHBOARD_AUDIT_HMAC_KEY.
 */
export async function runAuditVerify(paths: string[], opts: { hmacKey?: string } = {}): Promise<{ ok: boolean; problems: string[]; entries: number }> {
  const hmacKey = opts.hmacKey ?? process.env.SWITCHBOARD_AUDIT_HMAC_KEY;
  const problems: string[] = [];
  let entries = 0;
  for (const path of paths) {
    let chains: string[][];
    try {
      chains = (await stat(path)).isDirectory() ? await chainsIn(path) : [[path]];
    } catch (err) {
      problems.push(`${path}: ${(err as Error).message}`);
      continue;
    }
    for (const chain of chains) {
      const result = await verifyAuditFile(chain, hmacKey);
      entries += result.entries;
      problems.push(...result.problems.map((p) => p.message));
    }
  }
  return { ok: problems.length === 0, problems, entries };
}
