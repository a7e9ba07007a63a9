// Ingress dialect from method and path (the router-level filter calls this on request headers).
import type { IngressDialect } from './contract.ts';

export interface DetectedDialect {
  dialect: IngressDialect;
  pathModel?: string;
  stream?: boolean;
}

const FIXED: Record<string, IngressDialect> = {
  '/chat/completions': 'openai-chat',
  '/embeddings': 'openai-embeddings',
  '/responses': 'openai-responses',
  '/messages': 'anthropic-messages',
  '/messages/count_tokens': 'anthropic-count-tokens',
};

const GEMINI = /^\/(?:v1|v1beta|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

export function detectDialect(method: string, path: string): DetectedDialect | null {
  if (method.toUpperCase() !== 'POST') return null;
  const q = path.indexOf('?');
  const pathname = (q < 0 ? path : path.slice(0, q)).replace(/\/+$/, '');
  const gemini = GEMINI.exec(pathname);
  if (gemini) {
    return { dialect: 'gemini-generate', pathModel: decodeURIComponent(gemini[1] ?? ''), stream: gemini[2] === 'streamGenerateContent' };
  }
  // OpenAI SDKs use /v1/...; some clients mount the API at /openai/v1/... or without a version.
  const rest = pathname.replace(/^(?:\/openai)?(?:\/v1)?(?=\/)/, '');
  const dialect = FIXED[rest];
  return dialect ? { dialect } : null;
}
