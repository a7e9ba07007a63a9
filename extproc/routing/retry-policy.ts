// The per-chain retry policy the Envoy route for that chain carries. Resolved at load time from
// the rule (or models entry), then `routing.defaults`, then the built-in defaults.
import { DEFAULT_RETRY_ON, RETRY_CONDITIONS } from './schema.ts';
import type { RetryCondition, RetryOn } from './schema.ts';

export interface RetryPolicy {
  /** Named conditions, in the canonical order of RETRY_CONDITIONS. */
  retryOn: RetryCondition[];
  /** Extra retriable upstream status codes (besides 429, which is a named condition), ascending. */
  retriableStatusCodes: number[];
  perAttemptTimeoutMs?: number;
  firstByteTimeoutMs?: number;
}

export interface RetryFields {
  retryOn?: RetryOn;
  perAttemptTimeoutMs?: number;
  firstByteTimeoutMs?: number;
}

export function resolveRetryPolicy(own: RetryFields, defaults: RetryFields | undefined): RetryPolicy {
  const list = own.retryOn ?? defaults?.retryOn ?? DEFAULT_RETRY_ON;
  const named = new Set<RetryCondition>();
  const codes = new Set<number>();
  for (const entry of list) {
    if (typeof entry === 'number') {
      if (entry === 429) named.add('429');
      else codes.add(entry);
    } else {
      named.add(entry);
    }
  }
  const policy: RetryPolicy = {
    retryOn: RETRY_CONDITIONS.filter((condition) => named.has(condition)),
    retriableStatusCodes: [...codes].sort((a, b) => a - b),
  };
  const perAttemptTimeoutMs = own.perAttemptTimeoutMs ?? defaults?.perAttemptTimeoutMs;
  const firstByteTimeoutMs = own.firstByteTimeoutMs ?? defaults?.firstByteTimeoutMs;
  if (perAttemptTimeoutMs !== undefined) policy.perAttemptTimeoutMs = perAttemptTimeoutMs;
  if (firstByteTimeoutMs !== undefined) policy.firstByteTimeoutMs = firstByteTimeoutMs;
  return policy;
}
