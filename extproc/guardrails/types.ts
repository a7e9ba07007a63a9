// Shared vocabulary of the guardrails: what a rule is, what a finding is, what a policy decides.
// Findings never carry the matched value, only where it was and which rule saw it.

export type GuardrailAction = 'block' | 'redact' | 'monitor';

/** Rule families a policy can select as a group. */
export type RuleFamily = 'secret' | 'pii' | 'injection' | 'deny-list' | 'custom' | 'size' | 'external';

/** How a finding's text was hidden from a plain scan (absent: found in the text as written). */
export type Evasion = 'normalised' | 'base64' | 'hex' | 'percent';

/** One detection. `start`/`end` are UTF-16 offsets in the scanned part's original text. */
export interface Finding {
  ruleId: string;
  family: RuleFamily;
  /** The placeholder type, e.g. aws_access_key -> [REDACTED:aws_access_key]. */
  entity: string;
  action: GuardrailAction;
  /** JSON path of the text part (request scans) or absent (stream / plain text scans). */
  path?: (string | number)[];
  start: number;
  end: number;
  evasion?: Evasion;
  /** Free-text reason for findings that have no span (external hook, size). Never the value. */
  detail?: string;
}

/** A span found by a rule engine before policy actions are attached. */
export interface RawMatch {
  ruleId: string;
  family: RuleFamily;
  entity: string;
  start: number;
  end: number;
  evasion?: Evasion;
}
