// Output scanning across chunk boundaries: the scanner keeps a tail of at most the longest
// match length unemitted, so a secret split over chunks is seen whole before any of it leaves.
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

export function createStreamScanner(scanner: TextScanner, actions: ReadonlyMap<string, GuardrailAction>): StreamScanner {
  const holdBack = scanner.maxMatchLength;
  let pending = '';
  let blocked: { ruleId: string } | undefined;

  const step = (final: boolean): StreamStep => {
    if (blocked) return { text: '', findings: [], blocked };
    const matches = scanner.scan(pending).filter((m) => actions.has(m.ruleId));
    let cut = final ? pending.length : Math.max(0, pending.length - holdBack);
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
    const text = redactSpans(
      pending.slice(0, cut),
      findings.filter((f) => f.action === 'redact'),
    );
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
