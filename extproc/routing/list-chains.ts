// Every chain a decision can return, for the Envoy config generator: one cluster and one route
// per entry. Per-key fallback overrides multiply with every target a rule can pick, because a key
// may match any rule; identical override lists are counted once.
import { chainVariants, type ChainSpec } from './chains.ts';
import { compileRules, overrideChain } from './compile.ts';
import type { RouterConfig } from './schema.ts';
import type { Target } from './target.ts';

/** The part of a virtual key that shapes chains. */
export interface KeyChainOverride {
  keyId: string;
  /** Replaces the rule's fallbacks (the primary is still the rule's weighted pick). */
  fallbacks?: readonly Target[];
}

export function listChains(config: RouterConfig, keys: readonly KeyChainOverride[] = [], opts: { variants?: boolean } = {}): ChainSpec[] {
  const byId = new Map<string, ChainSpec>();
  const overrides = new Map<string, readonly Target[]>();
  for (const key of keys) {
    if (key.fallbacks) overrides.set(JSON.stringify(key.fallbacks.map((t) => [t.provider, t.model])), key.fallbacks);
  }
  for (const rule of compileRules(config)) {
    for (const candidate of rule.targets) {
      byId.set(candidate.chain.id, candidate.chain);
      for (const fallbacks of overrides.values()) {
        const chain = overrideChain(rule, candidate.target, fallbacks);
        byId.set(chain.id, chain);
      }
    }
  }
  // The chain without some of its steps too: when a step's provider has all keys cooling down,
  // the decision leaves that step out instead of sending an attempt that can only fail (Envoy
  // does not retry an upstream filter's local reply, so the chain could not move on past it).
  if (opts.variants !== false) for (const chain of [...byId.values()]) {
    for (const variant of chainVariants(chain)) byId.set(variant.id, variant);
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}
