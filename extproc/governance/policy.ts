// What a key may do, resolved at request time: its access profile merged with the key's own
// fields (a field set on the key replaces the profile's, one field at a time), plus the budgets
// and rate limits of every level above it: customer -> team -> key.
import type { VirtualKeyRecord } from '../auth/key-record.ts';
import type { Directory } from './directory.ts';
import { matchesAny } from './glob.ts';
import type { Budget, PolicyFields, RateLimits } from './schema.ts';

export type Level = 'customer' | 'team' | 'key';

export interface LevelLimits {
  level: Level;
  id: string;
  budgets: Budget[];
  rateLimits: RateLimits;
}

export interface ResolvedPolicy {
  keyId: string;
  teamId?: string;
  customerId?: string;
  providers?: string[];
  models?: string[];
  guardrailPolicy?: string;
  fallbackChain?: string[];
  /** Outermost first: customer, team, key. A request must pass every level. */
  levels: LevelLimits[];
}

export type PolicyResolution = { ok: true; policy: ResolvedPolicy } | { ok: false; problem: string };

const OVERRIDABLE = ['providers', 'models', 'budgets', 'rateLimits', 'guardrailPolicy'] as const;

/** Profile fields overridden by the key's own fields, field by field. */
export function mergeProfile(profile: PolicyFields | undefined, key: PolicyFields): PolicyFields {
  const merged: PolicyFields = { ...profile };
  for (const field of OVERRIDABLE) {
    if (key[field] !== undefined) Object.assign(merged, { [field]: key[field] });
  }
  return merged;
}

export async function resolvePolicy(key: VirtualKeyRecord, directory: Directory): Promise<PolicyResolution> {
  let profile: PolicyFields | undefined;
  if (key.profile !== undefined) {
    profile = await directory.profile(key.profile);
    // Fail closed: a key whose profile vanished must not fall back to "everything allowed".
    if (!profile) return { ok: false, problem: `access profile "${key.profile}" does not exist` };
  }
  const fields = mergeProfile(profile, key);
  const levels: LevelLimits[] = [];
  let customerId = key.customerId;
  if (key.teamId !== undefined) {
    const team = await directory.team(key.teamId);
    if (!team) return { ok: false, problem: `team "${key.teamId}" does not exist` };
    customerId = team.customerId ?? customerId;
    levels.push({ level: 'team', id: team.id, budgets: team.budgets ?? [], rateLimits: team.rateLimits ?? {} });
  }
  if (customerId !== undefined) {
    const customer = await directory.customer(customerId);
    if (!customer) return { ok: false, problem: `customer "${customerId}" does not exist` };
    levels.unshift({ level: 'customer', id: customer.id, budgets: customer.budgets ?? [], rateLimits: customer.rateLimits ?? {} });
  }
  levels.push({ level: 'key', id: key.id, budgets: fields.budgets ?? [], rateLimits: fields.rateLimits ?? {} });
  return {
    ok: true,
    policy: {
      keyId: key.id,
      teamId: key.teamId,
      customerId,
      providers: fields.providers,
      models: fields.models,
      guardrailPolicy: fields.guardrailPolicy,
      fallbackChain: key.fallbackChain,
      levels,
    },
  };
}

/** True if the policy allows this provider (by name or type) and model. Absent lists allow all. */
export function isAllowed(policy: ResolvedPolicy, providerNames: readonly string[], model: string): { ok: true } | { ok: false; what: 'provider' | 'model' } {
  if (policy.providers && !providerNames.some((name) => matchesAny(name, policy.providers as string[]))) return { ok: false, what: 'provider' };
  if (policy.models && !matchesAny(model, policy.models)) return { ok: false, what: 'model' };
  return { ok: true };
}

/** The partition (Redis hash tag) of a request: the root of its hierarchy. */
export function partitionOf(policy: ResolvedPolicy): string {
  if (policy.customerId !== undefined) return `c:${policy.customerId}`;
  if (policy.teamId !== undefined) return `t:${policy.teamId}`;
  return `k:${policy.keyId}`;
}
