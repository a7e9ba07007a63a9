// Turns one named policy into the rules it runs and the action each rule takes.
import { RE2JS } from 're2js';
import type { DetectionRule } from './rules/rule-types.ts';
import type { GuardrailAction } from './types.ts';
import type { GuardrailPolicyConfig, GuardrailsConfig } from './schema.ts';
import { SECRET_RULES } from './rules/secret-rules.ts';
import { PII_RULES } from './rules/pii-rules.ts';
import { INJECTION_RULES } from './rules/injection-rules.ts';

export const BUILTIN_RULES: readonly DetectionRule[] = [...SECRET_RULES, ...PII_RULES, ...INJECTION_RULES];

/** Heuristics that run even when a policy does not mention them. */
const IMPLICIT_ACTIONS: Record<string, GuardrailAction> = { injection: 'monitor' };

const WORD = '[A-Za-z0-9_]';

export function denyListRules(config: GuardrailsConfig): DetectionRule[] {
  return Object.entries(config.denyLists).map(([id, list]) => {
    const terms = list.terms.map((t) => RE2JS.quote(t)).join('|');
    return {
      id,
      family: 'deny-list',
      entity: list.entity ?? id,
      description: `deny list ${id}`,
      specificity: 'provider',
      source: { kind: 'keywords', keywords: list.caseSensitive ? list.terms : list.terms.map((t) => t.toLowerCase()), caseSensitive: list.caseSensitive },
      pattern: `(?:^|[^A-Za-z0-9_])(${terms})(?:${WORD.replace('[', '[^')}|$)`,
      caseInsensitive: !list.caseSensitive,
      valueGroup: 1,
      maxMatchLength: Math.max(...list.terms.map((t) => t.length)) + 2,
    } satisfies DetectionRule;
  });
}

export function customPatternRules(config: GuardrailsConfig): DetectionRule[] {
  return Object.entries(config.customPatterns).map(([id, custom]) => ({
    id,
    family: 'custom',
    entity: custom.entity ?? id,
    description: `custom pattern ${id}`,
    specificity: 'provider',
    source: custom.keywords ? { kind: 'keywords', keywords: custom.keywords, caseSensitive: custom.caseSensitive } : { kind: 'anywhere' },
    pattern: custom.pattern,
    caseInsensitive: !custom.caseSensitive,
    valueGroup: custom.valueGroup,
    maxMatchLength: custom.maxMatchLength,
  }));
}

/** Most specific selector wins: rule id > entity > family > `*`. Undefined: the rule does not run. */
export function actionFor(rule: DetectionRule, policy: GuardrailPolicyConfig): GuardrailAction | undefined {
  const a = policy.actions;
  const chosen = a[rule.id] ?? a[rule.entity] ?? a[rule.family] ?? a['*'] ?? IMPLICIT_ACTIONS[rule.family];
  return chosen === 'off' ? undefined : chosen;
}

export interface ResolvedPolicy {
  name: string;
  rules: DetectionRule[];
  actions: Map<string, GuardrailAction>;
  maxPromptChars: number;
  config: GuardrailPolicyConfig;
}

export function resolvePolicy(name: string, config: GuardrailsConfig, allRules: readonly DetectionRule[]): ResolvedPolicy {
  const policy = config.policies[name]!;
  const actions = new Map<string, GuardrailAction>();
  const rules: DetectionRule[] = [];
  for (const rule of allRules) {
    const action = actionFor(rule, policy);
    if (!action) continue;
    actions.set(rule.id, action);
    rules.push(rule);
  }
  return { name, rules, actions, maxPromptChars: policy.maxPromptChars ?? config.maxPromptChars, config: policy };
}
