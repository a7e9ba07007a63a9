// Compiles detection rules and finds their matches in one string. Cheap literal / structural
// scans pick candidate regions; RE2 (linear time) confirms; validators check checksums.
// re2js runs every rule. Its test() (no captures) runs on a lazy DFA with literal prefilters,
// tens of times cheaper per character than a capturing find(), so every window is tested
// first and only windows that match pay for find() and its capture offsets. (It also beats
// RE2 compiled to WebAssembly, which this module used to call: that paid a string copy into
// linear memory per call and was slower per character than re2js's DFA, measured.)
import { MatcherInput, RE2JS } from 're2js';
import type { DetectionRule } from './rules/rule-types.ts';
import type { RawMatch } from './types.ts';
import { runValidator } from './validators.ts';
import { IBAN_LENGTHS } from './rules/pii-rules.ts';

/** re2js's anchor flag for a search that may start anywhere (RE2Flags.UNANCHORED). */
const UNANCHORED = 0;

export interface CompiledRule {
  rule: DetectionRule;
  /** Match offsets and capture groups (find), or a cheap yes/no (test). */
  regex: RE2JS;
}

export function compileRule(rule: DetectionRule): CompiledRule {
  const flags = rule.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0;
  return { rule, regex: RE2JS.compile(rule.pattern, flags) };
}

/** Whether the rule's pattern matches anywhere in subject. */
function patternMatches(compiled: CompiledRule, subject: string): boolean {
  return compiled.regex.test(subject);
}

/** Longest match any of these rules can produce: what a stream must hold back. */
export function maxMatchLength(rules: CompiledRule[]): number {
  return rules.reduce((max, r) => Math.max(max, r.rule.maxMatchLength), 0);
}

/** Lower-cases ASCII letters only, so offsets stay identical to the original text. */
function asciiLower(text: string): string {
  const lowered = text.toLowerCase();
  if (lowered.length === text.length) return lowered;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : text[i];
  }
  return out;
}

/** Per-scan shared work (lower-cased text, digit runs), computed at most once per text. */
export class ScanContext {
  readonly text: string;
  private lowered: string | undefined;
  private runs: DigitRuns | undefined;
  private pairs: Int32Array | undefined;
  constructor(text: string) {
    this.text = text;
  }
  lower(): string {
    this.lowered ??= asciiLower(this.text);
    return this.lowered;
  }
  upperPairs(): Int32Array {
    this.pairs ??= upperPairStarts(this.text);
    return this.pairs;
  }
  digitRuns(): DigitRuns {
    this.runs ??= findDigitRuns(this.text);
    return this.runs;
  }
}

/** A rule set compiled once: the rules plus the keyword indexes that route text to them. */
export interface CompiledRuleSet {
  rules: CompiledRule[];
  caseSensitive: KeywordIndex;
  caseInsensitive: KeywordIndex;
  /** No single-character or non-ASCII case-insensitive keyword: one pass finds both kinds. */
  caseInsensitiveAscii: boolean;
  /**
   * How far a match (with its keyword, context and boundary characters) can reach from any one
   * of its characters: the width around a change that a partial re-scan must cover.
   */
  margin: number;
}

export function compileRuleSet(rules: CompiledRule[]): CompiledRuleSet {
  const caseSensitive = new KeywordIndex();
  const caseInsensitive = new KeywordIndex();
  rules.forEach((compiled, index) => {
    const source = compiled.rule.source;
    if (source.kind !== 'keywords') return;
    for (const kw of source.keywords) {
      if (source.caseSensitive) caseSensitive.add(kw, index);
      else caseInsensitive.add(asciiLower(kw), index);
    }
  });
  const longestKeyword = rules.reduce((max, r) => (r.rule.source.kind === 'keywords' ? Math.max(max, ...r.rule.source.keywords.map((k) => k.length)) : max), 0);
  const caseInsensitiveAscii = caseInsensitive.ascii && !rules.some((r) => r.rule.source.kind === 'keywords' && !r.rule.source.caseSensitive && r.rule.source.keywords.some((k) => k.length < 2));
  return { rules, caseSensitive, caseInsensitive, caseInsensitiveAscii, margin: maxMatchLength(rules) + longestKeyword + 4 };
}

export function findMatches(ctx: ScanContext, set: CompiledRuleSet): RawMatch[] {
  const out: RawMatch[] = [];
  const hits: Hits = new Map();
  if (set.caseInsensitiveAscii) KeywordIndex.findBoth(ctx.text, set.caseSensitive, set.caseInsensitive, hits);
  else {
    if (!set.caseSensitive.empty) set.caseSensitive.find(ctx.text, hits);
    if (!set.caseInsensitive.empty) set.caseInsensitive.find(ctx.lower(), hits);
  }
  set.rules.forEach((compiled, index) => {
    const source = compiled.rule.source;
    if (source.kind === 'keywords') matchKeywordRule(ctx, compiled, hits.get(index) ?? [], out);
    else if (source.kind === 'digit-groups') matchDigitGroupRule(ctx, compiled, out);
    else if (source.kind === 'anywhere') matchInWindow(ctx.text, 0, ctx.text.length, compiled, out);
    else matchScannerRule(ctx, compiled, out);
  });
  return out;
}

