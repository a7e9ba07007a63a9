// Our provider types -> @pydantic/genai-prices provider ids. Self-hosted and generic
// OpenAI-compatible providers have no catalog price: they are priced by config overrides.
import type { ProviderType } from '../../provider-adapters/contract.ts';

const CATALOG_PROVIDER: Record<ProviderType, string | undefined> = {
  openai: 'openai',
  'azure-openai': 'azure',
  anthropic: 'anthropic',
  gemini: 'google',
  bedrock: 'aws',
  groq: 'groq',
  mistral: 'mistral',
  vllm: undefined,
  ollama: undefined,
  'openai-compatible': undefined,
};

export function catalogProviderId(provider: ProviderType): string | undefined {
  return CATALOG_PROVIDER[provider];
}
