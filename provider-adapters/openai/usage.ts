// OpenAI usage objects (chat, responses, embeddings) -> canonical Usage, and back.
import type { Usage } from '../contract.ts';
import { isObject, num, obj } from '../canonical/json.ts';

export function usageFromOpenAI(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined;
  // Chat uses prompt/completion_tokens, Responses uses input/output_tokens.
  const input = num(u.prompt_tokens) ?? num(u.input_tokens);
  const output = num(u.completion_tokens) ?? num(u.output_tokens) ?? 0;
  if (input === undefined) return undefined;
  const usage: Usage = { inputTokens: input, outputTokens: output };
  const cached = num(obj(u.prompt_tokens_details).cached_tokens) ?? num(obj(u.input_tokens_details).cached_tokens);
  const reasoning = num(obj(u.completion_tokens_details).reasoning_tokens) ?? num(obj(u.output_tokens_details).reasoning_tokens);
  if (cached !== undefined) usage.cachedInputTokens = cached;
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  return usage;
}

export function usageToOpenAIChat(u: Usage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
  };
  if (u.cachedInputTokens !== undefined) out.prompt_tokens_details = { cached_tokens: u.cachedInputTokens };
  if (u.reasoningTokens !== undefined) out.completion_tokens_details = { reasoning_tokens: u.reasoningTokens };
  return out;
}