function pushIfValid(compiled: CompiledRule, value: string, start: number, end: number, out: RawMatch[]): void {
  const { rule } = compiled;
  if (rule.valueLength && (value.length < rule.valueLength[0] || value.length > rule.valueLength[1])) return;
  if (rule.validator) {
    const subject = rule.matchDigitsOnly ? digitsOf(value) : value;
    if (!runValidator(rule.validator, subject, rule.minEntropy)) return;
  }
  out.push({ ruleId: rule.id, family: rule.family, entity: rule.entity, start, end });
}

// ---- keyword rules ------------------------------------------------------------------------

type Hits = Map<number, number[]>;

/** Keywords are bucketed by the low 7 bits of their first two characters (ASCII: exact). */
const PAIR_KEYS = 1 << 14;
function pairKey(c0: number, c1: number): number {
  return ((c0 & 0x7f) << 7) | (c1 & 0x7f);
}

function record(hits: Hits, rules: number[], at: number): void {
  for (const r of rules) {
    let list = hits.get(r);
    if (!list) hits.set(r, (list = []));
    if (list[list.length - 1] !== at) list.push(at);
  }
}

/**
 * Whether keyword occurs in text at i, given that its first two characters do. A loop over the
 * rest: String.prototype.startsWith cost ~50 ns a call (its argument checks), most of a keyword
 * flood's scan.
 */
function tailMatches(text: string, keyword: string, i: number): boolean {
  const length = keyword.length;
  if (i + length > text.length) return false;
  for (let j = 2; j < length; j++) if (text.charCodeAt(i + j) !== keyword.charCodeAt(j)) return false;
  return true;
}

const pairFilters = new WeakMap<KeywordIndex, WeakMap<KeywordIndex, { aliased: Uint8Array; exact: Uint8Array; strided: Uint8Array }>>();

