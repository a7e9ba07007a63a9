// Scans one text with a set of compiled rules, across the evasion views (normalised, base64, hex,
// nested up to two decoding levels), and returns matches in the original text's offsets.
import { compileRule, compileRuleSet, findMatches, maxMatchLength, ScanContext } from './matcher.ts';
import type { CompiledRule, CompiledRuleSet } from './matcher.ts';
import { encodedRuns, normaliseWithMap } from './normalize.ts';
import type { MappedView } from './normalize.ts';
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
    // Only the neighbourhoods of what normalisation changed can hold a match the plain pass
    // missed: elsewhere the view is the original text, already scanned.
    const view = normalised.text;
    for (const [ws, we] of changedWindows(text, normalised, rules.margin)) {
      const sub = ws === 0 && we === view.length ? view : view.slice(ws, we);
      for (const m of findMatches(new ScanContext(sub), rules)) {
        // A window edge can cut a token or a digit run and fake a boundary: such matches lie
        // a whole margin away from any change, so the plain pass has them if they are real.
        if ((ws > 0 && m.start <= 1) || (we < view.length && m.end >= sub.length - 1)) continue;
        const [start, end] = viewToOriginal(ws + m.start, ws + m.end);
        out.push({ ...m, start, end, evasion: evasion ?? 'normalised' });
      }
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

/**
 * View ranges around every character normalisation produced or dropped, widened by `margin` on
 * both sides and merged. A view character is unchanged when it is a one-to-one copy of the
 * original character right after its predecessor's.
 */
function changedWindows(original: string, view: MappedView, margin: number): [number, number][] {
  if (view.changes) return windowsAroundChanges(view.changes, view.text.length, margin);
  const { text, startMap, endMap } = view;
  const windows: [number, number][] = [];
  const n = text.length;
  let prevEnd = 0;
  for (let k = 0; k < n; k++) {
    const s = startMap[k]!;
    const e = endMap[k]!;
    const changed = s !== prevEnd || e - s !== 1 || text.charCodeAt(k) !== original.charCodeAt(s);
    prevEnd = e;
    if (!changed) continue;
    const from = Math.max(0, k - 1 - margin);
    const to = Math.min(n, k + 1 + margin);
    const last = windows[windows.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else windows.push([from, to]);
  }
  // Characters dropped at the very end (e.g. a trailing zero-width space).
  if (prevEnd !== original.length && n > 0) {
    const from = Math.max(0, n - 1 - margin);
    const last = windows[windows.length - 1];
    if (last && from <= last[1]) last[1] = n;
    else windows.push([from, n]);
  }
  return windows;
}

/**
 * The same windows as changedWindows' comparison of the maps, from the ranges the normaliser
 * reports it produced: no pass over the whole view. A changed range [a, b) is every character
 * in it; a drop (a === b) changes the character after it.
 */
function windowsAroundChanges(changes: number[], n: number, margin: number): [number, number][] {
  const windows: [number, number][] = [];
  const add = (from: number, to: number): void => {
    const last = windows[windows.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else windows.push([from, to]);
  };
  for (let j = 0; j < changes.length; j += 2) {
    const a = changes[j]!;
    const b = changes[j + 1]!;
    if (b > a) add(Math.max(0, a - 1 - margin), Math.min(n, b + margin));
    else if (a < n) add(Math.max(0, a - 1 - margin), Math.min(n, a + 1 + margin));
    else if (n > 0) add(Math.max(0, n - 1 - margin), n); // dropped at the very end
  }
  return windows;
}

const RANK: Record<DetectionRule['specificity'], number> = { provider: 0, pii: 1, generic: 2, heuristic: 3 };

/**
 * One finding per place: exact duplicates (same rule and span, e.g. seen in two views) collapse,
 * and a generic guess overlapping a provider-specific finding is dropped.
 */
export function resolveOverlaps(matches: RawMatch[], specificity: Map<string, DetectionRule['specificity']>): RawMatch[] {
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
