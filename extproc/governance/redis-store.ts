// State store shared by every replica through Redis (or Redis Cluster). Each write is one Lua
// script over keys of a single partition hash tag `{<prefix>:<partition>}`: the customer ->
// team -> key hierarchy of a request lives in one slot, so reserving at every level is one atomic
// script instead of per-level scripts with compensation. The price: one very busy customer is one
// hot slot. Every call is bounded by `commandTimeoutMs` and fails with StateStoreUnavailableError.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { RELEASE_SCRIPT, RESERVE_SCRIPT, SETTLE_SCRIPT } from './redis-scripts.ts';
import { StateStoreUnavailableError } from './store.ts';
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

export type RedisClient = Redis | Cluster;

export interface RedisStateStoreOptions {
  client: RedisClient;
  keyPrefix: string;
  commandTimeoutMs: number;
  reservationTtlMs: number;
  idempotencyTtlMs: number;
  /** Approximate cap of ledger entries kept per partition (XADD MAXLEN ~). Default 1,000,000. */
  ledgerMaxLen?: number;
  /** How long a counter lives after a late settle touched it. Default 40 days. */
  counterTtlMs?: number;
}

interface Script {
  body: string;
  sha: string;
}

function script(body: string): Script {
  return { body, sha: createHash('sha1').update(body).digest('hex') };
}

const SCRIPTS = { reserve: script(RESERVE_SCRIPT), settle: script(SETTLE_SCRIPT), release: script(RELEASE_SCRIPT) };