/** The keywords of one case mode, bucketed by their first two characters. */
export class KeywordIndex {
  private readonly entries: { keyword: string; rules: number[] }[] = [];
  private readonly singles: { keyword: string; rules: number[] }[] = [];
  /**
   * Chains of entries per pairKey of their first two characters: head[key] is the first entry
   * index + 1 (0: none), next[entry] the following one. Built on first use.
   */
  private head: Int32Array | undefined;
  private next: Int32Array | undefined;
  add(keyword: string, ruleIndex: number): void {
    const list = keyword.length === 1 ? this.singles : this.entries;
    const entry = list.find((e) => e.keyword === keyword);
    if (entry) entry.rules.push(ruleIndex);
    else list.push({ keyword, rules: [ruleIndex] });
    this.head = undefined;
    pairFilters.delete(this);
  }
  get empty(): boolean {
    return this.entries.length === 0 && this.singles.length === 0;
  }
  /** Whether every keyword is ASCII (then lower-casing can be done per character, see below). */
  get ascii(): boolean {
    return [...this.entries, ...this.singles].every((e) => [...e.keyword].every((ch) => ch.charCodeAt(0) < 128));
  }
  private build(): { head: Int32Array; next: Int32Array } {
    if (!this.head || !this.next) {
      const head = new Int32Array(PAIR_KEYS);
      const next = new Int32Array(this.entries.length);
      // Insert back to front so a chain lists entries in insertion order.
      for (let k = this.entries.length - 1; k >= 0; k--) {
        const kw = this.entries[k]!.keyword;
        const slot = pairKey(kw.charCodeAt(0), kw.charCodeAt(1));
        next[k] = head[slot]!;
        head[slot] = k + 1;
      }
      this.head = head;
      this.next = next;
    }
    return { head: this.head, next: this.next };
  }
  /** Single-character keywords, by indexOf over the haystack. */
  findSingles(haystack: string, hits: Hits): void {
    for (const { keyword, rules } of this.singles) {
      for (let at = haystack.indexOf(keyword); at !== -1; at = haystack.indexOf(keyword, at + 1)) record(hits, rules, at);
    }
  }
  /** hits[ruleIndex] = offsets where one of that rule's keywords starts (sorted by the caller). */
  find(haystack: string, hits: Hits): void {
    this.findSingles(haystack, hits);
    if (this.entries.length === 0) return;
    const { head, next } = this.build();
    const { entries } = this;
    const last = haystack.length - 1;
    let c1 = haystack.charCodeAt(0);
    for (let i = 0; i < last; i++) {
      const c0 = c1;
      c1 = haystack.charCodeAt(i + 1);
      for (let k = head[pairKey(c0, c1)]!; k !== 0; k = next[k - 1]!) {
        const { keyword, rules } = entries[k - 1]!;
        if (keyword.charCodeAt(0) === c0 && keyword.charCodeAt(1) === c1 && (keyword.length === 2 || tailMatches(haystack, keyword, i))) record(hits, rules, i);
      }
    }
  }
  /**
   * Case-sensitive keywords (this) in text and ASCII case-insensitive ones (ci, lower-case
   * ASCII keywords) in what ScanContext.lower() would give, in one pass and without building
   * that lower-cased copy. Hits per rule are the same as find(text) plus ci.find(lower()).
   */
  static findBoth(text: string, cs: KeywordIndex, ci: KeywordIndex, hits: Hits): void {
    cs.findSingles(text, hits);
    const csTables = cs.build();
    const ciTables = ci.build();
    const csHead = csTables.head;
    const csNext = csTables.next;
    const ciHead = ciTables.head;
    const ciNext = ciTables.next;
    let filters = pairFilters.get(cs)?.get(ci);
    if (!filters) {
      // Bit 1: some case-sensitive keyword starts with this pair; bit 2: some insensitive one.
      // `aliased` is indexed by pairKey (raw pair for bit 1, lower-cased for bit 2); `exact` by
      // an ASCII pair itself, both bits at once: one read per position in ASCII text.
      const aliased = new Uint8Array(PAIR_KEYS);
      for (let k = 0; k < PAIR_KEYS; k++) aliased[k] = (csHead[k] !== 0 ? 1 : 0) | (ciHead[k] !== 0 ? 2 : 0);
      const exact = new Uint8Array(PAIR_KEYS);
      const lo = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);
      for (let c0 = 0; c0 < 128; c0++) for (let c1 = 0; c1 < 128; c1++) exact[(c0 << 7) | c1] = (aliased[pairKey(c0, c1)]! & 1) | (aliased[pairKey(lo(c0), lo(c1))]! & 2);
      // `strided`: bits 4 / 8 where a case-sensitive / insensitive keyword has the pair at its
      // offset 1 (a two-character keyword: its second character, then anything).
      const strided = exact.slice();
      const mark = (kw: string, caseSensitive: boolean): void => {
        const c1 = kw.charCodeAt(1);
        const c2 = kw.length > 2 ? kw.charCodeAt(2) : -1;
        if (c1 >= 128 || c2 >= 128) return; // only non-ASCII text can match there: the slow path
        for (let x = 0; x < 128; x++) for (let y = 0; y < 128; y++) {
          const ok = caseSensitive ? x === c1 && (c2 < 0 || y === c2) : lo(x) === c1 && (c2 < 0 || lo(y) === c2);
          if (ok) strided[(x << 7) | y]! |= caseSensitive ? 4 : 8;
        }
      };
      for (const e of cs.entries) mark(e.keyword, true);
      for (const e of ci.entries) mark(e.keyword, false);
      filters = { aliased, exact, strided };
      let byCi = pairFilters.get(cs);
      if (!byCi) pairFilters.set(cs, (byCi = new WeakMap()));
      byCi.set(ci, filters);
    }
    const { aliased, exact, strided } = filters;
    const scan: BothScan = { text, cs, ci, csHead, csNext, ciHead, ciNext, aliased, exact, hits, kelvin: -1 };
    const n = text.length;
    // Every keyword start i has exactly one odd offset k in {i, i + 1}: reading the pair at odd
    // offsets only, one table read settles two positions (bits 1|2: a keyword may start at k;
    // 4|8: at k - 1). Non-ASCII pairs take the per-position path. (check / verify are module
    // functions, not closures made per call: a fresh closure per scan cost deopts for a wrong
    // call target and kept the loop several times slower.)
    for (let k = 1; k + 1 < n; k += 2) {
      const a = text.charCodeAt(k);
      const b = text.charCodeAt(k + 1);
      if ((a | b) >= 128) {
        checkBoth(scan, k - 1);
        checkBoth(scan, k);
        continue;
      }
      const f = strided[(a << 7) | b]!;
      if (f === 0) continue;
      if (f & 12) checkBoth(scan, k - 1);
      if (f & 3) verifyBoth(scan, k, a, b, f & 3);
    }
    if (n >= 2 && n % 2 === 0) checkBoth(scan, n - 2); // its odd offset n - 1 has no pair
  }
  /** The entries of one index (for the module-level helpers of findBoth). */
  static entriesOf(index: KeywordIndex): { keyword: string; rules: number[] }[] {
    return index.entries;
  }
}

/** State of one KeywordIndex.findBoth pass. */
interface BothScan {
  text: string;
  cs: KeywordIndex;
  ci: KeywordIndex;
  csHead: Int32Array;
  csNext: Int32Array;
  ciHead: Int32Array;
  ciNext: Int32Array;
  aliased: Uint8Array;
  exact: Uint8Array;
  hits: Hits;
  /**
   * What the Kelvin sign lower-cases to: toLowerCase() maps it to an ASCII k, and lower() uses
   * that only when lower-casing keeps the length (see asciiLower). -1: not decided yet (decided
   * once, on the first Kelvin sign).
   */
  kelvin: number;
}

function lowBoth(scan: BothScan, c: number): number {
  if (c >= 65 && c <= 90) return c + 32;
  if (c !== 0x212a) return c;
  if (scan.kelvin < 0) scan.kelvin = scan.text.toLowerCase().length === scan.text.length ? 107 : c;
  return scan.kelvin;
}

