// Which module handles which dialect and which provider. Adding one means one line here.
import type { IngressDialect, ProviderType } from './contract.ts';
import type { DialectAdapter, ProviderAdapter } from './canonical/adapter.ts';
import { openaiChatDialect } from './dialects/openai-chat/index.ts';
import { openaiProvider } from './openai/index.ts';
import { anthropicProvider } from './anthropic/index.ts';
import { geminiProvider } from './gemini/index.ts';
import { bedrockProvider } from './bedrock/index.ts';
import { geminiDialect } from './dialects/gemini/index.ts';
import { anthropicCountTokensDialect, anthropicMessagesDialect } from './dialects/anthropic-messages/index.ts';

export const DIALECTS: Partial<Record<IngressDialect, DialectAdapter>> = {
  'openai-chat': openaiChatDialect,
  'anthropic-messages': anthropicMessagesDialect,
  'anthropic-count-tokens': anthropicCountTokensDialect,
  'gemini-generate': geminiDialect,
};

export const PROVIDERS: Partial<Record<ProviderType, ProviderAdapter>> = {
  openai: openaiProvider,
  anthropic: anthropicProvider,
  gemini: geminiProvider,
  bedrock: bedrockProvider,
};
