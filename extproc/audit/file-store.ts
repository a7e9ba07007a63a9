// JSONL file store: audit-<instance>.jsonl, one chain per process, appended and fsynced per
// batch. Optional rotation moves to audit-<instance>.<n>.jsonl segments; the chain continues.
import { mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { EMPTY_CHAIN } from './chain.ts';
import type { ChainHead } from './chain.ts';
import type { AuditEntry } from './record.ts';
import type { AuditStore } from './writer.ts';

export function chainFileName(instance: string, segment = 0): string {
  return segment === 0 ? `audit-${instance}.jsonl` : `audit-${instance}.${segment}.jsonl`;
}

/** Segments of one instance's chain in chain order: audit-x.1.jsonl, audit-x.2.jsonl, ..., audit-x.jsonl (newest). */
export async function chainSegments(dir: string, instance: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const prefix = `audit-${instance}.`;
  const numbered = names
    .filter((n) => n.startsWith(prefix) && n.endsWith('.jsonl') && /^\d+$/.test(n.slice(prefix.length, -'.jsonl'.length)))
    .map((n) => Number(n.slice(prefix.length, -'.jsonl'.length)))
    .sort((a, b) => a - b)
    .map((n) => join(dir, chainFileName(instance, n)));
  return [...numbered, join(dir, chainFileName(instance))];
}

async function lastEntry(path: string): Promise<AuditEntry | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const last = lines[lines.length - 1];
  return last ? (JSON.parse(last) as AuditEntry) : undefined;
}

export class FileAuditStore implements AuditStore {
  private readonly dir: string;
  private readonly instance: string;
  private readonly rotateBytes: number | undefined;
  private handle: FileHandle | undefined;
  private size = 0;

  constructor(dir: string, instance: string, rotateBytes?: number) {
    this.dir = dir;
    this.instance = instance;
    this.rotateBytes = rotateBytes;
  }

  async head(): Promise<ChainHead> {
    await mkdir(this.dir, { recursive: true });
    const segments = await chainSegments(this.dir, this.instance);
    for (const path of segments.reverse()) {
      const last = await lastEntry(path);
      if (last) return { seq: last.seq, hash: last.hash };
    }
    return EMPTY_CHAIN;
  }

  private async current(): Promise<FileHandle> {
    if (!this.handle) {
      await mkdir(this.dir, { recursive: true });
      const path = join(this.dir, chainFileName(this.instance));
      this.handle = await open(path, 'a');
      this.size = (await stat(path)).size;
    }
    return this.handle;
  }

  private async rotate(): Promise<void> {
    const { rename } = await import('node:fs/promises');
    await this.handle?.close();
    this.handle = undefined;
    const segments = await chainSegments(this.dir, this.instance);
    const next = segments.length; // numbered segments + the live file
    await rename(join(this.dir, chainFileName(this.instance)), join(this.dir, chainFileName(this.instance, next)));
  }

  async write(entries: AuditEntry[]): Promise<void> {
    if (this.rotateBytes !== undefined && this.size >= this.rotateBytes) await this.rotate();
    const handle = await this.current();
    const data = entries.map((e) => JSON.stringify(e)).join('\n') + '\n';
    await handle.write(data);
    await handle.datasync();
    this.size += Buffer.byteLength(data);
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}