/** Position i on its own: the pair filter, then the keywords of the pair. */
function checkBoth(scan: BothScan, i: number): void {
  const { text } = scan;
  const c0 = text.charCodeAt(i);
  const c1 = text.charCodeAt(i + 1);
  const flags = (c0 | c1) < 128 ? scan.exact[(c0 << 7) | c1]! : (scan.aliased[pairKey(c0, c1)]! & 1) | (scan.aliased[pairKey(lowBoth(scan, c0), lowBoth(scan, c1))]! & 2);
  if (flags !== 0) verifyBoth(scan, i, c0, c1, flags);
}

function verifyBoth(scan: BothScan, i: number, c0: number, c1: number, flags: number): void {
  const { text, hits } = scan;
  if (flags & 1) {
    const entries = KeywordIndex.entriesOf(scan.cs);
    for (let k = scan.csHead[pairKey(c0, c1)]!; k !== 0; k = scan.csNext[k - 1]!) {
      const { keyword, rules } = entries[k - 1]!;
      if (keyword.charCodeAt(0) === c0 && keyword.charCodeAt(1) === c1 && (keyword.length === 2 || tailMatches(text, keyword, i))) record(hits, rules, i);
    }
  }
  if (flags & 2) {
    const l0 = lowBoth(scan, c0);
    const l1 = lowBoth(scan, c1);
    const entries = KeywordIndex.entriesOf(scan.ci);
    for (let k = scan.ciHead[pairKey(l0, l1)]!; k !== 0; k = scan.ciNext[k - 1]!) {
      const { keyword, rules } = entries[k - 1]!;
      if (keyword.charCodeAt(0) !== l0 || keyword.charCodeAt(1) !== l1 || i + keyword.length > text.length) continue;
      let j = 2;
      while (j < keyword.length && lowBoth(scan, text.charCodeAt(i + j)) === keyword.charCodeAt(j)) j++;
      if (j === keyword.length) record(hits, rules, i);
    }
  }
}

/** Windows [start, end, last hit inside] around keyword hits. */
function keywordWindows(hits: number[], reachBefore: number, reach: number, length: number): [number, number, number][] {
  // One char beyond the reach on each side so ^/$ in a pattern cannot fire at a window edge.
  const windows: [number, number, number][] = [];
  for (const hit of hits) {
    const start = Math.max(0, hit - reachBefore - 1);
    const end = Math.min(length, hit + reach + 1);
    const last = windows[windows.length - 1];
    if (last && start <= last[1]) {
      last[1] = Math.max(last[1], end);
      last[2] = hit;
    } else windows.push([start, end, hit]);
  }
  return windows;
}

function isTokenChar(c: number, dots: boolean): boolean {
  return isAlnum(c) || c === 45 || (dots && c === 46);
}

/** Hits that start a plausible token (see DetectionRule.prefixToken); linear in the text. */
function plausibleTokenStarts(text: string, hits: number[], spec: NonNullable<DetectionRule['prefixToken']>): number[] {
  const dots = spec.dots ?? false;
  const kept: number[] = [];
  for (const hit of hits) {
    if (hit > 0 && isTokenChar(text.charCodeAt(hit - 1), false)) continue; // not a token start
    const limit = Math.min(text.length, hit + (spec.max ?? spec.min) + 1);
    let end = hit;
    while (end < limit && isTokenChar(text.charCodeAt(end), dots)) end++;
    const length = end - hit;
    if (length < spec.min || (spec.max !== undefined && length > spec.max)) continue;
    kept.push(hit);
  }
  return kept;
}

/**
 * Windows for prefix-token rules: the value starts at the keyword and is one run of token
 * characters, so the window is that run (at most maxMatchLength) plus one boundary character on
 * each side, instead of the keyword's reach both ways. (A JWT hit used to open 6 KB of window.)
 */
function tokenWindows(text: string, hits: number[], spec: NonNullable<DetectionRule['prefixToken']>, maxMatchLength: number): [number, number][] {
  const dots = spec.dots ?? false;
  const windows: [number, number][] = [];
  for (const hit of hits) {
    const limit = Math.min(text.length, hit + maxMatchLength);
    let end = hit;
    while (end < limit && isTokenChar(text.charCodeAt(end), dots)) end++;
    const start = Math.max(0, hit - 1);
    const stop = Math.min(text.length, end + 1);
    const last = windows[windows.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], stop);
    else windows.push([start, stop]);
  }
  return windows;
}

/** The generic rule's key characters ([A-Za-z0-9_-]), plus the Kelvin sign its (?i) folds to k. */
function isKeyChar(c: number): boolean {
  return isAlnum(c) || c === 45 || c === 0x212a;
}

function isQuote(c: number): boolean {
  return c === 34 || c === 39;
}

/** RE2's \s: tab, newline, form feed, carriage return, space. */
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

