// In-process state store: the embedded default. Single-threaded JS makes each method atomic
// (no await between check and apply). Spend survives a restart through snapshots written to
// `dir` periodically and on close (write to a temp file, fsync, rename: never a torn file).
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from './clock.ts';
import type {
  Actual,
  BudgetCharge,
  BudgetUsage,
  DocKind,
  LedgerEntry,
  Partition,
  ReleaseResult,
  Reservation,
  ReservationState,
  ReserveRequest,
  ReserveResult,
  SettleResult,
  StateStore,
} from './store.ts';

interface Cell {
  spent: number;
  reserved: number;
  expiresAtMs: number;
}

interface ReservationRecord {
  state: ReservationState;
  reservation: Reservation;
  /** After this the record is forgotten and the request id could be charged again. */
  forgetAtMs: number;
}

interface Snapshot {
  version: 1;
  cells: [string, Cell][];
  records: [string, ReservationRecord][];
  ledger: [Partition, LedgerEntry[]][];
  docs: [DocKind, [string, string][]][];
}

export interface MemoryStateStoreOptions {
  /** Directory for the snapshot file; absent = nothing persisted. */
  dir?: string;
  reservationTtlMs: number;
  idempotencyTtlMs: number;
  /** Settled ledger entries older than this are dropped at snapshot time. Default 40 days. */
  ledgerRetentionMs?: number;
  clock: Clock;
}

const SNAPSHOT_FILE = 'governance-state.json';

function cellKey(partition: Partition, counter: string): string {
  return `${partition}\u0000${counter}`;
}

export class MemoryStateStore implements StateStore {
  private readonly cells = new Map<string, Cell>();
  private readonly records = new Map<string, ReservationRecord>();
  private readonly ledger = new Map<Partition, LedgerEntry[]>();
  private readonly docs = new Map<DocKind, Map<string, string>>();
  private readonly options: MemoryStateStoreOptions;
  private snapshotChain: Promise<void> = Promise.resolve();

  constructor(options: MemoryStateStoreOptions) {
    this.options = options;
  }

  /** Creates a store and loads the last snapshot from `options.dir`, if any. */
  static async open(options: MemoryStateStoreOptions): Promise<MemoryStateStore> {
    const store = new MemoryStateStore(options);
    if (options.dir) await store.load(options.dir);
    return store;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const { partition, requestId, nowMs } = request;
    const existing = this.liveRecord(partition, requestId, nowMs);
    if (existing) return { status: 'duplicate', state: existing.state };

    const budgetRemaining: number[] = [];
    for (const [index, charge] of request.budgets.entries()) {
      const used = this.sumBudget(partition, charge.reads, nowMs);
      const remaining = charge.limitMicros - used;
      if (request.estimateMicros > remaining) return { status: 'budget_exceeded', index, remainingMicros: Math.max(0, remaining) };
      budgetRemaining.push(remaining - request.estimateMicros);
    }
    const rateRemaining: number[] = [];
    for (const [index, charge] of request.rates.entries()) {
      const amount = charge.kind === 'requests' ? 1 : request.estimateTokens;
      const remaining = charge.limit - this.cellValue(partition, charge.counter, nowMs).spent;
      if (amount > remaining) return { status: 'rate_limited', index };
      rateRemaining.push(remaining - amount);
    }

    for (const charge of request.budgets) this.cell(partition, charge.counter, charge.expiresAtMs, nowMs).reserved += request.estimateMicros;
    const tokenCounters: string[] = [];
    for (const charge of request.rates) {
      const isTokens = charge.kind === 'tokens';
      this.cell(partition, charge.counter, charge.expiresAtMs, nowMs).spent += isTokens ? request.estimateTokens : 1;
      if (isTokens) tokenCounters.push(charge.counter);
    }
    const reservation: Reservation = {
      requestId,
      partition,
      subject: request.subject,
      budgetCounters: request.budgets.map((charge) => charge.counter),
      tokenCounters,
      estimateMicros: request.estimateMicros,
      estimateTokens: request.estimateTokens,
      expiresAtMs: nowMs + this.options.reservationTtlMs,
    };
    this.records.set(cellKey(partition, requestId), {
      state: 'pending',
      reservation,
      forgetAtMs: reservation.expiresAtMs + this.options.idempotencyTtlMs,
    });
    return { status: 'reserved', reservation, budgetRemaining, rateRemaining };
  }

