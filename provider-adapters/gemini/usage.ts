// Gemini usageMetadata <-> canonical. promptTokenCount includes cached tokens;
// candidatesTokenCount excludes thinking, so canonical output adds thoughtsTokenCount back.
import type { Usage } from '../contract.ts';
import { isObject, num } from '../canonical/json.ts';

export function usageFromGemini(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined;
  const prompt = num(u.promptTokenCount);
  if (prompt === undefined) return undefined;
  const candidates = num(u.candidatesTokenCount) ?? 0;
  const thoughts = num(u.thoughtsTokenCount);
  const usage: Usage = { inputTokens: prompt + (num(u.toolUsePromptTokenCount) ?? 0), outputTokens: candidates + (thoughts ?? 0) };
  const cached = num(u.cachedContentTokenCount);
  if (cached !== undefined) usage.cachedInputTokens = cached;
  if (thoughts !== undefined) usage.reasoningTokens = thoughts;
  return usage;
}

export function usageToGemini(u: Usage): Record<string, number> {
  const out: Record<string, number> = {
    promptTokenCount: u.inputTokens,
    candidatesTokenCount: u.outputTokens - (u.reasoningTokens ?? 0),
    totalTokenCount: u.inputTokens + u.outputTokens,
  };
  if (u.cachedInputTokens !== undefined) out.cachedContentTokenCount = u.cachedInputTokens;
  if (u.reasoningTokens !== undefined) out.thoughtsTokenCount = u.reasoningTokens;
  return out;
}
