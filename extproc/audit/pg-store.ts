// Postgres store: one row per entry, chains kept apart by instance, each batch one transaction.
// The entry's JSON text is stored verbatim so verification re-hashes exactly what was written.
import type { ChainHead } from './chain.ts';
import { EMPTY_CHAIN } from './chain.ts';
import type { AuditEntry } from './record.ts';
import type { AuditStore } from './writer.ts';

/** The subset of pg.Pool / pg.PoolClient the store uses. */
export interface PgQueryable {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgQueryable & { release(): void }>;
  end?(): Promise<void>;
}

export interface AuditRow {
  instance: string;
  seq: number | string;
  entry: string;
}

export class PgAuditStore implements AuditStore {
  private readonly pool: PgPoolLike;
  private readonly table: string;
  private readonly instance: string;
  private ready: Promise<void> | undefined;

  constructor(pool: PgPoolLike, table: string, instance: string) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(table)) throw new Error(`bad audit table name ${table}`);
    this.pool = pool;
    this.table = table;
    this.instance = instance;
  }

  private ensureTable(): Promise<void> {
    this.ready ??= this.pool
      .query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (instance text NOT NULL, seq bigint NOT NULL, hash text NOT NULL, time timestamptz NOT NULL, request_id text NOT NULL, entry text NOT NULL, PRIMARY KEY (instance, seq))`,
      )
      .then(() => undefined);
    return this.ready;
  }

  async head(): Promise<ChainHead> {
    await this.ensureTable();
    const { rows } = await this.pool.query(`SELECT seq, hash FROM ${this.table} WHERE instance = $1 ORDER BY seq DESC LIMIT 1`, [this.instance]);
    const row = rows[0];
    return row ? { seq: Number(row.seq), hash: String(row.hash) } : EMPTY_CHAIN;
  }

  async write(entries: AuditEntry[]): Promise<void> {
    await this.ensureTable();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      for (const e of entries) {
        await client.query(`INSERT INTO ${this.table} (instance, seq, hash, time, request_id, entry) VALUES ($1, $2, $3, $4, $5, $6)`, [
          e.instance,
          e.seq,
          e.hash,
          e.time,
          e.requestId,
          JSON.stringify(e),
        ]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Rows of every chain, for verifyAuditRows. */
  async readRows(): Promise<AuditRow[]> {
    await this.ensureTable();
    const { rows } = await this.pool.query(`SELECT instance, seq, entry FROM ${this.table} ORDER BY instance, seq`);
    return rows as unknown as AuditRow[];
  }

  async close(): Promise<void> {
    await this.pool.end?.();
  }
}
