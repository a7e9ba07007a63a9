// The `audit:` section of gateway.yaml.
import { z } from 'zod';

export const auditConfigSchema = z.object({
  /** file: one JSONL hash chain per process (default); postgres: one chain per process in a table. */
  sink: z.enum(['file', 'postgres', 'none']).default('file'),
  /** Directory of the audit-<instance>.jsonl files. */
  dir: z.string().default('.state/audit'),
  /** Request/response bodies in records: none, full (secrets still redacted), redacted (secrets and PII). */
  bodies: z.enum(['none', 'full', 'redacted']).default('none'),
  /** Environment variable holding an HMAC key; when set, hashes are HMAC-SHA256 instead of SHA-256. */
  hmacKeyEnv: z.string().optional(),
  /** Records waiting for the disk before append() callers wait (backpressure, never dropped). */
  maxQueue: z.number().int().min(1).default(10000),
  /** Records per write + fsync batch. */
  maxBatch: z.number().int().min(1).default(512),
  /** Milliseconds a record may wait for others to share its write + fsync (answers never wait for it). */
  flushLingerMs: z.number().int().min(0).max(1000).default(5),
  /** Start a new segment file (same chain continues) once the current one reaches this size. */
  rotateBytes: z.number().int().min(4096).optional(),
  postgres: z
    .object({
      connectionStringEnv: z.string().default('DATABASE_URL'),
      table: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('switchboard_audit'),
    })
    .default({ connectionStringEnv: 'DATABASE_URL', table: 'switchboard_audit' }),
});

export type AuditConfigInput = z.input<typeof auditConfigSchema>;
export type AuditConfig = z.output<typeof auditConfigSchema>;
