// The guardrails service the pipeline calls: request scans (block / redact / monitor), output
// scans for whole answers and streams, external moderation hooks.
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import type { IngressDialect } from '../../provider-adapters/contract.ts';
import { extractText, writeBack } from './extract.ts';
import type { TextPart } from './extract.ts';
import { callExternalHook } from './external-hook.ts';
import type { FetchLike } from './external-hook.ts';
import { BUILTIN_RULES, customPatternRules, denyListRules, resolvePolicy } from './policy.ts';
import type { ResolvedPolicy } from './policy.ts';
import { redactSpans } from './redact.ts';
import { createTextScanner } from './scanner.ts';
import type { TextScanner } from './scanner.ts';
import { guardrailsConfigSchema } from './schema.ts';
import type { GuardrailsConfigInput } from './schema.ts';
import { createStreamScanner } from './stream.ts';
import type { StreamScanner, StreamStep } from './stream.ts';
import type { Finding } from './types.ts';

export interface ExternalHookFailure {
  hook: string;
  reason: string;
  /** Whether the request was blocked because of it (fail closed). */
  blocked: boolean;
}

export interface ScanRequestResult {
  action: 'allow' | 'redact' | 'block';
  blockedBy?: { ruleId: string; policy: string };
  findings: Finding[];
  /** The redacted body, when action = redact. */
  body?: unknown;
  /** External hooks that failed (timeout, unreachable, bad answer): raise a metric. */
  externalFailures: ExternalHookFailure[];
}

export interface GuardrailsDeps {
  /** fetch-compatible function for external hooks (undici's fetch in production). */
  fetch?: FetchLike;
  /** Called on every external hook failure. */
  onExternalFailure?: (failure: ExternalHookFailure) => void;
  /** When given, external hook failures are counted in switchboard_guardrail_external_failures_total. */
  metrics?: Registry;
  log?: { warn(obj: object, msg?: string): void };
}

export interface Guardrails {
  readonly policyNames: readonly string[];
  readonly defaultPolicy: string;
  scanRequest(dialect: IngressDialect, body: unknown, policyName?: string): Promise<ScanRequestResult>;
  /** Output scan of one whole text (a non-streamed answer). */
  scanText(text: string, policyName?: string): StreamStep;
  createStreamScanner(policyName?: string): StreamScanner;
  /** createStreamScanner, or null when the policy does not scan output. */
  createStreamGuard(policyName?: string): StreamScanner | null;
  /** Redacts `families` (all rules of those families, whatever the policy) for logs and audit. */
  redactForAudit(text: string, families: readonly ('secret' | 'pii')[]): string;
}

interface PolicyRuntime {
  policy: ResolvedPolicy;
  scanner: TextScanner;
}

const POLICY_NOT_FOUND = 'policy_not_found';
const MAX_PROMPT_SIZE = 'max_prompt_size';

function failureCounter(registry: Registry | undefined): Counter<'hook' | 'reason'> | undefined {
  if (!registry) return undefined;
  const name = 'switchboard_guardrail_external_failures_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'hook' | 'reason'>;
  return new Counter({ name, help: 'External guardrail hook calls that failed', labelNames: ['hook', 'reason'], registers: [registry] });
}

