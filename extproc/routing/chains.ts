// Fallback chains. Each distinct chain becomes one Envoy cluster (priority i = step i) plus one
// route (matched on `x-sb-chain: <id>`) carrying the chain's retry policy, so the id covers both
// the ordered targets and the policy. Ids are content hashes: stable across restarts, replicas and
// config reloads that leave the chain unchanged.
import { createHash } from 'node:crypto';
import type { RetryPolicy } from './retry-policy.ts';
import { copyTarget, sameTarget } from './target.ts';
import type { Target } from './target.ts';

/** The route header the pipeline sets to select the chain's route and cluster. */
export const CHAIN_HEADER = 'x-sb-chain';

export interface ChainSpec {
  /** `c-` + 16 hex chars of a SHA-256 over targets and retry policy. */
  id: string;
  /** Priority order: targets[0] is the primary (priority 0), then the fallbacks. */
  targets: Target[];
  retry: RetryPolicy;
  /**
   * Index in `targets` of the step reserved for "context length exceeded" (a longer-context
   * model), when the rule configures one. It is always reachable as the last priority.
   */
  contextLengthStep?: number;
}

function canonicalPolicy(retry: RetryPolicy): unknown {
  return [retry.retryOn, retry.retriableStatusCodes, retry.perAttemptTimeoutMs ?? null, retry.firstByteTimeoutMs ?? null];
}

export function chainId(targets: readonly Target[], retry: RetryPolicy, contextLengthStep?: number): string {
  const canonical = JSON.stringify([
    targets.map((target) => [target.provider, target.model]),
    canonicalPolicy(retry),
    contextLengthStep ?? null,
  ]);
  return `c-${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

/**
 * [primary, ...fallbacks, contextLength?] without repeats: retrying the same target at a lower
 * priority would only repeat the failure.
 */
export function buildChain(
  primary: Target,
  fallbacks: readonly Target[],
  retry: RetryPolicy,
  contextLengthExceeded?: Target,
): ChainSpec {
  const targets: Target[] = [];
  for (const target of [primary, ...fallbacks]) {
    if (!targets.some((existing) => sameTarget(existing, target))) targets.push(copyTarget(target));
  }
  let contextLengthStep: number | undefined;
  if (contextLengthExceeded) {
    const existing = targets.findIndex((target) => sameTarget(target, contextLengthExceeded));
    if (existing >= 0) {
      contextLengthStep = existing;
    } else {
      targets.push(copyTarget(contextLengthExceeded));
      contextLengthStep = targets.length - 1;
    }
  }
  const spec: ChainSpec = { id: chainId(targets, retry, contextLengthStep), targets, retry };
  if (contextLengthStep !== undefined) spec.contextLengthStep = contextLengthStep;
  return spec;
}

/** The chain with only the steps at `keep` (ascending indices), or undefined when none is left. */
export function chainSubsequence(chain: ChainSpec, keep: readonly number[]): ChainSpec | undefined {
  const targets = keep.map((i) => chain.targets[i]).filter((t): t is Target => t !== undefined);
  if (targets.length === 0) return undefined;
  const cl = chain.contextLengthStep !== undefined ? keep.indexOf(chain.contextLengthStep) : -1;
  return { id: chainId(targets, chain.retry, cl >= 0 ? cl : undefined), targets, retry: chain.retry, ...(cl >= 0 ? { contextLengthStep: cl } : {}) };
}

/** The chain without its first `skip` steps (skip >= 1), or undefined when nothing is left. */
export function chainSuffix(chain: ChainSpec, skip: number): ChainSpec | undefined {
  return chainSubsequence(chain, chain.targets.map((_, i) => i).slice(skip));
}

/** Chains up to this long get every subsequence provisioned (2^n - 1); longer ones their suffixes. */
export const MAX_CHAIN_FOR_SUBSEQUENCES = 4;

/**
 * The chains a decision may switch to when some steps' keys are all cooling down: every
 * order-keeping subsequence (short chains) or every suffix (longer ones), the chain itself excluded.
 */
export function chainVariants(chain: ChainSpec): ChainSpec[] {
  const n = chain.targets.length;
  const out: ChainSpec[] = [];
  if (n <= MAX_CHAIN_FOR_SUBSEQUENCES) {
    for (let mask = 1; mask < (1 << n) - 1; mask++) {
      const keep = chain.targets.map((_, i) => i).filter((i) => mask & (1 << i));
      const sub = chainSubsequence(chain, keep);
      if (sub) out.push(sub);
    }
    return out;
  }
  for (let skip = 1; skip < n; skip++) {
    const suffix = chainSuffix(chain, skip);
    if (suffix) out.push(suffix);
  }
  return out;
}
