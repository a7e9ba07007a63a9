// The facade the pipeline calls: admit (access check, budgets and rate limits at every level,
// reserved atomically), then settle or release. When the shared store is unavailable, budgets fail
// closed (503) and rate limits fall back to this replica's share (limit / replicas) in memory.
import type { Logger } from 'pino';
import type { Principal } from '../auth/key-record.ts';
import type { GatewayErrorInfo, Usage } from '../../provider-adapters/contract.ts';
import { buildCharges } from './charges.ts';
import type { Clock } from './clock.ts';
import type { Charges } from './charges.ts';
import type { Directory } from './directory.ts';
import { budgetExceededError, budgetUnavailableError, microsToDollars, notAllowedError, policyError, rateLimitedError } from './errors.ts';
import { MemoryStateStore } from './memory-store.ts';
import type { GovernanceMetrics } from './metrics.ts';
import { isAllowed, partitionOf, resolvePolicy } from './policy.ts';
import type { ResolvedPolicy } from './policy.ts';
import { StateStoreUnavailableError } from './store.ts';
import type { Reservation, ReserveResult, StateStore } from './store.ts';
import { retryAfterSeconds } from './windows.ts';

export interface AdmitInput {
  requestId: string;
  principal: Principal;
  /** The provider's configured name and/or type; the key's provider list may name either. */
  provider: string | { name?: string; type: string };
  model: string;
  estimateMicros: number;
  estimateTokens: number;
  now: number;
}

export type AdmitResult =
  | { ok: true; reservation: Reservation; policy: ResolvedPolicy; headers: Record<string, string> }
  | { ok: false; error: GatewayErrorInfo };

export interface SettleInput {
  usage: Usage;
  costMicros: number;
}

export interface GovernanceOptions {
  store: StateStore;
  directory: Directory;
  logger: Logger;
  metrics: GovernanceMetrics;
  /** Read per request, so a config reload applies at once. */
  timeZone: () => string;
  /** ext_proc replicas sharing the store; the degraded rate limit is limit / replicas. */
  replicas: number;
  reservationTtlMs: number;
  clock: Clock;
}

interface Pending {
  reservation: Reservation;
  /** Rate-limit reservation in the local fallback store, when admitted in degraded mode. */
  local?: Reservation;
  admittedAtMs: number;
}

interface Deferred {
  kind: 'settle' | 'release';
  reservation: Reservation;
  micros: number;
  tokens: number;
  atMs: number;
}

export class Governance {
  private readonly options: GovernanceOptions;
  /** Per-replica fallback for rate limits while the shared store is unreachable. */
  private readonly local: MemoryStateStore;
  private readonly pending = new Map<string, Pending>();
  /** Settles and releases the store could not take; retried by flushDeferred (idempotent). */
  private readonly deferred = new Map<string, Deferred>();
  private readonly partitionsSeen = new Set<string>();

  constructor(options: GovernanceOptions) {
    this.options = options;
    this.local = new MemoryStateStore({ reservationTtlMs: options.reservationTtlMs, idempotencyTtlMs: options.reservationTtlMs * 2, clock: options.clock });
  }

  async admit(input: AdmitInput): Promise<AdmitResult> {
    const resolution = await resolvePolicy(input.principal.key, this.options.directory);
    if (!resolution.ok) {
      this.options.logger.error({ keyId: input.principal.keyId, problem: resolution.problem }, 'key policy cannot be resolved');
      return { ok: false, error: policyError(`This key's access policy is misconfigured: ${resolution.problem}.`) };
    }
    const policy = resolution.policy;
    const providerNames = typeof input.provider === 'string' ? [input.provider] : [input.provider.name, input.provider.type].filter((name): name is string => !!name);
    const allowed = isAllowed(policy, providerNames, input.model);
    if (!allowed.ok) {
      const subject = allowed.what === 'model' ? `model "${input.model}"` : `provider "${providerNames[0]}"`;
      return { ok: false, error: notAllowedError(`This API key is not allowed to use ${subject}.`) };
    }

    const partition = partitionOf(policy);
    const charges = buildCharges(policy.levels, input.now, { timeZone: this.options.timeZone() });
    const request = {
      requestId: input.requestId,
      partition,
      subject: policy.keyId,
      budgets: charges.budgets,
      rates: charges.rates,
      estimateMicros: input.estimateMicros,
      estimateTokens: input.estimateTokens,
      nowMs: input.now,
    };
    this.partitionsSeen.add(partition);
    let result: ReserveResult;
    try {
      result = await this.options.store.reserve(request);
    } catch (error) {
      if (!(error instanceof StateStoreUnavailableError)) throw error;
      return this.admitDegraded(input, policy, charges, error);
    }
    return this.toAdmitResult(result, input, policy, charges, partition);
  }

