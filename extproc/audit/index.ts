// Public surface of the audit module: the sink the pipeline appends to, and verification.
import { ChainWriter } from './writer.ts';
import type { AuditStore } from './writer.ts';
import { FileAuditStore } from './file-store.ts';
import { PgAuditStore } from './pg-store.ts';
import type { PgPoolLike } from './pg-store.ts';
import { buildAuditBody } from './record.ts';
import type { AuditRecordInput } from './record.ts';
import { auditConfigSchema } from './schema.ts';
import type { AuditConfigInput } from './schema.ts';

export interface AuditSink {
  /** Resolves once the record is durable; waits (never drops) when the queue is full. */
  append(record: AuditRecordInput): Promise<void>;
  /** undefined while the queue has room; else resolves once it has. */
  room(): Promise<void> | undefined;
  close(): Promise<void>;
}

export interface AuditSinkDeps {
  /** This process's chain id: the file is audit-<instance>.jsonl. */
  instance: string;
  env?: Record<string, string | undefined>;
  /** For sink: postgres; defaults to a new pg.Pool on the configured connection string. */
  pgPool?: PgPoolLike;
  log?: unknown;
  clock?: unknown;
}

export async function createAuditSink(configInput: AuditConfigInput | undefined, deps: AuditSinkDeps): Promise<AuditSink> {
  const config = auditConfigSchema.parse(configInput ?? {});
  if (config.sink === 'none') return { append: async () => undefined, room: () => undefined, close: async () => undefined };
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(deps.instance)) throw new Error(`audit: bad instance id ${deps.instance}`);
  const env = deps.env ?? process.env;
  const hmacKey = config.hmacKeyEnv ? env[config.hmacKeyEnv] : undefined;
  if (config.hmacKeyEnv && !hmacKey) throw new Error(`audit: ${config.hmacKeyEnv} is not set`);
  let store: AuditStore;
  if (config.sink === 'postgres') {
    let pool = deps.pgPool;
    if (!pool) {
      const connectionString = env[config.postgres.connectionStringEnv];
      if (!connectionString) throw new Error(`audit: ${config.postgres.connectionStringEnv} is not set`);
      const pg = await import('pg');
      pool = new pg.default.Pool({ connectionString }) as unknown as PgPoolLike;
    }
    store = new PgAuditStore(pool, config.postgres.table, deps.instance);
  } else {
    store = new FileAuditStore(config.dir, deps.instance, config.rotateBytes);
  }
  const writer = new ChainWriter(store, { instance: deps.instance, hmacKey, maxQueue: config.maxQueue, maxBatch: config.maxBatch, lingerMs: config.flushLingerMs });
  return {
    append: (record) => writer.append(buildAuditBody(record, config.bodies)),
    room: () => writer.room(),
    close: () => writer.close(),
  };
}

export { auditConfigSchema } from './schema.ts';
export type { AuditConfig, AuditConfigInput } from './schema.ts';
export type { AuditRecordInput, AuditEntry, AuditAttempt } from './record.ts';
export { ChainWriter } from './writer.ts';
export type { AuditStore } from './writer.ts';
export { FileAuditStore, chainFileName } from './file-store.ts';
export { PgAuditStore } from './pg-store.ts';
export type { PgPoolLike, AuditRow } from './pg-store.ts';
export { verifyAuditFile, verifyAuditRows, verifyChain, runAuditVerify } from './verify.ts';
export type { VerifyProblem, VerifyResult } from './verify.ts';
export { canonicalJson, entryHash, GENESIS_HASH } from './chain.ts';
