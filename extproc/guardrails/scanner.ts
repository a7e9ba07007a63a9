// Scans one text with a set of compiled rules, across the evasion views (normalised, base64, hex,
// nested up to two decoding levels), and returns matches in the original text's offsets.
import { compileRule, compileRuleSet, findMatches, maxMatchLength, ScanContext } from './matcher.ts';
import type { CompiledRule, CompiledRuleSet } from './matcher.ts';
import { encodedRuns, normaliseWithMap } from './normalize.ts';
import type { DetectionRule } from './rules/rule-types.ts';
import type { Evasion, RawMatch } from './types.ts';

const MAX_DECODE_DEPTH = 2;

export interface TextScanner {
  readonly rules: readonly CompiledRule[];
  /** Longest possible match: the stream scanner's hold-back. */
  readonly maxMatchLength: number;
  scan(text: string): RawMatch[];
}

type ToOriginal = (start: number, end: number) => [number, number];

export function createTextScanner(rules: DetectionRule[]): TextScanner {
  const compiled = rules.map(compileRule);
  const set = compileRuleSet(compiled);
  const specificity = new Map(rules.map((r) => [r.id, r.specificity]));
  return {
    rules: compiled,
    maxMatchLength: maxMatchLength(compiled),
    scan(text: string): RawMatch[] {
      if (compiled.length === 0 || text.length === 0) return [];
      const out: RawMatch[] = [];
      collect(text, set, 0, (s, e) => [s, e], undefined, out);
      return resolveOverlaps(out, specificity);
    },
  };
}

function collect(text: string, rules: CompiledRuleSet, depth: number, toOriginal: ToOriginal, evasion: Evasion | undefined, out: RawMatch[]): void {
  for (const m of findMatches(new ScanContext(text), rules)) {
    const [start, end] = toOriginal(m.start, m.end);
    out.push({ ...m, start, end, ...(evasion ? { evasion } : {}) });
  }
  const normalised = normaliseWithMap(text);
  let decodeSource = text;
  let decodeToOriginal = toOriginal;
  if (normalised) {
    const { startMap, endMap } = normalised;
    const viewToOriginal: ToOriginal = (s, e) => toOriginal(startMap[s]!, endMap[e - 1]!);
    for (const m of findMatches(new ScanContext(normalised.text), rules)) {
      const [start, end] = viewToOriginal(m.start, m.end);
      out.push({ ...m, start, end, evasion: evasion ?? 'normalised' });
    }
    decodeSource = normalised.text;
    decodeToOriginal = viewToOriginal;
  }
  if (depth >= MAX_DECODE_DEPTH) return;
  for (const run of encodedRuns(decodeSource)) {
    // Whatever is found inside an encoded run redacts the whole run in the original.
    const [runStart, runEnd] = decodeToOriginal(run.start, run.end);
    collect(run.decoded, rules, depth + 1, () => [runStart, runEnd], evasion ?? run.encoding, out);
  }
}

const RANK: Record<DetectionRule['specificity'], number> = { provider: 0, pii: 1, generic: 2, heuristic: 3 };

/**
 * One finding per place: exact duplicates (same rule and span, e.g. seen in two views) collapse,
 * and a generic guess overlapping a provider-specific finding is dropped.
 */
function resolveOverlaps(matches: RawMatch[], specificity: Map<string, DetectionRule['specificity']>): RawMatch[] {
  const seen = new Set<string>();
  const unique: RawMatch[] = [];
  for (const m of matches) {
    const key = `${m.ruleId}:${m.start}:${m.end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(m);
  }
  const specific = unique.filter((m) => specificity.get(m.ruleId) !== 'generic');
  const kept = unique.filter(
    (m) => specificity.get(m.ruleId) !== 'generic' || !specific.some((s) => s.family === m.family && s.start < m.end && m.start < s.end),
  );
  return kept.sort((a, b) => a.start - b.start || (RANK[specificity.get(a.ruleId) ?? 'heuristic'] - RANK[specificity.get(b.ruleId) ?? 'heuristic']));
}