  /** Replaces the reservation by the real cost. Never throws for store outages: it retries later. */
  async settle(requestId: string, outcome: SettleInput): Promise<void> {
    const now = this.options.clock.now();
    const entry = this.pending.get(requestId);
    if (!entry) return;
    this.pending.delete(requestId);
    const tokens = outcome.usage.inputTokens + outcome.usage.outputTokens;
    if (entry.local) await this.local.settle(entry.local, { micros: 0, tokens }, now);
    await this.apply({ kind: 'settle', reservation: entry.reservation, micros: outcome.costMicros, tokens, atMs: now });
  }

  /** The call did not happen (or failed before any cost): give the reservation back. */
  async release(requestId: string): Promise<void> {
    const now = this.options.clock.now();
    const entry = this.pending.get(requestId);
    if (!entry) return;
    this.pending.delete(requestId);
    if (entry.local) await this.local.release(entry.local, now);
    await this.apply({ kind: 'release', reservation: entry.reservation, micros: 0, tokens: 0, atMs: now });
  }

  /** Retries deferred settles/releases; how many are still waiting. Call on a timer. */
  async flushDeferred(): Promise<number> {
    for (const [requestId, item] of [...this.deferred]) {
      this.deferred.delete(requestId);
      if (!(await this.apply(item))) break; // still down: keep the rest for the next round
    }
    return this.deferred.size;
  }

  /** Returns expired reservations to their budgets and forgets abandoned requests. Call on a timer. */
  async sweep(): Promise<void> {
    const now = this.options.clock.now();
    for (const [requestId, entry] of this.pending) {
      if (entry.admittedAtMs + this.options.reservationTtlMs <= now) this.pending.delete(requestId);
    }
    for (const partition of this.partitionsSeen) {
      try {
        await this.options.store.expireOverdue(partition, now);
        await this.local.expireOverdue(partition, now);
      } catch (error) {
        if (!(error instanceof StateStoreUnavailableError)) throw error;
        this.options.metrics.stateStoreUnavailable.inc({ operation: 'sweep' });
        return;
      }
    }
    this.partitionsSeen.clear();
  }

  get deferredCount(): number {
    return this.deferred.size;
  }

  private async apply(item: Deferred): Promise<boolean> {
    try {
      if (item.kind === 'settle') await this.options.store.settle(item.reservation, { micros: item.micros, tokens: item.tokens }, item.atMs);
      else await this.options.store.release(item.reservation, item.atMs);
      return true;
    } catch (error) {
      if (!(error instanceof StateStoreUnavailableError)) throw error;
      this.options.metrics.stateStoreUnavailable.inc({ operation: item.kind });
      this.options.logger.warn({ requestId: item.reservation.requestId, operation: item.kind }, 'state store unavailable; will retry');
      this.deferred.set(item.reservation.requestId, item);
      return false;
    }
  }

  private async admitDegraded(input: AdmitInput, policy: ResolvedPolicy, charges: Charges, error: StateStoreUnavailableError): Promise<AdmitResult> {
    this.options.metrics.stateStoreUnavailable.inc({ operation: 'reserve' });
    if (charges.budgets.some((charge) => charge.enforced)) {
      this.options.metrics.budgetFailClosed.inc();
      this.options.logger.error({ requestId: input.requestId, keyId: policy.keyId, err: error }, 'state store unavailable: budget fails closed');
      // The timed-out reserve may still run once Redis answers again; a deferred release (a no-op
      // if it never ran) returns that estimate at once instead of after the reservation TTL.
      const orphan = this.sharedReservation(input, charges, partitionOf(policy));
      this.deferred.set(input.requestId, { kind: 'release', reservation: orphan, micros: 0, tokens: 0, atMs: input.now });
      return { ok: false, error: budgetUnavailableError() };
    }
    // No budget to protect: enforce this replica's share of each rate limit locally.
    const partition = partitionOf(policy);
    const share = buildCharges(policy.levels, input.now, { timeZone: this.options.timeZone(), shareOf: this.options.replicas });
    const result = await this.local.reserve({
      requestId: input.requestId,
      partition,
      subject: policy.keyId,
      budgets: [],
      rates: share.rates,
      estimateMicros: 0,
      estimateTokens: input.estimateTokens,
      nowMs: input.now,
    });
    this.options.metrics.rateLimitDegraded.inc();
    this.options.logger.warn({ requestId: input.requestId, keyId: policy.keyId, replicas: this.options.replicas }, 'state store unavailable: rate limits degraded to this replica\'s share');
    const admitted = this.toAdmitResult(result, input, policy, { budgets: [], rates: share.rates }, partition);
    if (!admitted.ok || result.status !== 'reserved') return admitted;
    // The spend is still recorded in the shared store later: settle of an unknown id records it.
    const reservation = this.sharedReservation(input, charges, partition);
    this.pending.set(input.requestId, { reservation, local: result.reservation, admittedAtMs: input.now });
    return { ...admitted, reservation };
  }

