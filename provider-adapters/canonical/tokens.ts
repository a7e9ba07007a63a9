// Input-token counts before the call. Two of them, because exact BPE costs milliseconds per KB in
// JS (measured ~4 ms per 4 KB with js-tiktoken) and the hot path cannot pay that:
// - estimateInputTokens: a one-pass, deliberately high estimate for budget reservations and
//   routing. ASCII text: length / 3 (o200k: prose ~5, JSON ~4.5, code ~3.4 chars per token).
//   Other text: letters and digits at 4 per token, every punctuation mark and non-ASCII character
//   one token, whitespace free (Chinese x1.6). Long random alphanumerics (hex, base64) are
//   undercounted. Over-reserving is safe: the settle uses real usage.
// - countInputTokens: o200k_base, for a local count_tokens answer, where the number is the product.
// Each image counts a flat IMAGE_TOKEN_ESTIMATE
// (roughly OpenAI's 768x768 high-detail tile cost and Anthropic's ~1.15 megapixel figure), because
// adapters do no I/O and cannot know the image's size.
import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import type { CanonicalRequest, ContentPart } from './types.ts';

export const IMAGE_TOKEN_ESTIMATE = 765;
/** Per-message framing (role markers), as in OpenAI's cookbook counting recipe. */
const PER_MESSAGE_OVERHEAD = 3;

// The encoder is built once on first use: its rank table is immutable, so caching it is a pure memo.
// The rank table itself (~2 MB of source, ~10 MB of RSS once parsed) is loaded then too, not at
// start-up: only count_tokens answers and streams cut before their usage arrived need it.
let encoder: Tiktoken | undefined;
function tokenizer(): Tiktoken {
  if (!encoder) {
    // The CommonJS build: a synchronous load, and its module.exports is the table itself.
    const ranks = createRequire(import.meta.url)('js-tiktoken/ranks/o200k_base') as TiktokenBPE & { default?: TiktokenBPE };
    encoder = new Tiktoken(ranks.default ?? ranks);
  }
  return encoder;
}

export function countTextTokens(text: string): number {
  return text.length === 0 ? 0 : tokenizer().encode(text, [], []).length;
}

const NON_ASCII = /[\u0080-\uffff]/;

/** One pass, no allocation (see the file comment for what it over- and undercounts). */
export function estimateTextTokens(text: string): number {
  // Most prompts are ASCII: then a native scan decides and length / 3 bounds the count from above
  // (prose ~5, JSON ~4.5, code ~3.4 characters per o200k token).
  if (!NON_ASCII.test(text)) return Math.ceil(text.length / 3);
  let alnum = 0;
  let single = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) alnum++;
    else if (c !== 32 && c !== 10 && c !== 9 && c !== 13) single++;
  }
  return Math.ceil(alnum / 4) + single;
}

function partTokens(part: ContentPart, count: (text: string) => number): number {
  switch (part.type) {
    case 'text':
      return count(part.text);
    case 'image':
      return IMAGE_TOKEN_ESTIMATE;
    case 'tool_call':
      return count(part.name) + count(part.arguments);
    case 'tool_result':
      return part.content.reduce((n, p) => n + partTokens(p, count), 0);
  }
}

function inputTokens(request: CanonicalRequest, count: (text: string) => number): number {
  let total = 0;
  if (request.system) total += count(request.system) + PER_MESSAGE_OVERHEAD;
  for (const m of request.messages) {
    total += PER_MESSAGE_OVERHEAD;
    for (const p of m.content) total += partTokens(p, count);
  }
  for (const t of request.tools ?? []) {
    total += count(t.name) + count(t.description ?? '') + count(JSON.stringify(t.parameters));
  }
  for (const text of request.embedding?.texts ?? []) total += count(text);
  return total;
}

/** Fast, high estimate for reservations and routing (see the file comment). */
export function estimateInputTokens(request: CanonicalRequest): number {
  return inputTokens(request, estimateTextTokens);
}

/** o200k_base count, for answers where the count itself is asked for. */
export function countInputTokens(request: CanonicalRequest): number {
  return inputTokens(request, countTextTokens);
}