  async settle(reservation: Reservation, actual: Actual, nowMs: number): Promise<SettleResult> {
    const key = cellKey(reservation.partition, reservation.requestId);
    const record = this.liveRecord(reservation.partition, reservation.requestId, nowMs);
    if (record?.state === 'settled') return { status: 'duplicate' };
    const wasPending = record?.state === 'pending';
    // A settle for an expired, released or forgotten reservation still records real spend: the
    // call happened. Only a pending reservation has an estimate to take back first.
    const farFuture = nowMs + this.options.idempotencyTtlMs;
    for (const counter of reservation.budgetCounters) {
      const cell = this.cell(reservation.partition, counter, farFuture, nowMs);
      if (wasPending) cell.reserved -= reservation.estimateMicros;
      cell.spent += actual.micros;
    }
    for (const counter of reservation.tokenCounters) {
      // A rate window that already expired is not revived: its limit no longer matters.
      const cell = this.cells.get(cellKey(reservation.partition, counter));
      if (cell && cell.expiresAtMs > nowMs) cell.spent += actual.tokens - (wasPending ? reservation.estimateTokens : 0);
    }
    this.records.set(key, { state: 'settled', reservation, forgetAtMs: nowMs + this.options.idempotencyTtlMs });
    const entries = this.ledger.get(reservation.partition) ?? [];
    entries.push({
      requestId: reservation.requestId,
      partition: reservation.partition,
      subject: reservation.subject,
      budgetCounters: reservation.budgetCounters,
      micros: actual.micros,
      tokens: actual.tokens,
      settledAtMs: nowMs,
    });
    this.ledger.set(reservation.partition, entries);
    return { status: 'settled' };
  }

  async release(reservation: Reservation, nowMs: number): Promise<ReleaseResult> {
    return this.returnReservation(reservation.partition, reservation.requestId, nowMs, 'released');
  }

  async expireOverdue(partition: Partition, nowMs: number): Promise<number> {
    let expired = 0;
    for (const record of [...this.records.values()]) {
      const { reservation } = record;
      if (reservation.partition !== partition || record.state !== 'pending' || reservation.expiresAtMs > nowMs) continue;
      const result = this.returnReservation(partition, reservation.requestId, nowMs, 'expired');
      if (result.status === 'released') expired++;
    }
    return expired;
  }

  async readBudgets(partition: Partition, charges: Pick<BudgetCharge, 'reads'>[]): Promise<BudgetUsage[]> {
    return charges.map((charge) => {
      let spentMicros = 0;
      let reservedMicros = 0;
      for (const counter of charge.reads) {
        const cell = this.cells.get(cellKey(partition, counter));
        spentMicros += cell?.spent ?? 0;
        reservedMicros += cell?.reserved ?? 0;
      }
      return { spentMicros, reservedMicros };
    });
  }

  async readRates(partition: Partition, counters: string[]): Promise<number[]> {
    return counters.map((counter) => this.cells.get(cellKey(partition, counter))?.spent ?? 0);
  }

  async readLedger(partition: Partition): Promise<LedgerEntry[]> {
    return [...(this.ledger.get(partition) ?? [])];
  }

  async getDoc(kind: DocKind, id: string): Promise<string | undefined> {
    return this.docs.get(kind)?.get(id);
  }

  async putDoc(kind: DocKind, id: string, json: string): Promise<void> {
    let byId = this.docs.get(kind);
    if (!byId) this.docs.set(kind, (byId = new Map()));
    byId.set(id, json);
  }

  async deleteDoc(kind: DocKind, id: string): Promise<void> {
    this.docs.get(kind)?.delete(id);
  }

  async listDocs(kind: DocKind): Promise<Map<string, string>> {
    return new Map(this.docs.get(kind) ?? []);
  }

  /**
   * Writes the snapshot now (when a dir is configured). Snapshots are serialised so two writers
   * never race on the temp file. Drops counters, records and ledger entries past their lifetime.
   */
  snapshot(nowMs: number): Promise<void> {
    const dir = this.options.dir;
    if (!dir) return Promise.resolve();
    this.prune(nowMs);
    const body = JSON.stringify(this.toSnapshot());
    this.snapshotChain = this.snapshotChain.then(() => writeAtomically(dir, SNAPSHOT_FILE, body));
    return this.snapshotChain;
  }