  private toAdmitResult(result: ReserveResult, input: AdmitInput, policy: ResolvedPolicy, charges: Charges, partition: string): AdmitResult {
    switch (result.status) {
      case 'budget_exceeded': {
        const charge = charges.budgets[result.index];
        const where = charge ? `${charge.level} "${charge.id}" ${describeWindow(charge.budget)} budget` : 'budget';
        return { ok: false, error: budgetExceededError(`The ${where} is exhausted (remaining $${microsToDollars(result.remainingMicros)}).`) };
      }
      case 'rate_limited': {
        const charge = charges.rates[result.index];
        const seconds = charge ? retryAfterSeconds(charge.windowEndsAtMs, input.now) : 60;
        const what = charge ? `${charge.kind} per ${charge.period} limit of ${charge.level} "${charge.id}" (${charge.limit})` : 'rate limit';
        return { ok: false, error: rateLimitedError(`Rate limit reached: ${what}. Retry after ${seconds} s.`, seconds) };
      }
      case 'duplicate': {
        // Same request id admitted before (a retry of the same request): charge nothing again.
        const reservation = this.pending.get(input.requestId)?.reservation ?? this.sharedReservation(input, charges, partition);
        return { ok: true, reservation, policy, headers: {} };
      }
      case 'reserved': {
        this.pending.set(input.requestId, { reservation: result.reservation, admittedAtMs: input.now });
        return { ok: true, reservation: result.reservation, policy, headers: remainingHeaders(charges, result.budgetRemaining, result.rateRemaining) };
      }
    }
  }

  private sharedReservation(input: AdmitInput, charges: Charges, partition: string): Reservation {
    return {
      requestId: input.requestId,
      partition,
      subject: input.principal.keyId,
      budgetCounters: charges.budgets.map((charge) => charge.counter),
      tokenCounters: charges.rates.filter((charge) => charge.kind === 'tokens').map((charge) => charge.counter),
      estimateMicros: input.estimateMicros,
      estimateTokens: input.estimateTokens,
      expiresAtMs: input.now + this.options.reservationTtlMs,
    };
  }
}

function describeWindow(budget: Charges['budgets'][number]['budget']): string {
  return budget.window === 'rolling' ? `rolling ${Math.round(budget.durationMs / 3_600_000)}h` : budget.window;
}

/** The tightest remaining value across every level, per header. */
function remainingHeaders(charges: Charges, budgetRemaining: number[], rateRemaining: number[]): Record<string, string> {
  const headers: Record<string, string> = {};
  const minOf = (values: number[]): number | undefined => (values.length === 0 ? undefined : Math.max(0, Math.min(...values)));
  const requests = minOf(charges.rates.flatMap((charge, i) => (charge.kind === 'requests' ? [rateRemaining[i] ?? 0] : [])));
  const tokens = minOf(charges.rates.flatMap((charge, i) => (charge.kind === 'tokens' ? [rateRemaining[i] ?? 0] : [])));
  const budget = minOf(charges.budgets.flatMap((charge, i) => (charge.enforced ? [budgetRemaining[i] ?? 0] : [])));
  if (requests !== undefined) headers['x-ratelimit-remaining-requests'] = String(requests);
  if (tokens !== undefined) headers['x-ratelimit-remaining-tokens'] = String(tokens);
  if (budget !== undefined) headers['x-sb-budget-remaining'] = microsToDollars(budget);
  return headers;
}
