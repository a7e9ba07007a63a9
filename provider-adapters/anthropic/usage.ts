// Anthropic usage <-> canonical. Anthropic's input_tokens excludes cache reads and writes;
// canonical inputTokens includes them (OpenAI semantics), with the cache parts broken out.
import type { Usage } from '../contract.ts';
import { isObject, num } from '../canonical/json.ts';

export function usageFromAnthropic(u: unknown, previous?: Usage): Usage | undefined {
  if (!isObject(u)) return previous;
  const base = num(u.input_tokens);
  const read = num(u.cache_read_input_tokens);
  const write = num(u.cache_creation_input_tokens);
  const output = num(u.output_tokens);
  if (base === undefined && output === undefined) return previous;
  const usage: Usage = { ...(previous ?? { inputTokens: 0, outputTokens: 0 }) };
  if (base !== undefined) usage.inputTokens = base + (read ?? 0) + (write ?? 0);
  if (read !== undefined) usage.cachedInputTokens = read;
  if (write !== undefined) usage.cacheCreationInputTokens = write;
  if (output !== undefined) usage.outputTokens = output;
  return usage;
}

export function usageToAnthropic(u: Usage): Record<string, number> {
  const read = u.cachedInputTokens ?? 0;
  const write = u.cacheCreationInputTokens ?? 0;
  return {
    input_tokens: Math.max(0, u.inputTokens - read - write),
    output_tokens: u.outputTokens,
    cache_read_input_tokens: read,
    cache_creation_input_tokens: write,
  };
}
