// The scanner re-scans the normalised view only around what normalisation changed, and opens
// prefix-token windows only over the token itself. Differential check: on random mixtures of
// secrets, escapes, full-width and zero-width characters, digit runs and filler, the result is
// exactly what a full scan of every view gives (the previous algorithm, kept here as reference).
import { compileRule, compileRuleSet, findMatches, ScanContext } from '../../../extproc/guardrails/matcher.ts';
import type { CompiledRuleSet } from '../../../extproc/guardrails/matcher.ts';
import { encodedRuns, normaliseWithMap } from '../../../extproc/guardrails/normalize.ts';
import { BUILTIN_RULES } from '../../../extproc/guardrails/policy.ts';
import { createTextScanner, resolveOverlaps } from '../../../extproc/guardrails/scanner.ts';
import type { Evasion, RawMatch } from '../../../extproc/guardrails/types.ts';
import { Gen, SECRET_GENERATORS, benignPrompt } from '../../fixtures/guardrails/corpus.ts';

const rules = [...BUILTIN_RULES];
const scanner = createTextScanner(rules);
const set = compileRuleSet(rules.map(compileRule));
const specificity = new Map(rules.map((r) => [r.id, r.specificity]));

type ToOriginal = (s: number, e: number) => [number, number];

/** Full scans of the text, its whole normalised view and the decoded runs (reference). */
function reference(text: string, rs: CompiledRuleSet, depth: number, toOriginal: ToOriginal, evasion: Evasion | undefined, out: RawMatch[]): void {
  for (const m of findMatches(new ScanContext(text), rs)) {
    const [start, end] = toOriginal(m.start, m.end);
    out.push({ ...m, start, end, ...(evasion ? { evasion } : {}) });
  }
  const n = normaliseWithMap(text);
  let source = text;
  let map = toOriginal;
  if (n) {
    const viewToOriginal: ToOriginal = (s, e) => toOriginal(n.startMap[s]!, n.endMap[e - 1]!);
    for (const m of findMatches(new ScanContext(n.text), rs)) {
      const [start, end] = viewToOriginal(m.start, m.end);
      out.push({ ...m, start, end, evasion: evasion ?? 'normalised' });
    }
    source = n.text;
    map = viewToOriginal;
  }
  if (depth >= 2) return;
  for (const run of encodedRuns(source)) {
    const [rs0, re0] = map(run.start, run.end);
    reference(run.decoded, rs, depth + 1, () => [rs0, re0], evasion ?? run.encoding, out);
  }
}

const fullWidth = (s: string) => [...s].map((c) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
const zeroWidth = (s: string) => [...s].join('\u200b');
const percent = (s: string) => [...s].map((c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join('');

function mixture(g: Gen): string {
  const ids = Object.keys(SECRET_GENERATORS);
  const parts: string[] = [];
  const count = 4 + g.int(10);
  for (let i = 0; i < count; i++) {
    const secret = SECRET_GENERATORS[g.pick(ids)]!(g).text;
    switch (g.int(9)) {
      case 0: parts.push(fullWidth(secret)); break;
      case 1: parts.push(zeroWidth(secret)); break;
      case 2: parts.push(percent(secret)); break;
      case 3: parts.push(secret); break;
      case 4: parts.push('4111 1111 1111 1111 ' + '1'.repeat(g.int(30))); break;
      case 5: parts.push('x'.repeat(g.int(9000))); break; // pushes changes past the margin
      case 6: parts.push('eyJ' + 'a'.repeat(g.int(40)) + '.'.repeat(g.int(3)) + 'eyJb'.repeat(g.int(5))); break;
      case 7: parts.push('\u00e9\uff21' + benignPrompt(g)); break;
      default: parts.push(benignPrompt(g));
    }
  }
  return parts.join(g.pick([' ', '\n', '', '.', '=']));
}

const key = (m: RawMatch) => `${m.ruleId}@${m.start}-${m.end}:${m.evasion ?? ''}`;

test('windowed scanning finds exactly what full scans of every view find (120 random mixtures)', () => {
  const g = new Gen(7);
  let found = 0;
  for (let i = 0; i < 120; i++) {
    const text = mixture(g);
    const ref: RawMatch[] = [];
    reference(text, set, 0, (s, e) => [s, e], undefined, ref);
    const expected = resolveOverlaps(ref, specificity).map(key).sort();
    const actual = scanner.scan(text).map(key).sort();
    expect({ i, found: actual }).toEqual({ i, found: expected });
    found += actual.length;
  }
  expect(found).toBeGreaterThan(120); // the mixtures really carry findings
});

test('a change far into a long text is still found, with its offsets in the original', () => {
  const key20 = 'AKIAZ7QH3KX2MB4PLW6T';
  const text = 'a'.repeat(50_000) + ' ' + fullWidth(key20) + ' ' + 'b'.repeat(50_000) + ' ' + zeroWidth(key20);
  const found = scanner.scan(text).filter((m) => m.ruleId === 'aws_access_key');
  expect(found.map((m) => [m.start, m.end, m.evasion])).toEqual([
    [50_001, 50_021, 'normalised'],
    [100_023, 100_023 + 39, 'normalised'],
  ]);
});

test('prefix-token windows: a JWT at the very end, after a dot, and inside a longer dotted run', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
  for (const text of [`token ${jwt}`, `end.${jwt}. next`, `${jwt}.more.dots.after`]) {
    const at = text.indexOf(jwt);
    expect(scanner.scan(text).filter((m) => m.ruleId === 'jwt').map((m) => [m.start, m.end])).toEqual([[at, at + jwt.length]]);
  }
});