function isValueChar(c: number): boolean {
  // The generic rule's value class: not \s, quotes, backtick, separators, brackets, = or :.
  return !isSpace(c) && c !== 34 && c !== 39 && c !== 96 && c !== 44 && c !== 59 && c !== 40 && c !== 41 && c !== 123 && c !== 125 && c !== 91 && c !== 93 && c !== 60 && c !== 62 && c !== 61 && c !== 58;
}

/** Whitespace an assignment may have after its operator (the pattern's \s* is unbounded). */
const MAX_SPACE_AFTER_OPERATOR = 16;

/**
 * Assignment rules (DetectionRule.assignment): the shape key ["']? \s* (:=|=>|:|=) \s* ["']? value
 * is walked by hand from the last keyword hit of each run of key characters, and the regex only
 * confirms the few places whose value length is in bounds, on that key-to-value slice. Searching
 * keyword windows with the regex instead cost most of a benign scan: code like `token = await`
 * matches the pattern (the length bound is outside it), so every such window paid a capturing
 * search. Every hit in one key run leads to the same operator and value, and each character is
 * walked at most once per run, so floods stay linear.
 */
function matchAssignments(text: string, hits: number[], compiled: CompiledRule, spec: NonNullable<DetectionRule['assignment']>, out: RawMatch[]): void {
  const [minValue, maxValue] = compiled.rule.valueLength ?? [1, compiled.rule.maxMatchLength];
  const n = text.length;
  let runEnd = -1;
  for (let h = 0; h < hits.length; h++) {
    const hit = hits[h]!;
    if (hit >= runEnd) {
      runEnd = hit;
      while (runEnd < n && isKeyChar(text.charCodeAt(runEnd))) runEnd++;
    }
    // Only the run's last hit: it is nearest to the operator and a match starts there if any does.
    if (h + 1 < hits.length && hits[h + 1]! < runEnd) continue;
    let j = runEnd;
    if (j < n && isQuote(text.charCodeAt(j))) j++;
    while (j < n && j - hit < spec.reach && isSpace(text.charCodeAt(j))) j++;
    if (j - hit >= spec.reach || j >= n) continue;
    const c = text.charCodeAt(j);
    const c1 = j + 1 < n ? text.charCodeAt(j + 1) : -1;
    if ((c === 58 && c1 === 61) || (c === 61 && c1 === 62)) j += 2; // := =>
    else if (c === 58 || c === 61) j++;
    else continue;
    const spaceEnd = Math.min(n, j + MAX_SPACE_AFTER_OPERATOR);
    while (j < spaceEnd && isSpace(text.charCodeAt(j))) j++;
    if (j < n && isQuote(text.charCodeAt(j))) j++;
    const valueStart = j;
    const valueLimit = Math.min(n, valueStart + maxValue + 1);
    while (j < valueLimit && isValueChar(text.charCodeAt(j))) j++;
    const length = j - valueStart;
    if (length < minValue || length > maxValue) continue;
    // The pattern has the last word (captures, folding); the slice ends where the value does.
    const slice = text.slice(hit, j);
    const m = compiled.regex.matcher(slice);
    if (!m.find(0)) continue;
    const group = compiled.rule.valueGroup ?? 0;
    const s = m.start(group);
    const e = m.end(group);
    if (s >= 0 && e > s) pushIfValid(compiled, slice.slice(s, e), hit + s, hit + e, out);
  }
}

function matchKeywordRule(ctx: ScanContext, compiled: CompiledRule, allHits: number[], out: RawMatch[]): void {
  const source = compiled.rule.source;
  if (source.kind !== 'keywords' || allHits.length === 0) return;
  if (allHits.length > 1) allHits.sort((a, b) => a - b);
  if (compiled.rule.assignment) {
    matchAssignments(ctx.text, allHits, compiled, compiled.rule.assignment, out);
    return;
  }
  let hits = allHits;
  if (compiled.rule.prefixToken) hits = plausibleTokenStarts(ctx.text, hits, compiled.rule.prefixToken);
  if (hits.length === 0) return;
  const reach = compiled.rule.maxMatchLength + Math.max(...source.keywords.map((k) => k.length));
  if (compiled.rule.prefixToken) {
    for (const [ws, we] of tokenWindows(ctx.text, hits, compiled.rule.prefixToken, compiled.rule.maxMatchLength)) matchInWindow(ctx.text, ws, we, compiled, out);
    return;
  }
  const startsAtHit = compiled.rule.keywordStartsMatch ?? false;
  for (const [ws, we, lastHit] of keywordWindows(hits, startsAtHit ? 0 : reach, reach, ctx.text.length)) {
    matchInWindow(ctx.text, ws, we, compiled, out, startsAtHit ? lastHit : Infinity);
  }
}

