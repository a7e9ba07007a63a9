// Input-token estimate used before the call (budget reservation, local count_tokens).
// o200k_base over every text the model will read; each image counts a flat IMAGE_TOKEN_ESTIMATE
// (roughly OpenAI's 768x768 high-detail tile cost and Anthropic's ~1.15 megapixel figure), because
// adapters do no I/O and cannot know the image's size.
import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import type { CanonicalRequest, ContentPart } from './types.ts';

export const IMAGE_TOKEN_ESTIMATE = 765;
/** Per-message framing (role markers), as in OpenAI's cookbook counting recipe. */
const PER_MESSAGE_OVERHEAD = 3;

// The encoder is built once on first use: its rank table is immutable, so caching it is a pure memo.
let encoder: Tiktoken | undefined;
function tokenizer(): Tiktoken {
  encoder ??= new Tiktoken(o200kBase);
  return encoder;
}

export function countTextTokens(text: string): number {
  return text.length === 0 ? 0 : tokenizer().encode(text, [], []).length;
}

function partTokens(part: ContentPart): number {
  switch (part.type) {
    case 'text':
      return countTextTokens(part.text);
    case 'image':
      return IMAGE_TOKEN_ESTIMATE;
    case 'tool_call':
      return countTextTokens(part.name) + countTextTokens(part.arguments);
    case 'tool_result':
      return part.content.reduce((n, p) => n + partTokens(p), 0);
  }
}

export function estimateInputTokens(request: CanonicalRequest): number {
  let total = 0;
  if (request.system) total += countTextTokens(request.system) + PER_MESSAGE_OVERHEAD;
  for (const m of request.messages) {
    total += PER_MESSAGE_OVERHEAD;
    for (const p of m.content) total += partTokens(p);
  }
  for (const t of request.tools ?? []) {
    total += countTextTokens(t.name) + countTextTokens(t.description ?? '') + countTextTokens(JSON.stringify(t.parameters));
  }
  for (const text of request.embedding?.texts ?? []) total += countTextTokens(text);
  return total;
}
