// Azure OpenAI: OpenAI wire format, deployment-scoped paths and an api-version query parameter.
import type { ProviderAdapter } from '../canonical/adapter.ts';
import { createOpenAIFormatAdapter } from '../openai/adapter.ts';
import { OPENAI_QUIRKS } from '../openai/request.ts';

/** GA api-version used when the target does not pin one. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';
/** The Responses API is only served on preview api-versions. */
export const DEFAULT_AZURE_RESPONSES_API_VERSION = '2025-04-01-preview';

export const azureOpenAIProvider: ProviderAdapter = createOpenAIFormatAdapter({
  quirks: { ...OPENAI_QUIRKS, provider: 'azure-openai' },
  policy: {},
  nativeDialects: ['openai-chat', 'openai-responses', 'openai-embeddings'],
  route(target, model, op) {
    const host = new URL(target.baseUrl).host;
    if (op === 'responses') {
      const version = encodeURIComponent(target.apiVersion ?? DEFAULT_AZURE_RESPONSES_API_VERSION);
      return { host, path: `/openai/responses?api-version=${version}` };
    }
    const deployment = encodeURIComponent(target.deployment ?? model);
    const version = encodeURIComponent(target.apiVersion ?? DEFAULT_AZURE_API_VERSION);
    return { host, path: `/openai/deployments/${deployment}/${op}?api-version=${version}` };
  },
});
