// The one state-store interface. Two implementations: MemoryStateStore (embedded default,
// snapshotted to a file) and RedisStateStore (shared by replicas, atomic Lua scripts).
// The store is deliberately policy-free: governance turns budgets, rate limits and time zones
// into concrete counters (`Charge`s); the store only checks and moves integers atomically.

/**
 * All counters of one request live in one partition: the root of its customer -> team -> key
 * hierarchy. On Redis the partition is the hash tag, so one script sees every level at once.
 */
export type Partition = string;

export interface BudgetCharge {
  /** Counter charged by this request, e.g. `b:team:t1:monthly:2025-03`. */
  counter: string;
  /** Counters summed to decide admission (the rolling buckets, or just `counter`). */
  reads: string[];
  limitMicros: number;
  /** After this instant nobody reads the counter; the store may drop it. */
  expiresAtMs: number;
}

export interface RateCharge {
  counter: string;
  kind: 'requests' | 'tokens';
  limit: number;
  expiresAtMs: number;
}

export interface ReserveRequest {
  requestId: string;
  partition: Partition;
  /** Who spent (the key id), copied to the ledger for usage reports. */
  subject: string;
  budgets: BudgetCharge[];
  rates: RateCharge[];
  estimateMicros: number;
  estimateTokens: number;
  nowMs: number;
}

/** Everything settle/release need, so they work from any process that holds this object. */
export interface Reservation {
  requestId: string;
  partition: Partition;
  subject: string;
  budgetCounters: string[];
  tokenCounters: string[];
  estimateMicros: number;
  estimateTokens: number;
  /** A reservation not settled or released by then is returned to the budget by the sweeper. */
  expiresAtMs: number;
}

export type ReservationState = 'pending' | 'settled' | 'released' | 'expired';

export type ReserveResult =
  | {
      status: 'reserved';
      reservation: Reservation;
      /** Per budget charge (same order): limit minus spent minus reserved, after this reservation. */
      budgetRemaining: number[];
      /** Per rate charge (same order): limit minus used, after this request. */
      rateRemaining: number[];
    }
  /** The request id was seen before: nothing was charged again. */
  | { status: 'duplicate'; state: ReservationState }
  | { status: 'budget_exceeded'; index: number; remainingMicros: number }
  | { status: 'rate_limited'; index: number };

export interface Actual {
  micros: number;
  tokens: number;
}

export type SettleResult = { status: 'settled' } | { status: 'duplicate' };
export type ReleaseResult = { status: 'released' } | { status: 'noop'; state: ReservationState | 'unknown' };

export interface LedgerEntry {
  requestId: string;
  partition: Partition;
  subject: string;
  budgetCounters: string[];
  micros: number;
  tokens: number;
  settledAtMs: number;
}

export interface BudgetUsage {
  spentMicros: number;
  reservedMicros: number;
}

export type DocKind = 'virtualKey' | 'keyHash' | 'team' | 'customer' | 'profile';

export interface StateStore {
  /** Checks every charge and, only if all pass, applies all of them: all or nothing. */
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /** Replaces the reservation by the actual cost and writes a ledger entry. Idempotent. */
  settle(reservation: Reservation, actual: Actual, nowMs: number): Promise<SettleResult>;
  /** Returns the reservation to the budget (the call failed, nothing was spent). Idempotent. */
  release(reservation: Reservation, nowMs: number): Promise<ReleaseResult>;
  /** Returns expired reservations of `partition` to their budgets; how many it expired. */
  expireOverdue(partition: Partition, nowMs: number): Promise<number>;
  /** Spend per budget counter (summing `reads`), for admin reads and headers. */
  readBudgets(partition: Partition, charges: Pick<BudgetCharge, 'reads'>[]): Promise<BudgetUsage[]>;
  readRates(partition: Partition, counters: string[]): Promise<number[]>;
  /** Settled ledger of a partition, oldest first, for reconciliation and usage reports. */
  readLedger(partition: Partition): Promise<LedgerEntry[]>;

  /** Small JSON documents for admin-managed entities (dynamic keys, teams, profiles, ...). */
  getDoc(kind: DocKind, id: string): Promise<string | undefined>;
  putDoc(kind: DocKind, id: string, json: string): Promise<void>;
  deleteDoc(kind: DocKind, id: string): Promise<void>;
  listDocs(kind: DocKind): Promise<Map<string, string>>;

  close(): Promise<void>;
}

/** The store could not answer in time (Redis down or slow). Budgets fail closed on it. */
export class StateStoreUnavailableError extends Error {
  override readonly name = 'StateStoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
