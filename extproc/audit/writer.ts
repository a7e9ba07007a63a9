// The chained writer: assigns seq / prevHash / hash in append order, hands batches to a store,
// and resolves each append() only once its batch is durable. A full queue makes callers wait
// (backpressure); records are never dropped. A failed batch rejects its callers and is not
// chained, so the chain on disk stays intact.
import { entryHash } from './chain.ts';
import type { ChainHead } from './chain.ts';
import type { AuditBody, AuditEntry } from './record.ts';

/** Durable storage for entries of one chain (a file, a table). */
export interface AuditStore {
  /** The last durable entry's seq and hash, or the empty chain. */
  head(): Promise<ChainHead>;
  /** Writes the batch and returns once it is durable (fsync / commit). */
  write(entries: AuditEntry[]): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  body: AuditBody;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface ChainWriterOptions {
  instance: string;
  hmacKey?: string;
  maxQueue: number;
  maxBatch: number;
  /**
   * How long the first record of an idle queue waits for company before its batch is written
   * (0: at once). Answers do not wait for the audit record, so a few milliseconds here turn one
   * fsync per request at low rates into one per window.
   */
  lingerMs?: number;
}

export class ChainWriter {
  private readonly store: AuditStore;
  private readonly opts: ChainWriterOptions;
  private readonly queue: Pending[] = [];
  private readonly spaceWaiters: (() => void)[] = [];
  private head: Promise<ChainHead>;
  private flushing: Promise<void> | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(store: AuditStore, opts: ChainWriterOptions) {
    this.store = store;
    this.opts = opts;
    this.head = store.head();
  }

  async append(body: AuditBody): Promise<void> {
    if (this.closed) throw new Error('audit writer is closed');
    while (this.queue.length >= this.opts.maxQueue) await new Promise<void>((r) => this.spaceWaiters.push(r));
    const done = new Promise<void>((resolve, reject) => this.queue.push({ body, resolve, reject }));
    const linger = this.opts.lingerMs ?? 0;
    if (linger <= 0 || this.queue.length >= this.opts.maxBatch) this.flushNow();
    else this.lingerTimer ??= setTimeout(() => this.flushNow(), linger);
    return done;
  }

  private flushNow(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    // Only with work queued: on an empty queue flushLoop would finish (and clear `flushing`)
    // before this assignment, leaving a settled promise there that blocks every later flush.
    if (!this.flushing && this.queue.length > 0) this.flushing = this.flushLoop();
  }

  /** undefined while the queue has room; else resolves when a batch leaves it. */
  room(): Promise<void> | undefined {
    if (this.queue.length < this.opts.maxQueue) return undefined;
    return new Promise<void>((r) => this.spaceWaiters.push(r));
  }

  /** Group commit: while one batch is being made durable, the next one queues up. */
  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.opts.maxBatch);
        for (let i = 0; i < batch.length && this.spaceWaiters.length > 0; i++) this.spaceWaiters.shift()!();
        let head: ChainHead;
        try {
          head = await this.head;
        } catch (err) {
          for (const p of batch) p.reject(err);
          this.head = this.store.head();
          continue;
        }
        const entries: AuditEntry[] = [];
        let { seq, hash } = head;
        for (const p of batch) {
          const unsigned = { ...p.body, instance: this.opts.instance, seq: seq + 1, prevHash: hash };
          const h = entryHash(unsigned, this.opts.hmacKey);
          entries.push({ ...unsigned, hash: h });
          seq += 1;
          hash = h;
        }
        try {
          await this.store.write(entries);
          this.head = Promise.resolve({ seq, hash });
          for (const p of batch) p.resolve();
        } catch (err) {
          // Not durable: the callers learn it, and the chain head stays where the store is.
          this.head = this.store.head();
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = undefined;
      if (this.queue.length > 0) this.flushing = this.flushLoop();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length > 0) this.flushNow();
    while (this.flushing) await this.flushing;
    await this.store.close();
  }
}
