// The `providers:` section: where each provider account lives and which credentials it uses.
// Secrets are references (env var or file), never values, so gateway.yaml can be committed.
import { z } from 'zod';

export const PROVIDER_TYPES = ['openai', 'azure-openai', 'anthropic', 'gemini', 'bedrock', 'groq', 'mistral', 'vllm', 'ollama', 'openai-compatible'] as const;

/** Default base URLs; loopback simulators and on-prem servers set their own. */
export const DEFAULT_BASE_URLS: Partial<Record<(typeof PROVIDER_TYPES)[number], string>> = {
  openai: 'https://api.openai.com',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
  groq: 'https://api.groq.com/openai/v1',
  mistral: 'https://api.mistral.ai',
  ollama: 'http://127.0.0.1:11434',
  vllm: 'http://127.0.0.1:8000',
};

export const secretRefSchema = z.union([
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ file: z.string().min(1) }),
]);

const keySchema = z.strictObject({
  id: z.string().min(1),
  weight: z.number().nonnegative().default(1),
  /** API key (every type but bedrock). */
  secret: secretRefSchema.optional(),
  /** AWS credentials (bedrock). */
  accessKeyId: secretRefSchema.optional(),
  secretAccessKey: secretRefSchema.optional(),
  sessionToken: secretRefSchema.optional(),
});

export const providerSchema = z
  .strictObject({
    type: z.enum(PROVIDER_TYPES),
    baseUrl: z.url().optional(),
    keys: z.array(keySchema).default([]),
    /** azure-openai */
    apiVersion: z.string().optional(),
    /** azure-openai: model name -> deployment name (default: the model name) */
    deployments: z.record(z.string(), z.string()).optional(),
    /** bedrock */
    region: z.string().optional(),
  })
  .superRefine((p, ctx) => {
    if (!p.baseUrl && !DEFAULT_BASE_URLS[p.type] && p.type !== 'bedrock') {
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: `baseUrl is required for provider type ${p.type}` });
    }
    if (p.type === 'bedrock') {
      if (!p.region) ctx.addIssue({ code: 'custom', path: ['region'], message: 'region is required for bedrock' });
      p.keys.forEach((k, i) => {
        if (!k.accessKeyId || !k.secretAccessKey) ctx.addIssue({ code: 'custom', path: ['keys', i], message: 'bedrock keys need accessKeyId and secretAccessKey' });
      });
    } else {
      p.keys.forEach((k, i) => {
        if (!k.secret) ctx.addIssue({ code: 'custom', path: ['keys', i, 'secret'], message: `${p.type} keys need secret: {env: NAME} or {file: PATH}` });
      });
    }
    if (p.type === 'azure-openai' && !p.apiVersion) ctx.addIssue({ code: 'custom', path: ['apiVersion'], message: 'apiVersion is required for azure-openai' });
    const ids = new Set<string>();
    p.keys.forEach((k, i) => {
      if (ids.has(k.id)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'id'], message: `duplicate key id "${k.id}"` });
      ids.add(k.id);
    });
  });

export const providersSchema = z.record(z.string().regex(/^[a-zA-Z0-9_-]+$/, 'provider names use letters, digits, - and _'), providerSchema);

export type ProviderConfig = z.infer<typeof providerSchema>;
export type ProviderKeyConfig = z.infer<typeof keySchema>;
export type SecretRef = z.infer<typeof secretRefSchema>;

export function providerBaseUrl(p: ProviderConfig): string {
  if (p.baseUrl) return p.baseUrl;
  if (p.type === 'bedrock') return `https://bedrock-runtime.${p.region}.amazonaws.com`;
  const url = DEFAULT_BASE_URLS[p.type];
  if (!url) throw new Error(`no base URL for provider type ${p.type}`);
  return url;
}
