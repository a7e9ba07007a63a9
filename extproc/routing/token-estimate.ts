// Prompt-token estimates for `promptTokens` rule criteria (and anyone else who needs one before
// the provider counts). Exact-ish count with js-tiktoken o200k_base (GPT-4o family tokenizer; for
// other providers' models it is an approximation, which is fine for a size threshold).
//
// Cost: js-tiktoken is pure JS. Measured on the dev container (Node 24): ~1 ms for 1 KB, ~20 ms
// for 32 KB, ~70 ms for 100 KB of English prose. So texts over `exactLimitChars` (default 32 Ki
// characters) use chars / 4 instead: within ~5 % of o200k_base for English prose (measured 23.9k
// vs 25k tokens at 100 KB), off by up to ~2x for CJK text or dense code, and free. A body that
// large is far above any small-prompt threshold, so only thresholds near it become fuzzy.
// Loading the o200k_base ranks takes ~1 s and ~70 MB of heap: call loadTokenEstimator once at
// startup, and only when routingNeedsPromptTokens (or another consumer) says it is needed.
import { Tiktoken } from 'js-tiktoken/lite';
import type { RouterConfig } from './schema.ts';

export const DEFAULT_EXACT_LIMIT_CHARS = 32 * 1024;

export interface TokenEstimate {
  tokens: number;
  method: 'o200k_base' | 'chars/4';
}

export interface TokenEstimator {
  estimate(text: string): TokenEstimate;
}

/** The fast path: one token per four characters, rounded up. */
export function estimateTokensByChars(text: string): number {
  return Math.ceil(text.length / 4);
}

export async function loadTokenEstimator(options: { exactLimitChars?: number } = {}): Promise<TokenEstimator> {
  const exactLimitChars = options.exactLimitChars ?? DEFAULT_EXACT_LIMIT_CHARS;
  const { default: ranks } = await import('js-tiktoken/ranks/o200k_base');
  const encoder = new Tiktoken(ranks);
  return {
    estimate(text: string): TokenEstimate {
      if (text.length > exactLimitChars) return { tokens: estimateTokensByChars(text), method: 'chars/4' };
      // No special tokens: user text that contains "<|endoftext|>" is ordinary text, not an error.
      return { tokens: encoder.encode(text, [], []).length, method: 'o200k_base' };
    },
  };
}

// Keys whose string values are not prompt text: identifiers, enums, and binary payloads (base64
// images, audio, files) that providers bill differently and that would swamp a text estimate.
const NON_TEXT_KEYS = new Set([
  'model', 'role', 'type', 'id', 'tool_call_id', 'tool_use_id', 'metadata', 'user', 'stream',
  'image_url', 'url', 'data', 'source', 'inline_data', 'inlineData', 'file_data', 'fileData',
  'input_audio', 'media_type', 'mime_type', 'mimeType', 'detail', 'signature',
  'response_format', 'service_tier', 'reasoning_effort', 'stop',
]);
const MAX_DEPTH = 64;

/**
 * The text of a parsed request body in any ingress dialect (messages, system, tools, Gemini
 * contents/parts, Responses input/instructions), joined by newlines. Dialect-agnostic on purpose:
 * it walks the JSON and skips the keys above.
 */
export function promptTextOf(body: unknown): string {
  const parts: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (typeof value === 'string') {
      parts.push(value);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, depth + 1);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (!NON_TEXT_KEYS.has(key)) walk(child, depth + 1);
      }
    }
  };
  walk(body, 0);
  return parts.join('\n');
}

/** True when some explicit rule has a promptTokens criterion, i.e. the estimate is needed. */
export function routingNeedsPromptTokens(config: RouterConfig): boolean {
  return (config.routing?.rules ?? []).some((rule) => rule.match.promptTokens !== undefined);
}
