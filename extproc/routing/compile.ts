// Turns the parsed `routing:` and `models:` sections into an ordered rule list with every chain
// precomputed: explicit rules first (config order), then one implicit rule per models alias.
import { buildChain } from './chains.ts';
import type { ChainSpec } from './chains.ts';
import { resolveRetryPolicy } from './retry-policy.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { MODEL_RULE_PREFIX } from './schema.ts';
import type { MatchConfig, ModelEntryConfig, RouterConfig, RoutingConfig } from './schema.ts';
import { copyTarget } from './target.ts';
import type { Target } from './target.ts';

export interface CompiledTarget {
  target: Target;
  /** Configured weight, before health adjustment. */
  weight: number;
  /** The chain this target heads when picked without a per-key override. */
  chain: ChainSpec;
}

export interface CompiledRule {
  name: string;
  source: 'rule' | 'model';
  /** Explicit rules: the match criteria. */
  match: MatchConfig;
  /** Implicit models rules: the alias, compared exactly (never as a glob). */
  alias?: string;
  targets: CompiledTarget[];
  retry: RetryPolicy;
  contextLengthExceeded?: Target;
}

function compileAction(
  name: string,
  source: CompiledRule['source'],
  match: MatchConfig,
  action: ModelEntryConfig,
  defaults: RoutingConfig['defaults'],
): CompiledRule {
  const retry = resolveRetryPolicy(action, defaults);
  const targets = action.targets.map((configured): CompiledTarget => {
    const target = { provider: configured.provider, model: configured.model };
    const fallbacks = configured.fallbacks ?? action.fallbacks ?? [];
    return { target, weight: configured.weight, chain: buildChain(target, fallbacks, retry, action.contextLengthExceeded) };
  });
  const rule: CompiledRule = { name, source, match, targets, retry };
  if (action.contextLengthExceeded) rule.contextLengthExceeded = copyTarget(action.contextLengthExceeded);
  return rule;
}

export function compileRules(config: RouterConfig): CompiledRule[] {
  const defaults = config.routing?.defaults;
  const explicit = (config.routing?.rules ?? []).map((rule) => compileAction(rule.name, 'rule', rule.match, rule, defaults));
  const implicit = Object.entries(config.models ?? {}).map(([alias, entry]) => {
    const rule = compileAction(`${MODEL_RULE_PREFIX}${alias}`, 'model', {}, entry, defaults);
    rule.alias = alias;
    return rule;
  });
  return [...explicit, ...implicit];
}

/** The chain a target heads when a virtual key overrides the fallbacks. */
export function overrideChain(rule: CompiledRule, primary: Target, fallbacks: readonly Target[]): ChainSpec {
  return buildChain(primary, fallbacks, rule.retry, rule.contextLengthExceeded);
}
