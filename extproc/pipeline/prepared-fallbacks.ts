// Fallbacks prepared up front. When the router-level filter prepares attempt 1, it also
// translates the request for the next steps of the chain and hands them to Envoy as dynamic
// metadata; on a retry, a Lua upstream filter (envoy/prepared-fallback-filters.ts) swaps body
// and headers in without a round trip to Switchboard, so a fallback costs little more than
// Envoy's own retry. Steps not prepared here (past the limit, too large, a signature that could
// age) still go through the upstream ext_proc filter, which translates them on the spot. Since
// Envoy applies prepared steps without telling Switchboard, the response phase rebuilds the
// attempt history from what Envoy reports (reconcileAttempts).
import type { Target } from './ports.ts';
import { targetKey } from '../routing/target.ts';
import type { RequestContext } from './request-context.ts';
import { PROVIDER_AUTH_HEADERS, translateFor, upstreamHeaderNames, type AttemptDeps, type TranslatedAttempt } from './attempt.ts';
import type { JournalAttempt } from './attempt-log.ts';
import { protoStruct, type ProtoStruct } from '../server/messages.ts';
import { FALLBACK_NAMESPACE } from '../../envoy/prepared-fallback-filters.ts';

export interface PreparedFallbackLimits {
  /** How many steps after the first to prepare; 0 turns preparing off. */
  steps: number;
  /** Larger translated bodies are left to the upstream ext_proc filter. */
  maxBodyBytes: number;
  /**
   * Whether signed requests (Bedrock's SigV4, whose timestamp must stay within minutes of the
   * call) may be prepared: only when the whole request is bounded well inside that window.
   */
  signedRequests: boolean;
}

/** A prepared step, as the response phase needs it once Envoy says which target answered. */
export interface PreparedStep {
  provider: string;
  model: string;
  keyId: string;
  droppedParams: string[];
}

export interface PreparedFallbacks {
  /** ProcessingResponse.dynamic_metadata, or undefined when nothing was prepared. */
  metadata?: ProtoStruct;
  /** Journal candidates: attempts only if Envoy logs one to their target. */
  candidates: JournalAttempt[];
  /** By target (provider/model). */
  steps: Map<string, PreparedStep>;
  /** Every non-pseudo header any prepared attempt (the first included) sets upstream. */
  headerNames: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Translates steps 1..limits.steps of `ctx.chain` (step 0 is `first`, already prepared). Changes
 * nothing in the context; a step that cannot be prepared is simply left to the upstream filter.
 */
export async function prepareFallbacks(deps: AttemptDeps, ctx: RequestContext, first: { provider: string; keyId: string; set: Record<string, string> }, now: number, limits: PreparedFallbackLimits): Promise<PreparedFallbacks> {
  const prepared: { step: number; attempt: TranslatedAttempt; body: string }[] = [];
  const usedKeys = new Map<string, Set<string>>([[first.provider, new Set([first.keyId])]]);
  const last = Math.min(ctx.chain.length - 1, limits.steps);
  for (let step = 1; step <= last; step++) {
    const target: Target = ctx.chain[step]!;
    const provider = deps.providers()[target.provider];
    if (!provider || (provider.type === 'bedrock' && !limits.signedRequests)) continue;
    const t = await translateFor(deps, ctx, targetKey(target), now, { avoidKeys: usedKeys.get(target.provider) });
    if (!t.ok || t.attempt.body.length > limits.maxBodyBytes) continue;
    let body: string;
    try {
      body = utf8.decode(t.attempt.body);
    } catch {
      continue; // dynamic metadata carries text only
    }
    prepared.push({ step, attempt: t.attempt, body });
    if (t.attempt.keyId) {
      const keys = usedKeys.get(t.attempt.provider) ?? new Set<string>();
      keys.add(t.attempt.keyId);
      usedKeys.set(t.attempt.provider, keys);
    }
  }

  // Envoy reuses one header map for every retry: each step removes whatever another one set.
  const headerNames = new Set(upstreamHeaderNames(first.set));
  for (const p of prepared) for (const n of upstreamHeaderNames(p.attempt.set)) headerNames.add(n);
  const removable = new Set([...PROVIDER_AUTH_HEADERS, ...headerNames]);
  const entries: Record<string, unknown> = {};
  const steps = new Map<string, PreparedStep>();
  const candidates: JournalAttempt[] = [];
  for (const { step, attempt, body } of prepared) {
    const own = new Set(Object.keys(attempt.set));
    entries[String(step)] = { body, set: attempt.set, remove: [...removable].filter((n) => !own.has(n)) };
    steps.set(targetKey(attempt), { provider: attempt.provider, model: attempt.model, keyId: attempt.keyId, droppedParams: attempt.droppedParams });
    candidates.push({ provider: attempt.provider, model: attempt.model, ...(attempt.keyId ? { keyId: attempt.keyId } : {}) });
  }
  return {
    ...(prepared.length ? { metadata: protoStruct({ [FALLBACK_NAMESPACE]: entries }) } : {}),
    candidates,
    steps,
    headerNames: [...headerNames],
  };
}

/**
 * Brings the attempt history in line with what Envoy reports once a response arrives: the
 * target that answered and how many attempts it took. Attempts Envoy's Lua filter made from a
 * prepared fallback never passed through Switchboard; the one that answered is known exactly,
 * earlier ones are the chain's prepared steps in order (their status comes with the access log).
 */
export function reconcileAttempts(ctx: RequestContext, answeredBy: string, attemptCount: number): void {
  const prepared = ctx.preparedSteps;
  if (!prepared || !answeredBy) return;
  const listed = new Set(ctx.attempts.map(targetKey));
  const add = (s: PreparedStep) => {
    ctx.attempts.push({ provider: s.provider, model: s.model, ...(s.keyId ? { keyId: s.keyId } : {}) });
    for (const p of s.droppedParams) if (!ctx.droppedParams.includes(p)) ctx.droppedParams.push(p);
  };
  const answered = prepared.get(answeredBy);
  if (answered && !listed.has(answeredBy)) add(answered);
  let missing = attemptCount - ctx.attempts.length;
  for (const t of ctx.chain.map(targetKey)) {
    if (missing <= 0) break;
    const step = prepared.get(t);
    if (step && t !== answeredBy && !listed.has(t)) {
      add(step);
      missing--;
    }
  }
  // Envoy walks the chain's priorities in order.
  const order = new Map(ctx.chain.map((t, i) => [targetKey(t), i]));
  ctx.attempts.sort((a, b) => (order.get(targetKey(a)) ?? 0) - (order.get(targetKey(b)) ?? 0));
  // Fewer attempts than listed: Envoy sent attempt 1 elsewhere (its first step was ejected).
  if (ctx.attempts.length > attemptCount) ctx.attempts.splice(0, ctx.attempts.length - attemptCount);
}
