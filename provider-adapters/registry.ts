// Which module handles which dialect and which provider. Adding one means one line here.
import type { IngressDialect, ProviderType } from './contract.ts';
import type { DialectAdapter, ProviderAdapter } from './canonical/adapter.ts';
import { openaiChatDialect } from './dialects/openai-chat/index.ts';
import { openaiProvider } from './openai/index.ts';
import { anthropicProvider } from './anthropic/index.ts';
import { geminiProvider } from './gemini/index.ts';
import { bedrockProvider } from './bedrock/index.ts';
import { azureOpenAIProvider } from './azure-openai/index.ts';
import { groqProvider, mistralProvider, ollamaProvider, openAICompatibleProvider, vllmProvider } from './openai-compatible/index.ts';
import { geminiDialect } from './dialects/gemini/index.ts';
import { openaiResponsesDialect } from './dialects/openai-responses/index.ts';
import { openaiEmbeddingsDialect } from './dialects/openai-embeddings/index.ts';
import { anthropicCountTokensDialect, anthropicMessagesDialect } from './dialects/anthropic-messages/index.ts';

export const DIALECTS: Record<IngressDialect, DialectAdapter> = {
  'openai-chat': openaiChatDialect,
  'anthropic-messages': anthropicMessagesDialect,
  'anthropic-count-tokens': anthropicCountTokensDialect,
  'gemini-generate': geminiDialect,
  'openai-responses': openaiResponsesDialect,
  'openai-embeddings': openaiEmbeddingsDialect,
};

export const PROVIDERS: Record<ProviderType, ProviderAdapter> = {
  openai: openaiProvider,
  anthropic: anthropicProvider,
  gemini: geminiProvider,
  bedrock: bedrockProvider,
  'azure-openai': azureOpenAIProvider,
  groq: groqProvider,
  mistral: mistralProvider,
  vllm: vllmProvider,
  ollama: ollamaProvider,
  'openai-compatible': openAICompatibleProvider,
};