/** `lastStart`: no match starts after this offset (keywordStartsMatch: the window's last hit). */
function matchInWindow(text: string, ws: number, we: number, compiled: CompiledRule, out: RawMatch[], lastStart = Infinity): void {
  const group = compiled.rule.valueGroup ?? 0;
  const slice = ws === 0 && we === text.length ? text : text.slice(ws, we);
  // Whether a match starts at or after pos, by the DFA (no captures; the text before pos is
  // still context for ^ and \b): most windows hold a keyword but no secret, and after the last
  // match a capturing find() would scan the rest of the window for nothing.
  const input = MatcherInput.utf16(slice);
  const re2 = compiled.regex.re2Input;
  const matchFrom = (pos: number): boolean => (re2.matchMachineInput(input, pos, slice.length, UNANCHORED, 0) as [boolean, unknown])[0];
  if (!matchFrom(0)) return;
  const m = compiled.regex.matcher(slice);
  let from = 0;
  // (Past lastStart the search for a further match would read the rest of the window for nothing.)
  while (from <= slice.length && ws + from <= lastStart && (from === 0 || matchFrom(from)) && m.find(from)) {
    const s = m.start(group);
    const e = m.end(group);
    // A value running into a cut window edge cannot be confirmed (only unbounded patterns).
    const cutAtEdge = e === slice.length && ws + e < text.length;
    if (s >= 0 && e > s && !cutAtEdge) pushIfValid(compiled, slice.slice(s, e), ws + s, ws + e, out);
    // Restart right after the value (not the match): token patterns consume one boundary
    // character, which may be the left boundary of the next token.
    from = e > s ? e : Math.max(m.end(), from + 1);
  }
}

// ---- digit-group rules ----------------------------------------------------------------------

/**
 * Maximal digit runs of a text, as parallel arrays, plus the gap after each run encoded as one
 * number (see gapKey) so rules compare separators without slicing strings.
 */
interface DigitRuns {
  count: number;
  starts: Int32Array;
  ends: Int32Array;
  /** gapKey of text[ends[i], starts[i + 1]), or -1 when that gap is longer than two characters. */
  gaps: Float64Array;
}

/** One number per separator of one or two characters (distinct for "x" and "x\0"). */
function gapKey(c0: number, c1: number | undefined): number {
  return c1 === undefined ? c0 : c0 + 65536 * (c1 + 1);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function findDigitRuns(text: string): DigitRuns {
  let starts = new Int32Array(64);
  let ends = new Int32Array(64);
  let count = 0;
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c > 57 || c < 48) {
      i++;
      continue;
    }
    const start = i;
    i++;
    while (i < length && isDigit(text.charCodeAt(i))) i++;
    if (count === starts.length) {
      const grownStarts = new Int32Array(count * 2);
      const grownEnds = new Int32Array(count * 2);
      grownStarts.set(starts);
      grownEnds.set(ends);
      starts = grownStarts;
      ends = grownEnds;
    }
    starts[count] = start;
    ends[count++] = i;
  }
  const gaps = new Float64Array(count); // keys of two-character gaps exceed 32 bits
  for (let k = 0; k + 1 < count; k++) {
    const from = ends[k]!;
    const width = starts[k + 1]! - from;
    gaps[k] = width === 1 ? gapKey(text.charCodeAt(from), undefined) : width === 2 ? gapKey(text.charCodeAt(from), text.charCodeAt(from + 1)) : -1;
  }
  if (count > 0) gaps[count - 1] = -1;
  return { count, starts, ends, gaps };
}

function digitsOf(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) if (isDigit(value.charCodeAt(i))) out += value[i];
  return out;
}

/** A digit-group source compiled for the run walk: group bounds as numbers, separators as keys. */
interface DigitGroupPlan {
  /** Per layout, per group: [min, max] digit count. */
  layouts: { min: Int32Array; max: Int32Array }[];
  sepKeys: number[];
  /** Single-character separators (for the boundary checks). */
  sepChars: number[];
  /**
   * Bounds on the first group's length over the one-group layouts and over the others (min >
   * max: no such layout). A run that fits no one-group layout needs a separator after it.
   */
  singleMin: number;
  singleMax: number;
  multiMin: number;
  multiMax: number;
}

function planDigitGroups(source: Extract<DetectionRule['source'], { kind: 'digit-groups' }>): DigitGroupPlan {
  const layouts = source.layouts.map((layout) => ({
    min: Int32Array.from(layout, (g) => (typeof g === 'number' ? g : g[0])),
    max: Int32Array.from(layout, (g) => (typeof g === 'number' ? g : g[1])),
  }));
  const sepKeys = source.separators.filter((s) => s.length >= 1 && s.length <= 2).map((s) => gapKey(s.charCodeAt(0), s.length === 2 ? s.charCodeAt(1) : undefined));
  const sepChars = source.separators.filter((s) => s.length === 1).map((s) => s.charCodeAt(0));
  const single = layouts.filter((l) => l.min.length === 1);
  const multi = layouts.filter((l) => l.min.length > 1);
  return {
    layouts,
    sepKeys,
    sepChars,
    singleMin: Math.min(...single.map((l) => l.min[0]!)),
    singleMax: Math.max(...single.map((l) => l.max[0]!)),
    multiMin: Math.min(...multi.map((l) => l.min[0]!)),
    multiMax: Math.max(...multi.map((l) => l.max[0]!)),
  };
}

