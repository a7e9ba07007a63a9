// The whole gateway.yaml: each section's schema lives with the module that owns it; this file
// only composes them and checks references across sections (a route naming an unknown provider).
import { z } from 'zod';
import { providersSchema } from './providers-schema.ts';
import { serverSchema } from './server-schema.ts';
import { modelsSchema, routingSchema } from '../routing/schema.ts';
import { GovernanceConfigSchema } from '../governance/schema.ts';
import { guardrailsConfigSchema } from '../guardrails/schema.ts';
import { auditConfigSchema } from '../audit/schema.ts';

export const gatewayConfigSchema = z
  .strictObject({
    server: serverSchema,
    providers: providersSchema,
    models: modelsSchema.optional(),
    routing: routingSchema.optional(),
    ...GovernanceConfigSchema.shape,
    guardrails: guardrailsConfigSchema.prefault({}),
    audit: auditConfigSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.state.type === 'memory' && cfg.server.workers > 1) {
      ctx.addIssue({ code: 'custom', path: ['server', 'workers'], message: 'in-memory state lives in one process: use workers: 1, or state: { type: redis } to share budgets and limits across workers' });
    }
    const known = (provider: string) => provider in cfg.providers;
    const check = (provider: string, path: (string | number)[]) => {
      if (!known(provider)) ctx.addIssue({ code: 'custom', path, message: `unknown provider "${provider}" (declared: ${Object.keys(cfg.providers).join(', ') || 'none'})` });
    };
    for (const [alias, entry] of Object.entries(cfg.models ?? {})) {
      entry.targets.forEach((t, i) => {
        check(t.provider, ['models', alias, 'targets', i, 'provider']);
        t.fallbacks?.forEach((f, j) => check(f.provider, ['models', alias, 'targets', i, 'fallbacks', j, 'provider']));
      });
      entry.fallbacks?.forEach((f, j) => check(f.provider, ['models', alias, 'fallbacks', j, 'provider']));
    }
    cfg.routing?.rules.forEach((rule, r) => {
      rule.targets.forEach((t, i) => {
        check(t.provider, ['routing', 'rules', r, 'targets', i, 'provider']);
        t.fallbacks?.forEach((f, j) => check(f.provider, ['routing', 'rules', r, 'targets', i, 'fallbacks', j, 'provider']));
      });
      rule.fallbacks?.forEach((f, j) => check(f.provider, ['routing', 'rules', r, 'fallbacks', j, 'provider']));
    });
  });

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