  /** Snapshots every `intervalMs` until the returned function is called. */
  startSnapshots(intervalMs: number, onError: (error: unknown) => void): () => void {
    const timer = setInterval(() => {
      this.snapshot(this.options.clock.now()).catch(onError);
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  async close(): Promise<void> {
    await this.snapshot(this.options.clock.now());
  }

  private returnReservation(partition: Partition, requestId: string, nowMs: number, to: 'released' | 'expired'): ReleaseResult {
    const record = this.liveRecord(partition, requestId, nowMs);
    if (!record) return { status: 'noop', state: 'unknown' };
    if (record.state !== 'pending') return { status: 'noop', state: record.state };
    const { reservation } = record;
    for (const counter of reservation.budgetCounters) {
      const cell = this.cells.get(cellKey(partition, counter));
      if (cell) cell.reserved -= reservation.estimateMicros;
    }
    for (const counter of reservation.tokenCounters) {
      const cell = this.cells.get(cellKey(partition, counter));
      if (cell) cell.spent -= reservation.estimateTokens;
    }
    record.state = to;
    record.forgetAtMs = nowMs + this.options.idempotencyTtlMs;
    return { status: 'released' };
  }

  private liveRecord(partition: Partition, requestId: string, nowMs: number): ReservationRecord | undefined {
    const key = cellKey(partition, requestId);
    const record = this.records.get(key);
    if (record && record.forgetAtMs <= nowMs) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }

  private sumBudget(partition: Partition, counters: string[], nowMs: number): number {
    let total = 0;
    for (const counter of counters) {
      const cell = this.cellValue(partition, counter, nowMs);
      total += cell.spent + cell.reserved;
    }
    return total;
  }

  private cellValue(partition: Partition, counter: string, nowMs: number): Cell {
    const cell = this.cells.get(cellKey(partition, counter));
    if (!cell || cell.expiresAtMs <= nowMs) return { spent: 0, reserved: 0, expiresAtMs: 0 };
    return cell;
  }

  private cell(partition: Partition, counter: string, expiresAtMs: number, nowMs: number): Cell {
    const key = cellKey(partition, counter);
    let cell = this.cells.get(key);
    if (!cell || cell.expiresAtMs <= nowMs) {
      cell = { spent: 0, reserved: 0, expiresAtMs };
      this.cells.set(key, cell);
    }
    cell.expiresAtMs = Math.max(cell.expiresAtMs, expiresAtMs);
    return cell;
  }

  private prune(nowMs: number): void {
    for (const [key, cell] of this.cells) if (cell.expiresAtMs <= nowMs && cell.reserved === 0) this.cells.delete(key);
    for (const [key, record] of this.records) if (record.forgetAtMs <= nowMs && record.state !== 'pending') this.records.delete(key);
    const oldest = nowMs - (this.options.ledgerRetentionMs ?? 40 * 86_400_000);
    for (const [partition, entries] of this.ledger) {
      const kept = entries.filter((entry) => entry.settledAtMs >= oldest);
      if (kept.length === 0) this.ledger.delete(partition);
      else this.ledger.set(partition, kept);
    }
  }

  private toSnapshot(): Snapshot {
    return {
      version: 1,
      cells: [...this.cells],
      records: [...this.records],
      ledger: [...this.ledger],
      docs: [...this.docs].map(([kind, byId]) => [kind, [...byId]]),
    };
  }

  private async load(dir: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(dir, SNAPSHOT_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const snapshot = JSON.parse(text) as Snapshot;
    if (snapshot.version !== 1) throw new Error(`unsupported governance snapshot version ${String(snapshot.version)}`);
    for (const [key, cell] of snapshot.cells) this.cells.set(key, cell);
    for (const [key, record] of snapshot.records) this.records.set(key, record);
    for (const [partition, entries] of snapshot.ledger) this.ledger.set(partition, entries);
    for (const [kind, entries] of snapshot.docs) this.docs.set(kind, new Map(entries));
  }
}

/** temp file + fsync + rename: readers see the old snapshot or the new one, never half of one. */
async function writeAtomically(dir: string, name: string, body: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const target = join(dir, name);
  const temp = `${target}.${process.pid}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(body, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, target);
}
