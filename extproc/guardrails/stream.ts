// Output scanning across chunk boundaries. A secret split over chunks must be seen whole before
// any of it leaves, yet an ordinary answer must not wait: time to first token is what users feel.
// So the scanner keeps back only what could still grow into a match:
// - with PII rules active, SHORT_HOLD characters (spaced numbers: cards, IBANs, phone numbers,
//   national ids fit in it); secrets are single tokens and need no such margin,
// - extended to the start of the unbroken run of non-space characters it cuts into (a token or
//   an encoded secret is one run), up to the longest match length,
// - extended to the start of a long rule's keyword ("-----BEGIN ", "eyJ", "postgres://") while
//   that rule's match could still be unfinished.
// Text already emitted stays as look-behind context (CONTEXT characters) for the next scans, so a
// rule that needs a keyword before its value ("aws_secret_access_key = ...") still fires when the
// value arrives after the keyword has left; then only the part not yet emitted is redacted.
import type { TextScanner } from './scanner.ts';
import { redactSpans } from './redact.ts';
import type { Finding, GuardrailAction } from './types.ts';

export interface StreamStep {
  /** Text that is safe to emit now (redacted where the policy says so). */
  text: string;
  findings: Finding[];
  blocked?: { ruleId: string };
}

export interface StreamScanner {
  push(text: string): StreamStep;
  flush(): StreamStep;
}

const SHORT_HOLD = 48;
const CONTEXT = 256;

interface LongRule {
  keywords: string[];
  caseSensitive: boolean;
  maxMatchLength: number;
}

function longRules(scanner: TextScanner): LongRule[] {
  const out: LongRule[] = [];
  for (const c of scanner.rules) {
    const rule = c.rule;
    if (rule.maxMatchLength <= SHORT_HOLD) continue;
    if (rule.source.kind !== 'keywords') continue;
    out.push({ keywords: rule.source.keywords, caseSensitive: rule.source.caseSensitive ?? false, maxMatchLength: rule.maxMatchLength });
  }
  return out;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

/** Where the emitted prefix may end: everything from here on could still grow into a match. */
export function holdBackCut(pending: string, matches: readonly { start: number; end: number }[], long: readonly LongRule[], maxMatchLength: number, shortHold = SHORT_HOLD): number {
  const floor = Math.max(0, pending.length - maxMatchLength);
  let cut = Math.max(0, pending.length - shortHold);
  while (cut > floor && !isSpace(pending.charCodeAt(cut - 1))) cut--;
  const lower = pending.toLowerCase();
  for (const rule of long) {
    const hay = rule.caseSensitive ? pending : lower;
    const from = Math.max(0, pending.length - rule.maxMatchLength);
    for (const kw of rule.keywords) {
      const needle = rule.caseSensitive ? kw : kw.toLowerCase();
      for (let at = hay.indexOf(needle, from); at >= 0 && at < cut; at = hay.indexOf(needle, at + 1)) {
        // A keyword inside a match already found is settled; otherwise its match may be unfinished.
        if (!matches.some((m) => m.start <= at && at < m.end)) {
          cut = at;
          break;
        }
      }
    }
  }
  return cut;
}

export function createStreamScanner(scanner: TextScanner, actions: ReadonlyMap<string, GuardrailAction>): StreamScanner {
  const long = longRules(scanner);
  // Spaced values (card and phone numbers, IBANs) are PII formats; a secret is one token.
  const shortHold = scanner.rules.some((c) => c.rule.family === 'pii' && actions.has(c.rule.id)) ? SHORT_HOLD : 0;
  let context = ''; // emitted already: scanned for context, never emitted again
  let pending = '';
  let blocked: { ruleId: string } | undefined;

  const step = (final: boolean): StreamStep => {
    if (blocked) return { text: '', findings: [], blocked };
    const offset = context.length;
    // Matches wholly inside the context were decided by an earlier step.
    const matches = scanner
      .scan(context + pending)
      .filter((m) => m.end > offset && actions.has(m.ruleId))
      .map((m) => ({ ...m, start: Math.max(0, m.start - offset), end: m.end - offset }));
    let cut = final ? pending.length : holdBackCut(pending, matches, long, scanner.maxMatchLength, shortHold);
    // Never emit part of a match: pull the cut back to the start of anything straddling it.
    for (let changed = true; changed; ) {
      changed = false;
      for (const m of matches) {
        if (m.start < cut && m.end > cut) {
          cut = m.start;
          changed = true;
        }
      }
    }
    const decided = matches.filter((m) => m.end <= cut);
    const findings: Finding[] = decided.map((m) => ({ ...m, action: actions.get(m.ruleId)! }));
    const blocker = findings.find((f) => f.action === 'block');
    if (blocker) {
      blocked = { ruleId: blocker.ruleId };
      pending = '';
      return { text: '', findings, blocked };
    }
    const emitted = pending.slice(0, cut);
    const text = redactSpans(
      emitted,
      findings.filter((f) => f.action === 'redact'),
    );
    // The context keeps the original text (offsets of later matches refer to it), not the redaction.
    context = (context + emitted).slice(-CONTEXT);
    pending = pending.slice(cut);
    return { text, findings };
  };

  return {
    push(text: string): StreamStep {
      if (!blocked) pending += text;
      return step(false);
    },
    flush(): StreamStep {
      return step(true);
    },
  };
}
