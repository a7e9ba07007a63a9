// The `guardrails:` section of gateway.yaml.
import { z } from 'zod';

export const guardrailActionSchema = z.enum(['block', 'redact', 'monitor']);
/** `off` switches a selected family or rule off inside one policy. */
export const policyActionSchema = z.enum(['block', 'redact', 'monitor', 'off']);

const idSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'lower-case id: letters, digits, _ . -');

export const denyListSchema = z.object({
  terms: z.array(z.string().min(1)).min(1),
  caseSensitive: z.boolean().default(false),
  /** Placeholder type when redacted; defaults to the list id. */
  entity: z.string().optional(),
});

export const customPatternSchema = z.object({
  /** RE2 syntax (no backreferences / lookaround): runs in linear time. */
  pattern: z.string().min(1),
  /**
   * Literals one of which every match contains (lower-case unless caseSensitive). Strongly
   * recommended: without them the pattern runs over the whole text.
   */
  keywords: z.array(z.string().min(1)).optional(),
  caseSensitive: z.boolean().default(false),
  entity: z.string().optional(),
  /** Capture group holding the sensitive value; 0 = whole match. */
  valueGroup: z.number().int().min(0).default(0),
  maxMatchLength: z.number().int().min(1).max(65536).default(256),
});

export const externalHookSchema = z.object({
  url: z.url(),
  timeoutMs: z.number().int().min(1).max(60000).default(2000),
  /** By default an unreachable / failing hook blocks the request (fail closed). */
  failOpen: z.boolean().default(false),
  /** What a `flagged: true` answer does. */
  action: guardrailActionSchema.default('block'),
  headers: z.record(z.string(), z.string()).default({}),
});

export const policySchema = z.object({
  description: z.string().optional(),
  /**
   * selector -> action. A selector is a family (secret, pii, injection), an entity
   * (email, aws_access_key, ...), a rule id, a deny-list or custom-pattern id, or `*`.
   * Most specific wins: rule id > entity > family > `*`. Rules nobody selects do not run,
   * except prompt-injection heuristics, which monitor unless set otherwise.
   */
  actions: z.record(z.string(), policyActionSchema).default({}),
  /** Requests whose extracted text exceeds this many characters are blocked. */
  maxPromptChars: z.number().int().min(1).optional(),
  /** External moderation hooks (ids from guardrails.externalHooks) called for each request. */
  externalHooks: z.array(z.string()).default([]),
  /** Whether responses get the streaming output scanner. */
  scanOutput: z.boolean().default(true),
});

export const guardrailsConfigSchema = z
  .object({
    defaultPolicy: z.string().default('default'),
    maxPromptChars: z.number().int().min(1).default(1_000_000),
    // Secrets are redacted everywhere by default. PII rules cost as much again per request and
    // are a policy decision (monitor, redact or block per entity), so a policy opts in to them.
    policies: z.record(z.string(), policySchema).default({ default: { actions: { secret: 'redact', injection: 'monitor' }, externalHooks: [], scanOutput: true } }),
    denyLists: z.record(idSchema, denyListSchema).default({}),
    customPatterns: z.record(idSchema, customPatternSchema).default({}),
    externalHooks: z.record(idSchema, externalHookSchema).default({}),
  })
  .superRefine((cfg, ctx) => {
    if (!(cfg.defaultPolicy in cfg.policies)) {
      ctx.addIssue({ code: 'custom', path: ['defaultPolicy'], message: `policy "${cfg.defaultPolicy}" is not defined` });
    }
    for (const [name, policy] of Object.entries(cfg.policies)) {
      for (const hook of policy.externalHooks) {
        if (!(hook in cfg.externalHooks)) ctx.addIssue({ code: 'custom', path: ['policies', name, 'externalHooks'], message: `unknown external hook "${hook}"` });
      }
    }
  });

export type GuardrailsConfigInput = z.input<typeof guardrailsConfigSchema>;
export type GuardrailsConfig = z.output<typeof guardrailsConfigSchema>;
export type GuardrailPolicyConfig = z.output<typeof policySchema>;
export type ExternalHookConfig = z.output<typeof externalHookSchema>;