const plans = new WeakMap<object, DigitGroupPlan>();

function matchDigitGroupRule(ctx: ScanContext, compiled: CompiledRule, out: RawMatch[]): void {
  const source = compiled.rule.source;
  if (source.kind !== 'digit-groups') return;
  let plan = plans.get(source);
  if (!plan) plans.set(source, (plan = planDigitGroups(source)));
  const { text } = ctx;
  const { count, starts, ends, gaps } = ctx.digitRuns();
  const { layouts, sepKeys, sepChars, singleMin, singleMax, multiMin, multiMax } = plan;
  const mixed = source.mixedSeparators ?? false;
  const parenFirst = source.parenthesisedFirstGroup ?? false;
  for (let i = 0; i < count; i++) {
    const firstStart = starts[i]!;
    const firstLength = ends[i]! - firstStart;
    // What every layout would reject first: a first group of no one-group layout's length, and
    // of no other layout's length or without a separator after it (floods of digits and '%25').
    if (firstLength < singleMin || firstLength > singleMax) {
      if (firstLength < multiMin || firstLength > multiMax || gaps[i]! < 0 || !sepKeys.includes(gaps[i]!)) continue;
    }
    const before = firstStart > 0 ? text.charCodeAt(firstStart - 1) : -1;
    // Digits glued to letters (hex hashes, identifiers like v2, x86) never start a match.
    if (before >= 0 && isAlnum(before)) continue;
    // Unless a '(' or '+' moves the start left, the match starts here: a number continuing on
    // the left rules out every layout at once (floods of digit groups stay linear and cheap).
    if (before !== 40 && before !== 43 && !digitBoundaryBefore(text, firstStart, sepChars)) continue;
    for (const layout of layouts) {
      const groups = layout.min.length;
      if (firstLength < layout.min[0]! || firstLength > layout.max[0]!) continue;
      if (i + groups > count) continue;
      let ok = true;
      let sepUsed = -1;
      let total = firstLength;
      for (let g = 1; g < groups; g++) {
        const gap = gaps[i + g - 1]!;
        if (gap < 0 || !sepKeys.includes(gap) || (!mixed && sepUsed !== -1 && gap !== sepUsed) || ((gap & 0xffff) === 41 && !(g === 1 && parenFirst))) {
          ok = false;
          break;
        }
        if (sepUsed === -1) sepUsed = gap;
        const groupLength = ends[i + g]! - starts[i + g]!;
        if (groupLength < layout.min[g]! || groupLength > layout.max[g]!) {
          ok = false;
          break;
        }
        total += groupLength;
      }
      if (!ok) continue;
      if (source.totalDigits && (total < source.totalDigits[0] || total > source.totalDigits[1])) continue;
      let start = firstStart;
      const end = ends[i + groups - 1]!;
      const closesParen = groups > 1 && text.charCodeAt(ends[i]!) === 41;
      if (closesParen) {
        if (before !== 40) continue;
        start--;
      } else if (before === 40 && parenFirst) continue;
      const hasPlus = start > 0 && text.charCodeAt(start - 1) === 43;
      if (source.plus === 'required' && !hasPlus) continue;
      if (source.plus === 'forbidden' && hasPlus) continue;
      if (hasPlus) start--;
      if (!digitBoundaryBefore(text, start, sepChars) || !digitBoundaryAfter(text, end, sepChars)) continue;
      const value = text.slice(start, end);
      const subject = compiled.rule.matchDigitsOnly ? digitsOf(value) : value;
      if (!patternMatches(compiled, subject)) continue;
      pushIfValid(compiled, value, start, end, out);
    }
  }
}

/** The match must not continue a longer number or word on the left. */
function digitBoundaryBefore(text: string, start: number, sepChars: number[]): boolean {
  if (start === 0) return true;
  const c = text.charCodeAt(start - 1);
  if (isAlnum(c)) return false;
  if (sepChars.includes(c) && start >= 2 && isDigit(text.charCodeAt(start - 2))) return false;
  if (c === 43 || c === 40) return false;
  return true;
}

function digitBoundaryAfter(text: string, end: number, sepChars: number[]): boolean {
  if (end >= text.length) return true;
  const c = text.charCodeAt(end);
  if (isAlnum(c)) return false;
  if (sepChars.includes(c) && end + 1 < text.length && isDigit(text.charCodeAt(end + 1))) return false;
  return true;
}

// ---- hand-written scanners --------------------------------------------------------------------

function isEmailLocal(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 37 || c === 43 || c === 45; // . % + -
}
function isDomainChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 45;
}
function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

type Candidate = [start: number, end: number, value: string];

function hasDot(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (text.charCodeAt(k) === 46) return true;
  return false;
}

function emailCandidates(text: string): Candidate[] {
  const out: Candidate[] = [];
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let s = at;
    while (s > 0 && at - s < 64 && isEmailLocal(text.charCodeAt(s - 1))) s--;
    let e = at + 1;
    while (e < text.length && e - at <= 253 && isDomainChar(text.charCodeAt(e))) e++;
    while (e > at + 1 && (text[e - 1] === '.' || text[e - 1] === '-')) e--; // sentence punctuation
    // The pattern needs a dot in the domain: skip the regex for "a@b" floods.
    if (s < at && e > at + 1 && hasDot(text, at + 1, e)) out.push([s, e, text.slice(s, e)]);
  }
  return out;
}

