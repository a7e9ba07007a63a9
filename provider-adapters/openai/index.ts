// The OpenAI provider (api.openai.com or any base URL with the same API).
import type { ProviderAdapter } from '../canonical/adapter.ts';
import { baseParts } from '../canonical/url.ts';
import { createOpenAIFormatAdapter } from './adapter.ts';
import { OPENAI_QUIRKS } from './request.ts';

export const openaiProvider: ProviderAdapter = createOpenAIFormatAdapter({
  quirks: OPENAI_QUIRKS,
  policy: {},
  nativeDialects: ['openai-chat', 'openai-responses', 'openai-embeddings'],
  route(target, _model, op) {
    const { host, prefix } = baseParts(target.baseUrl, '/v1');
    return { host, path: `${prefix}/${op}` };
  },
});
