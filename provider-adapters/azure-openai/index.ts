// Azure OpenAI: OpenAI wire format, deployment-scoped paths and an api-version query parameter.
import type { ProviderAdapter } from '../canonical/adapter.ts';
import { createOpenAIFormatAdapter } from '../openai/adapter.ts';
import { OPENAI_QUIRKS } from '../openai/request.ts';

/** GA api-version used when the target does not pin one. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';
/** The Responses API is only served on preview api-versions. */
export const DEFAULT_AZURE_RESPONSES_API_VERSION = '2025-04-01-preview';

/**
 * The api-version for the Responses API. A target pins one api-version for every operation, and a
 * GA version (the usual pin, for chat and embeddings) does not serve Responses: Azure answers 400.
 * So the pin is used only when it is itself a preview version that has the Responses API.
 */
export function responsesApiVersion(pinned: string | undefined): string {
  if (pinned && /^\d{4}-\d{2}-\d{2}-preview$/.test(pinned) && pinned >= '2025-03-01') return pinned;
  return DEFAULT_AZURE_RESPONSES_API_VERSION;
}

export const azureOpenAIProvider: ProviderAdapter = createOpenAIFormatAdapter({
  quirks: { ...OPENAI_QUIRKS, provider: 'azure-openai' },
  policy: {},
  nativeDialects: ['openai-chat', 'openai-responses', 'openai-embeddings'],
  route(target, model, op) {
    const host = new URL(target.baseUrl).host;
    if (op === 'responses') {
      const version = encodeURIComponent(responsesApiVersion(target.apiVersion));
      return { host, path: `/openai/responses?api-version=${version}` };
    }
    const deployment = encodeURIComponent(target.deployment ?? model);
    const version = encodeURIComponent(target.apiVersion ?? DEFAULT_AZURE_API_VERSION);
    return { host, path: `/openai/deployments/${deployment}/${op}?api-version=${version}` };
  },
  // Chat and embeddings name the deployment in the path; the Responses API names it as the model.
  bodyModel(target, model, op) {
    return op === 'responses' ? (target.deployment ?? model) : model;
  },
});
