// Bedrock Converse usage -> canonical. Like Anthropic, inputTokens excludes cache reads/writes.
import type { Usage } from '../contract.ts';
import { isObject, num } from '../canonical/json.ts';

export function usageFromBedrock(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined;
  const input = num(u.inputTokens);
  if (input === undefined) return undefined;
  const read = num(u.cacheReadInputTokens);
  const write = num(u.cacheWriteInputTokens);
  const usage: Usage = { inputTokens: input + (read ?? 0) + (write ?? 0), outputTokens: num(u.outputTokens) ?? 0 };
  if (read !== undefined) usage.cachedInputTokens = read;
  if (write !== undefined) usage.cacheCreationInputTokens = write;
  return usage;
}
