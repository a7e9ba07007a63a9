// The shape of a detection rule. Rules are data (tables in this folder); the engine in
// ../matcher.ts compiles them. Every `pattern` is an RE2 pattern run by re2js (linear time).
import type { RuleFamily } from '../types.ts';
import type { ValidatorName } from '../validators.ts';

/**
 * Where a rule looks. Cheap literal or structural scans find candidate regions so the regex only
 * runs where it can match: this keeps a 1 MB scan fast even though re2js is an interpreter.
 */
export type CandidateSource =
  /** Any match contains one of these literals (lowercase unless caseSensitive). */
  | { kind: 'keywords'; keywords: string[]; caseSensitive?: boolean }
  /** Runs of digits joined by separators, e.g. 4111 1111 1111 1111 or (415) 555-0100. */
  | {
      kind: 'digit-groups';
      /** Each layout lists the digit count of each group; [min, max] allows a range. */
      layouts: (number | [number, number])[][];
      /** Exact strings allowed between groups. */
      separators: string[];
      /** Whether different separators may be mixed in one match (phones: "(415) 555-0100"). */
      mixedSeparators?: boolean;
      plus?: 'required' | 'optional' | 'forbidden';
      /** Whether the first group may be wrapped in parentheses. */
      parenthesisedFirstGroup?: boolean;
      /** Bounds on the total digit count, when layouts allow ranges. */
      totalDigits?: [number, number];
    }
  /** The whole text (custom patterns without keywords): correct but the slowest option. */
  | { kind: 'anywhere' }
  /** A hand-written linear scanner for shapes that are neither literal nor digit runs. */
  | { kind: 'scanner'; scanner: 'email' | 'iban' | 'nino' | 'ipv6' };

export interface DetectionRule {
  id: string;
  family: RuleFamily;
  /** Placeholder type: [REDACTED:<entity>]. */
  entity: string;
  description: string;
  /** provider-specific formats are precise; generic rules guess from context and entropy. */
  specificity: 'provider' | 'generic' | 'pii' | 'heuristic';
  source: CandidateSource;
  /**
   * RE2 pattern. Keyword rules: searched in the candidate window. Digit-group and scanner rules:
   * must match the whole candidate (digits only when `matchDigitsOnly`).
   */
  pattern: string;
  caseInsensitive?: boolean;
  /** Capture group holding the sensitive value (redacted and validated); 0 = whole match. */
  valueGroup?: number;
  /** Upper bound on a match's length in characters; also the stream scanner's hold-back. */
  maxMatchLength: number;
  validator?: ValidatorName;
  /**
   * Keyword rules whose value starts with the keyword (AKIA..., ghp_...): a hit only goes to the
   * regex if it starts a run of token characters ([A-Za-z0-9_-], plus '.' when `dots`) whose
   * length is within bounds. Keeps floods of near-misses ("AKIAAKIA...") out of re2js.
   */
  prefixToken?: { min: number; max?: number; dots?: boolean };
  /**
   * Keyword rules whose every match begins with one of the keywords (a PEM header, a URI
   * scheme): the regex window starts at the hit instead of reaching maxMatchLength back.
   */
  keywordStartsMatch?: boolean;
  /**
   * Assignment rules, shaped keyword [A-Za-z0-9_-]* ["']? \s* (:=|=>|:|=) \s* ["']? value: the
   * engine walks that shape from the keyword hits (operator within `reach` characters of the last
   * keyword of the key, value within `valueLength`), and the pattern, which must describe the same
   * shape, confirms on the key-to-value slice only (see matchAssignments in ../matcher.ts).
   */
  assignment?: { reach: number };
  /** Bounds on the value's length, for patterns kept unbounded for speed. */
  valueLength?: [number, number];
  minEntropy?: number;
  /** Digit-group rules: run pattern and validator over the digits alone. */
  matchDigitsOnly?: boolean;
}