export function createGuardrails(configInput: GuardrailsConfigInput | undefined, deps: GuardrailsDeps = {}): Guardrails {
  const config = guardrailsConfigSchema.parse(configInput ?? {});
  const allRules = [...BUILTIN_RULES, ...denyListRules(config), ...customPatternRules(config)];
  const runtimes = new Map<string, PolicyRuntime>();
  for (const name of Object.keys(config.policies)) {
    const policy = resolvePolicy(name, config, allRules);
    runtimes.set(name, { policy, scanner: createTextScanner(policy.rules) });
  }
  const auditScanners = {
    secret: createTextScanner(BUILTIN_RULES.filter((r) => r.family === 'secret')),
    pii: createTextScanner(BUILTIN_RULES.filter((r) => r.family === 'pii')),
  };
  const failures = failureCounter(deps.metrics);
  const fetchImpl: FetchLike | undefined = deps.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);

  const runtimeFor = (policyName: string | undefined): PolicyRuntime | undefined => runtimes.get(policyName ?? config.defaultPolicy);

  async function runExternalHooks(rt: PolicyRuntime, dialect: IngressDialect, texts: string[], findings: Finding[], externalFailures: ExternalHookFailure[]): Promise<void> {
    await Promise.all(
      rt.policy.config.externalHooks.map(async (hookId) => {
        const hook = config.externalHooks[hookId]!;
        const ruleId = `external:${hookId}`;
        const result = fetchImpl
          ? await callExternalHook(hook, { dialect, policy: rt.policy.name, texts }, fetchImpl)
          : ({ ok: false, reason: 'no_fetch' } as const);
        if (result.ok) {
          if (result.flagged) {
            findings.push({ ruleId, family: 'external', entity: 'external', action: hook.action, start: 0, end: 0, detail: result.categories.join(',') });
          }
          return;
        }
        const failure = { hook: hookId, reason: result.reason, blocked: !hook.failOpen };
        externalFailures.push(failure);
        failures?.inc({ hook: hookId, reason: result.reason });
        deps.onExternalFailure?.(failure);
        deps.log?.warn({ hook: hookId, reason: result.reason }, 'external guardrail hook failed');
        findings.push({ ruleId, family: 'external', entity: 'external', action: hook.failOpen ? 'monitor' : 'block', start: 0, end: 0, detail: `hook_failed:${result.reason}` });
      }),
    );
  }

  return {
    policyNames: [...runtimes.keys()],
    defaultPolicy: config.defaultPolicy,

    async scanRequest(dialect, body, policyName) {
      const rt = runtimeFor(policyName);
      const policy = policyName ?? config.defaultPolicy;
      if (!rt) {
        // Fail closed: a key pointing at a policy that does not exist must not bypass scanning.
        const finding: Finding = { ruleId: POLICY_NOT_FOUND, family: 'size', entity: 'policy', action: 'block', start: 0, end: 0 };
        return { action: 'block', blockedBy: { ruleId: POLICY_NOT_FOUND, policy }, findings: [finding], externalFailures: [] };
      }
      const parts = extractText(dialect, body);
      const findings: Finding[] = [];
      const externalFailures: ExternalHookFailure[] = [];
      const total = parts.reduce((n, p) => n + p.text.length, 0);
      if (total > rt.policy.maxPromptChars) {
        findings.push({ ruleId: MAX_PROMPT_SIZE, family: 'size', entity: 'prompt', action: 'block', start: 0, end: 0, detail: `${total} > ${rt.policy.maxPromptChars} chars` });
        return { action: 'block', blockedBy: { ruleId: MAX_PROMPT_SIZE, policy }, findings, externalFailures };
      }
      const replacements: TextPart[] = [];
      for (const part of parts) {
        const partFindings: Finding[] = rt.scanner.scan(part.text).map((m) => ({ ...m, action: rt.policy.actions.get(m.ruleId)!, path: part.path }));
        findings.push(...partFindings);
        const redactions = partFindings.filter((f) => f.action === 'redact');
        replacements.push({ path: part.path, text: redactSpans(part.text, redactions) });
      }
      const blocker = findings.find((f) => f.action === 'block');
      if (!blocker && rt.policy.config.externalHooks.length > 0) {
        await runExternalHooks(rt, dialect, replacements.map((r) => r.text), findings, externalFailures);
      }
      const finalBlocker = findings.find((f) => f.action === 'block');
      if (finalBlocker) return { action: 'block', blockedBy: { ruleId: finalBlocker.ruleId, policy }, findings, externalFailures };
      if (findings.some((f) => f.action === 'redact')) {
        const changed = replacements.filter((r, i) => r.text !== parts[i]!.text);
        return { action: 'redact', findings, body: writeBack(body, changed), externalFailures };
      }
      return { action: 'allow', findings, externalFailures };
    },

    scanText(text, policyName) {
      const rt = runtimeFor(policyName);
      if (!rt) return { text: '', findings: [], blocked: { ruleId: POLICY_NOT_FOUND } };
      const s = createStreamScanner(rt.scanner, rt.policy.actions);
      const a = s.push(text);
      const b = s.flush();
      const blocked = a.blocked ?? b.blocked;
      return { text: blocked ? '' : a.text + b.text, findings: [...a.findings, ...b.findings], ...(blocked ? { blocked } : {}) };
    },

    createStreamScanner(policyName) {
      const rt = runtimeFor(policyName);
      if (!rt) {
        const refuse = (): StreamStep => ({ text: '', findings: [], blocked: { ruleId: POLICY_NOT_FOUND } });
        return { push: refuse, flush: refuse };
      }
      return createStreamScanner(rt.scanner, rt.policy.actions);
    },

    createStreamGuard(policyName) {
      const rt = runtimeFor(policyName);
      if (rt && !rt.policy.config.scanOutput) return null;
      return this.createStreamScanner(policyName);
    },

    redactForAudit(text, families) {
      const spans = families.flatMap((f) => auditScanners[f].scan(text));
      return redactSpans(text, spans);
    },
  };
}