/**
 * Offsets where a word starts with two uppercase ASCII letters: where an IBAN or a UK NINO can
 * start. One pass shared by both scanners instead of one per scanner.
 */
function upperPairStarts(text: string): Int32Array {
  let out = new Int32Array(64);
  let count = 0;
  const n = text.length;
  const push = (i: number): void => {
    if (count === out.length) {
      const grown = new Int32Array(count * 2);
      grown.set(out);
      out = grown;
    }
    out[count++] = i;
  };
  // Every pair covers exactly one odd offset k and starts at k - 1 or k: reading only odd offsets
  // rejects two starts per lower-case or non-letter character (most of any text).
  for (let k = 1; k < n; k += 2) {
    if (!isUpper(text.charCodeAt(k))) continue;
    if (isUpper(text.charCodeAt(k - 1)) && (k < 2 || !isAlnum(text.charCodeAt(k - 2)))) push(k - 1);
    if (k + 1 < n && isUpper(text.charCodeAt(k + 1)) && !isAlnum(text.charCodeAt(k - 1))) push(k);
  }
  return out.subarray(0, count);
}

function ibanCandidates(text: string, ctx: ScanContext): Candidate[] {
  const out: Candidate[] = [];
  for (const i of ctx.upperPairs()) {
    if (i + 4 > text.length || !isDigit(text.charCodeAt(i + 2)) || !isDigit(text.charCodeAt(i + 3))) continue;
    const length = IBAN_LENGTHS[text.slice(i, i + 2)];
    if (length === undefined) continue;
    // Compact, or grouped by four with single spaces.
    let compact = '';
    let j = i;
    while (j < text.length && compact.length < length) {
      const c = text.charCodeAt(j);
      if (isDigit(c) || isUpper(c)) {
        compact += text[j];
        j++;
      } else if (c === 32 && compact.length % 4 === 0 && j + 1 < text.length && isAlnum(text.charCodeAt(j + 1))) j++;
      else break;
    }
    if (compact.length !== length) continue;
    if (j < text.length && isAlnum(text.charCodeAt(j))) continue;
    out.push([i, j, compact]);
  }
  return out;
}

function ninoCandidates(text: string, ctx: ScanContext): Candidate[] {
  const out: Candidate[] = [];
  for (const i of ctx.upperPairs()) {
    if (i + 9 > text.length) continue;
    let j = i + 2;
    let digits = 0;
    while (j < text.length && digits < 6) {
      const c = text.charCodeAt(j);
      if (isDigit(c)) {
        digits++;
        j++;
      } else if (c === 32 && digits % 2 === 0 && j + 1 < text.length && isDigit(text.charCodeAt(j + 1))) j++;
      else break;
    }
    if (digits !== 6) continue;
    if (text[j] === ' ') j++;
    if (j >= text.length || !isUpper(text.charCodeAt(j))) continue;
    j++;
    if (j < text.length && isAlnum(text.charCodeAt(j))) continue;
    out.push([i, j, text.slice(i, j)]);
  }
  return out;
}

function isIpv6Char(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 58 || c === 46;
}

function ipv6Candidates(text: string): Candidate[] {
  const out: Candidate[] = [];
  let i = text.indexOf(':');
  while (i !== -1) {
    let s = i;
    while (s > 0 && isIpv6Char(text.charCodeAt(s - 1))) s--;
    let e = i;
    while (e < text.length && isIpv6Char(text.charCodeAt(e))) e++;
    while (e > s && text[e - 1] === '.') e--;
    const before = s > 0 ? text.charCodeAt(s - 1) : 32;
    const after = e < text.length ? text.charCodeAt(e) : 32;
    if (e - s >= 2 && e - s <= 45 && !isAlnum(before) && !isAlnum(after)) out.push([s, e, text.slice(s, e)]);
    i = text.indexOf(':', Math.max(e, i + 1));
  }
  return out;
}

const SCANNERS: Record<'email' | 'iban' | 'nino' | 'ipv6', (text: string, ctx: ScanContext) => Candidate[]> = { email: emailCandidates, iban: ibanCandidates, nino: ninoCandidates, ipv6: ipv6Candidates };

function matchScannerRule(ctx: ScanContext, compiled: CompiledRule, out: RawMatch[]): void {
  const source = compiled.rule.source;
  if (source.kind !== 'scanner') return;
  for (const [start, end, value] of SCANNERS[source.scanner](ctx.text, ctx)) {
    if (!patternMatches(compiled, value)) continue;
    const { rule } = compiled;
    if (rule.validator && !runValidator(rule.validator, value, rule.minEntropy)) continue;
    out.push({ ruleId: rule.id, family: rule.family, entity: rule.entity, start, end });
  }
}
