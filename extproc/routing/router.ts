// The routing decision: first matching rule (explicit rules, then models aliases), weighted pick
// among its targets with health-adjusted weights, and the precomputed fallback chain of the pick.
// Envoy then walks the chain (one priority per step); this module never retries anything itself.
import type { ChainSpec } from './chains.ts';
import { compileRules, overrideChain } from './compile.ts';
import type { CompiledRule } from './compile.ts';
import type { Clock, Random } from './deps.ts';
import type { HealthSource } from './health.ts';
import { checkRule } from './match.ts';
import type { CriterionCheck } from './match.ts';
import type { RetryPolicy } from './retry-policy.ts';
import type { RouteInput } from './route-input.ts';
import type { RouterConfig } from './schema.ts';
import { copyTarget } from './target.ts';
import type { Target } from './target.ts';
import { pickWeighted } from './weighted-pick.ts';

export interface RouterDeps {
  clock: Clock;
  random: Random;
  health: HealthSource;
  /**
   * Whether Envoy has a cluster for a chain id. When given, a per-key override whose chain was
   * not provisioned (key created after the Envoy config was generated) falls back to the rule's
   * chain instead of sending a route header that matches nothing.
   */
  isProvisioned?: (chainId: string) => boolean;
}

export interface RouteDecision {
  ok: true;
  rule: string;
  chainId: string;
  /** Priority order; chain[0] is the primary. */
  chain: Target[];
  primary: Target;
  retry: RetryPolicy;
  contextLengthStep?: number;
  /** The key's fallback override shaped the chain. */
  overridden: boolean;
}

export interface RouteMiss {
  ok: false;
  reason: 'model_not_found';
}

export interface CandidateExplanation {
  target: Target;
  configuredWeight: number;
  healthFactor: number;
  effectiveWeight: number;
  /** Probability of this pick, effectiveWeight / sum. */
  share: number;
  chainId: string;
  chain: Target[];
}

export interface RuleExplanation {
  name: string;
  source: CompiledRule['source'];
  matched: boolean;
  /** selected: first match; shadowed: matched but an earlier rule won; no-match. */
  outcome: 'selected' | 'shadowed' | 'no-match';
  checks: CriterionCheck[];
}

export interface RouteExplanation {
  at: string;
  input: RouteInput;
  rules: RuleExplanation[];
  candidates: CandidateExplanation[];
  /** The random draw used for this dry run's pick. */
  draw?: number;
  overrideIgnored?: string;
  decision: RouteDecision | RouteMiss;
}

export interface Router {
  decide(input: RouteInput): RouteDecision | RouteMiss;
  explain(input: RouteInput): RouteExplanation;
}

interface Weighing {
  configured: number[];
  factors: number[];
  effective: number[];
}

function weigh(rule: CompiledRule, health: HealthSource, now: number): Weighing {
  const configured = rule.targets.map((candidate) => candidate.weight);
  const factors = health.factors(
    rule.targets.map((candidate) => candidate.target),
    now,
  );
  let effective = configured.map((weight, index) => weight * (factors[index] ?? 1));
  // A health source returning all zeros must not make a configured rule unroutable.
  if (!effective.some((weight) => weight > 0)) effective = configured;
  return { configured, factors, effective };
}

export function createRouter(config: RouterConfig, deps: RouterDeps): Router {
  const rules = compileRules(config);
  const miss: RouteMiss = { ok: false, reason: 'model_not_found' };

  function chainFor(rule: CompiledRule, index: number, input: RouteInput): { chain: ChainSpec; overridden: boolean; ignored?: string } {
    const candidate = rule.targets[index] as CompiledRule['targets'][number];
    if (!input.fallbackOverride) return { chain: candidate.chain, overridden: false };
    const chain = overrideChain(rule, candidate.target, input.fallbackOverride);
    if (deps.isProvisioned && !deps.isProvisioned(chain.id)) {
      return { chain: candidate.chain, overridden: false, ignored: `override chain ${chain.id} is not provisioned in Envoy` };
    }
    return { chain, overridden: true };
  }

  function decisionOf(rule: CompiledRule, index: number, input: RouteInput): { decision: RouteDecision; ignored?: string } {
    const { chain, overridden, ignored } = chainFor(rule, index, input);
    const decision: RouteDecision = {
      ok: true,
      rule: rule.name,
      chainId: chain.id,
      chain: chain.targets.map(copyTarget),
      primary: copyTarget(chain.targets[0] as Target),
      retry: chain.retry,
      overridden,
    };
    if (chain.contextLengthStep !== undefined) decision.contextLengthStep = chain.contextLengthStep;
    return ignored === undefined ? { decision } : { decision, ignored };
  }

  function decide(input: RouteInput): RouteDecision | RouteMiss {
    const now = deps.clock.now();
    for (const rule of rules) {
      if (!checkRule(rule, input, now, false).matched) continue;
      const { effective } = weigh(rule, deps.health, now);
      const index = pickWeighted(effective, deps.random());
      return decisionOf(rule, Math.max(0, index), input).decision;
    }
    return miss;
  }

  function explain(input: RouteInput): RouteExplanation {
    const now = deps.clock.now();
    let selected: CompiledRule | undefined;
    const explained = rules.map((rule): RuleExplanation => {
      const { matched, checks } = checkRule(rule, input, now, true);
      let outcome: RuleExplanation['outcome'] = 'no-match';
      if (matched && !selected) {
        selected = rule;
        outcome = 'selected';
      } else if (matched) {
        outcome = 'shadowed';
      }
      return { name: rule.name, source: rule.source, matched, outcome, checks };
    });
    const explanation: RouteExplanation = {
      at: new Date(now).toISOString(),
      input: structuredClone(input),
      rules: explained,
      candidates: [],
      decision: miss,
    };
    if (!selected) return explanation;

    const rule = selected;
    const { configured, factors, effective } = weigh(rule, deps.health, now);
    const total = effective.reduce((sum, weight) => sum + Math.max(0, weight), 0);
    explanation.candidates = rule.targets.map((candidate, index) => {
      const { chain } = chainFor(rule, index, input);
      const effectiveWeight = effective[index] ?? 0;
      return {
        target: copyTarget(candidate.target),
        configuredWeight: configured[index] ?? 0,
        healthFactor: factors[index] ?? 1,
        effectiveWeight,
        share: total > 0 ? Math.max(0, effectiveWeight) / total : 0,
        chainId: chain.id,
        chain: chain.targets.map(copyTarget),
      };
    });
    const draw = deps.random();
    explanation.draw = draw;
    const { decision, ignored } = decisionOf(rule, Math.max(0, pickWeighted(effective, draw)), input);
    explanation.decision = decision;
    if (ignored !== undefined) explanation.overrideIgnored = ignored;
    return explanation;
  }

  return { decide, explain };
}