/** Connects an ioredis client with the timeouts the store relies on. */
export function connectRedis(url: string, commandTimeoutMs: number): Redis {
  return new Redis(url, {
    // The store's own deadline (call()) bounds each command and lets I/O that arrived during an
    // event-loop stall in first; ioredis' timer, which cannot, only reclaims commands stuck longer.
    commandTimeout: commandTimeoutMs * 4,
    connectTimeout: Math.max(commandTimeoutMs, 1000),
    // One retry on a broken connection; the store's own deadline bounds the total wait anyway.
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
}

export class RedisStateStore implements StateStore {
  private readonly client: RedisClient;
  private readonly options: RedisStateStoreOptions;

  constructor(options: RedisStateStoreOptions) {
    this.client = options.client;
    this.options = options;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const keys = [this.key(request.partition, `res:${request.requestId}`), this.key(request.partition, 'pending')];
    const indexOf = new Map<string, number>();
    const slot = (counter: string): number => {
      let index = indexOf.get(counter);
      if (index === undefined) {
        keys.push(this.key(request.partition, counter));
        index = keys.length; // Lua KEYS are 1-based
        indexOf.set(counter, index);
      }
      return index;
    };
    const budgets = request.budgets.map((charge) => ({
      key: slot(charge.counter),
      reads: charge.reads.map(slot),
      limit: charge.limitMicros,
      exp: charge.expiresAtMs,
    }));
    const rates = request.rates.map((charge) => ({
      key: slot(charge.counter),
      tokens: charge.kind === 'tokens',
      limit: charge.limit,
      exp: charge.expiresAtMs,
    }));
    const deadline = request.nowMs + this.options.reservationTtlMs;
    const tokenCounters = request.rates.filter((charge) => charge.kind === 'tokens').map((charge) => charge.counter);
    const budgetCounters = request.budgets.map((charge) => charge.counter);
    const spec = {
      rid: request.requestId,
      now: request.nowMs,
      deadline,
      forgetAt: deadline + this.options.idempotencyTtlMs,
      est: String(request.estimateMicros),
      estNum: request.estimateMicros,
      estTokens: String(request.estimateTokens),
      estTokensNum: request.estimateTokens,
      keys: JSON.stringify({ b: budgetCounters, t: tokenCounters }),
      budgets,
      rates,
    };
    const reply = (await this.run(SCRIPTS.reserve, keys, [JSON.stringify(spec)])) as [string, ...unknown[]];
    switch (reply[0]) {
      case 'duplicate':
        return { status: 'duplicate', state: reply[1] as ReservationState };
      case 'budget':
        return { status: 'budget_exceeded', index: Number(reply[1]), remainingMicros: Number(reply[2]) };
      case 'rate':
        return { status: 'rate_limited', index: Number(reply[1]) };
      default:
        return {
          status: 'reserved',
          reservation: {
            requestId: request.requestId,
            partition: request.partition,
            subject: request.subject,
            budgetCounters,
            tokenCounters,
            estimateMicros: request.estimateMicros,
            estimateTokens: request.estimateTokens,
            expiresAtMs: deadline,
          },
          budgetRemaining: luaArray(reply[1] as string),
          rateRemaining: luaArray(reply[2] as string),
        };
    }
  }

  async settle(reservation: Reservation, actual: Actual, nowMs: number): Promise<SettleResult> {
    const { partition } = reservation;
    const entry: LedgerEntry = {
      requestId: reservation.requestId,
      partition,
      subject: reservation.subject,
      budgetCounters: reservation.budgetCounters,
      micros: actual.micros,
      tokens: actual.tokens,
      settledAtMs: nowMs,
    };
    const keys = [
      this.key(partition, `res:${reservation.requestId}`),
      this.key(partition, 'pending'),
      this.key(partition, 'ledger'),
      ...reservation.budgetCounters.map((counter) => this.key(partition, counter)),
      ...reservation.tokenCounters.map((counter) => this.key(partition, counter)),
    ];
    const reply = await this.run(SCRIPTS.settle, keys, [
      reservation.requestId,
      String(reservation.budgetCounters.length),
      String(reservation.tokenCounters.length),
      String(actual.micros),
      String(actual.tokens),
      String(nowMs),
      String(this.options.idempotencyTtlMs),
      String(this.options.counterTtlMs ?? 40 * 86_400_000),
      String(this.options.ledgerMaxLen ?? 1_000_000),
      JSON.stringify(entry),
    ]);
    return reply === 'duplicate' ? { status: 'duplicate' } : { status: 'settled' };
  }

  async release(reservation: Reservation, nowMs: number): Promise<ReleaseResult> {
    return this.returnReservation(reservation.partition, reservation.requestId, reservation.budgetCounters, reservation.tokenCounters, 'released', nowMs);
  }

  async expireOverdue(partition: Partition, nowMs: number): Promise<number> {
    const overdue = await this.call(() => this.client.zrangebyscore(this.key(partition, 'pending'), '-inf', nowMs, 'LIMIT', 0, 100));
    let expired = 0;
    for (const requestId of overdue) {
      const keysJson = await this.call(() => this.client.hget(this.key(partition, `res:${requestId}`), 'keys'));
      const counters = keysJson ? (JSON.parse(keysJson) as { b: string[]; t: string[] }) : { b: [], t: [] };
      const result = await this.returnReservation(partition, requestId, counters.b, counters.t, 'expired', nowMs);
      if (result.status === 'released') expired++;
    }
    return expired;
  }

  async readBudgets(partition: Partition, charges: Pick<BudgetCharge, 'reads'>[]): Promise<BudgetUsage[]> {
    return Promise.all(
      charges.map(async (charge) => {
        const values = await Promise.all(charge.reads.map((counter) => this.call(() => this.client.hmget(this.key(partition, counter), 'spent', 'reserved'))));
        let spentMicros = 0;
        let reservedMicros = 0;
        for (const [spent, reserved] of values) {
          spentMicros += Number(spent ?? 0);
          reservedMicros += Number(reserved ?? 0);
        }
        return { spentMicros, reservedMicros };
      }),
    );
  }

  async readRates(partition: Partition, counters: string[]): Promise<number[]> {
    return Promise.all(counters.map(async (counter) => Number((await this.call(() => this.client.hget(this.key(partition, counter), 'spent'))) ?? 0)));
  }

  async readLedger(partition: Partition): Promise<LedgerEntry[]> {
    const rows = await this.call(() => this.client.xrange(this.key(partition, 'ledger'), '-', '+'));
    return rows.map(([, fields]) => JSON.parse(fields[1] as string) as LedgerEntry);
  }

  async getDoc(kind: DocKind, id: string): Promise<string | undefined> {
    return (await this.call(() => this.client.hget(this.docsKey(kind), id))) ?? undefined;
  }

  async putDoc(kind: DocKind, id: string, json: string): Promise<void> {
    await this.call(() => this.client.hset(this.docsKey(kind), id, json));
  }

  async deleteDoc(kind: DocKind, id: string): Promise<void> {
    await this.call(() => this.client.hdel(this.docsKey(kind), id));
  }

  async listDocs(kind: DocKind): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.call(() => this.client.hgetall(this.docsKey(kind)))));
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }

  private async returnReservation(
    partition: Partition,
    requestId: string,
    budgetCounters: string[],
    tokenCounters: string[],
    target: 'released' | 'expired',
    nowMs: number,
  ): Promise<ReleaseResult> {
    const keys = [
      this.key(partition, `res:${requestId}`),
      this.key(partition, 'pending'),
      ...budgetCounters.map((counter) => this.key(partition, counter)),
      ...tokenCounters.map((counter) => this.key(partition, counter)),
    ];
    const reply = (await this.run(SCRIPTS.release, keys, [
      requestId,
      target,
      String(nowMs),
      String(this.options.idempotencyTtlMs),
      String(budgetCounters.length),
      String(tokenCounters.length),
    ])) as string[];
    if (reply[0] === 'released') return { status: 'released' };
    return { status: 'noop', state: reply[1] as ReservationState | 'unknown' };
  }

  private key(partition: Partition, name: string): string {
    return `{${this.options.keyPrefix}:${partition}}:${name}`;
  }

  private docsKey(kind: DocKind): string {
    return `{${this.options.keyPrefix}:docs}:${kind}`;
  }

  /** EVALSHA, loading the script on NOSCRIPT (first use, or after a Redis restart). */
  private async run(body: Script, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.call(() => this.client.evalsha(body.sha, keys.length, ...keys, ...args));
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
      return this.call(() => this.client.eval(body.body, keys.length, ...keys, ...args));
    }
  }

  /** Bounds one command by the timeout; connection and timeout failures become unavailability. */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      // Timers run before I/O in an event-loop turn: after a stall (GC, a long synchronous task)
      // a reply that arrived in time would lose to the deadline. setImmediate lets pending I/O in first.
      timer = setTimeout(() => setImmediate(() => reject(new StateStoreUnavailableError(`redis did not answer within ${this.options.commandTimeoutMs} ms`))), this.options.commandTimeoutMs);
    });
    const attempt = command();
    attempt.catch(() => undefined); // the deadline may win; never leave this rejection unhandled
    try {
      return await Promise.race([attempt, deadline]);
    } catch (error) {
      if (error instanceof StateStoreUnavailableError || isConnectionError(error)) {
        throw error instanceof StateStoreUnavailableError ? error : new StateStoreUnavailableError(`redis unavailable: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

function luaArray(json: string): number[] {
  // cjson encodes an empty Lua table as {} rather than [].
  const parsed = JSON.parse(json) as unknown;
  return Array.isArray(parsed) ? parsed.map(Number) : [];
}

function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // Script and data errors (ERR, WRONGTYPE, NOSCRIPT) are bugs and must surface as such; the rest
  // (timeouts, refused or closed connections, BUSY, LOADING) mean Redis cannot answer now.
  return !/^(ERR|WRONGTYPE|NOSCRIPT)/.test(error.message);
}
