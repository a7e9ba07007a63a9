// What one audit record holds, and how a pipeline input becomes one (bodies per config, secrets
// always redacted, the virtual key only by id).
import type { IngressDialect, Usage } from '../../provider-adapters/contract.ts';
import { createTextScanner } from '../guardrails/scanner.ts';
import { BUILTIN_RULES } from '../guardrails/policy.ts';
import { redactSpans } from '../guardrails/redact.ts';
import type { AuditConfig } from './schema.ts';

export interface AuditAttempt {
  provider: string;
  model: string;
  keyId?: string;
  status?: number;
  latencyMs?: number;
}

/** What the pipeline hands in (matches extproc/pipeline/ports.ts AuditRecordInput). */
export interface AuditRecordInput {
  time: string;
  requestId: string;
  /** Virtual key id. Never the key itself. */
  keyId?: string;
  team?: string;
  customer?: string;
  dialect?: IngressDialect;
  rule?: string;
  attempts: AuditAttempt[];
  status: number;
  outcome: string;
  usage?: Usage;
  /** Integer micro-dollars. */
  costMicros: number;
  /** Guardrail rule ids only. */
  findings: string[];
  input?: unknown;
  output?: string;
}

/** The stored record: the input's fields plus the chain fields. */
export interface AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
  instance: string;
  time: string;
  requestId: string;
  keyId?: string;
  team?: string;
  customer?: string;
  dialect?: string;
  rule?: string;
  attempts: AuditAttempt[];
  status: number;
  outcome: string;
  usage?: Usage;
  costMicros: number;
  findings: string[];
  input?: string;
  output?: string;
}

export type AuditBody = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash' | 'instance'>;

const secretScanner = createTextScanner(BUILTIN_RULES.filter((r) => r.family === 'secret'));
const piiScanner = createTextScanner(BUILTIN_RULES.filter((r) => r.family === 'pii'));

export function redactForAudit(text: string, mode: AuditConfig['bodies']): string {
  const spans = mode === 'redacted' ? [...secretScanner.scan(text), ...piiScanner.scan(text)] : secretScanner.scan(text);
  return redactSpans(text, spans);
}

export function buildAuditBody(input: AuditRecordInput, bodies: AuditConfig['bodies']): AuditBody {
  const { input: rawInput, output, ...rest } = input;
  if (!Number.isInteger(rest.costMicros)) throw new Error('audit: costMicros must be an integer number of micro-dollars');
  const body: AuditBody = { ...rest, attempts: rest.attempts.map((a) => ({ ...a })), findings: [...rest.findings] };
  if (bodies !== 'none') {
    if (rawInput !== undefined) body.input = redactForAudit(typeof rawInput === 'string' ? rawInput : JSON.stringify(rawInput), bodies);
    if (output !== undefined) body.output = redactForAudit(output, bodies);
  }
  return body;
}
