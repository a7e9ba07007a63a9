// Evaluates one rule's criteria against a request. Returns per-criterion reasons so the same code
// serves the hot path (stop at the first miss) and dry-run explanations (check everything).
import type { CompiledRule } from './compile.ts';
import { anyGlobMatch } from './glob.ts';
import type { RouteInput } from './route-input.ts';
import { checkTimeWindow } from './time-window.ts';

export type Criterion = 'alias' | 'model' | 'keyId' | 'team' | 'customer' | 'tags' | 'promptTokens' | 'time';

export interface CriterionCheck {
  criterion: Criterion;
  ok: boolean;
  detail: string;
}

export interface RuleCheck {
  matched: boolean;
  checks: CriterionCheck[];
}

function patternCheck(criterion: Criterion, patterns: readonly string[], value: string | undefined): CriterionCheck {
  const list = patterns.join(', ');
  if (value === undefined) return { criterion, ok: false, detail: `request has no ${criterion}; rule wants [${list}]` };
  const ok = anyGlobMatch(patterns, value);
  return { criterion, ok, detail: `"${value}" ${ok ? 'matches' : 'matches none of'} [${list}]` };
}

function tagsCheck(wanted: Record<string, string[]>, tags: Record<string, string>): CriterionCheck {
  for (const [name, patterns] of Object.entries(wanted)) {
    const value = Object.hasOwn(tags, name) ? tags[name] : undefined;
    if (value === undefined) return { criterion: 'tags', ok: false, detail: `tag "${name}" absent` };
    if (!anyGlobMatch(patterns, value)) {
      return { criterion: 'tags', ok: false, detail: `tag ${name}="${value}" matches none of [${patterns.join(', ')}]` };
    }
  }
  return { criterion: 'tags', ok: true, detail: `tags match ${JSON.stringify(wanted)}` };
}

function promptTokensCheck(range: { gt?: number; lt?: number }, tokens: number): CriterionCheck {
  const aboveMin = range.gt === undefined || tokens > range.gt;
  const belowMax = range.lt === undefined || tokens < range.lt;
  const bounds = [range.gt !== undefined ? `> ${range.gt}` : '', range.lt !== undefined ? `< ${range.lt}` : '']
    .filter(Boolean)
    .join(' and ');
  const ok = aboveMin && belowMax;
  return { criterion: 'promptTokens', ok, detail: `${tokens} prompt tokens ${ok ? 'is' : 'is not'} ${bounds}` };
}

/**
 * Checks the rule against the request at time `nowMs`. With `exhaustive` false the evaluation
 * stops at the first failing criterion (hot path); with true every criterion is reported.
 */
export function checkRule(rule: CompiledRule, input: RouteInput, nowMs: number, exhaustive: boolean): RuleCheck {
  const checks: CriterionCheck[] = [];
  const evaluations: Array<() => CriterionCheck> = [];
  const { match } = rule;

  if (rule.alias !== undefined) {
    const alias = rule.alias;
    evaluations.push(() => {
      const ok = input.model === alias;
      return { criterion: 'alias', ok, detail: `"${input.model}" ${ok ? 'is' : 'is not'} the alias "${alias}"` };
    });
  }
  if (match.model) {
    const patterns = match.model;
    evaluations.push(() => patternCheck('model', patterns, input.model));
  }
  if (match.keyId) {
    const patterns = match.keyId;
    evaluations.push(() => patternCheck('keyId', patterns, input.keyId));
  }
  if (match.team) {
    const patterns = match.team;
    evaluations.push(() => patternCheck('team', patterns, input.team));
  }
  if (match.customer) {
    const patterns = match.customer;
    evaluations.push(() => patternCheck('customer', patterns, input.customer));
  }
  if (match.tags) {
    const wanted = match.tags;
    evaluations.push(() => tagsCheck(wanted, input.tags));
  }
  if (match.promptTokens) {
    const range = match.promptTokens;
    evaluations.push(() => promptTokensCheck(range, input.promptTokens));
  }
  if (match.time) {
    const windows = match.time;
    evaluations.push(() => {
      const results = windows.map((window) => checkTimeWindow(window, nowMs));
      const ok = results.some((result) => result.inside);
      return { criterion: 'time', ok, detail: results.map((result) => result.detail).join('; ') };
    });
  }

  let matched = true;
  for (const evaluate of evaluations) {
    const check = evaluate();
    checks.push(check);
    if (!check.ok) {
      matched = false;
      if (!exhaustive) break;
    }
  }
  return { matched, checks };
}
