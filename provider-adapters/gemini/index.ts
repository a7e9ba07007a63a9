// The Gemini provider (Generative Language API, generateContent / streamGenerateContent).
import type { ProviderAdapter } from '../canonical/adapter.ts';
import { fail, invalidBody, unsupportedParam } from '../canonical/errors.ts';
import { isObject, jsonBytes, obj, str, arr } from '../canonical/json.ts';
import { settleUnmapped } from '../canonical/params.ts';
import type { ProviderTarget } from '../canonical/types.ts';
import { baseParts } from '../canonical/url.ts';
import type { WireRequest } from '../contract.ts';
import { fromGeminiEmbeddingsResponse, toGeminiEmbeddingsBody } from './embeddings.ts';
import { mapGeminiError } from './errors.ts';
import { toGeminiBody } from './request.ts';
import { fromGeminiResponse } from './response.ts';
import { GeminiPassthrough, GeminiStreamDecoder } from './stream.ts';
import { usageFromGemini } from './usage.ts';

function wire(target: ProviderTarget, model: string, method: string, body: unknown): WireRequest {
  const { host, prefix } = baseParts(target.baseUrl, '/v1beta');
  return {
    method: 'POST',
    path: `${prefix}/models/${encodeURIComponent(model)}:${method}`,
    headers: { 'content-type': 'application/json', host },
    body: jsonBytes(body),
  };
}

export const geminiProvider: ProviderAdapter = {
  nativeDialects: ['gemini-generate'],

  buildChat(request, target, model) {
    const { body, dropped } = toGeminiBody(request);
    const method = request.stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    return { wire: wire(target, model, method, body), droppedParams: dropped };
  },

  buildEmbeddings(request, target, model) {
    if (!request.embedding) fail(invalidBody("'input' is required", 'input'));
    const dropped: string[] = [];
    settleUnmapped(request, 'gemini', dropped);
    if (request.user !== undefined) dropped.push('user');
    if (request.embedding.encodingFormat === 'base64') {
      // Rendered back as base64 by the dialect; nothing to tell Gemini.
    }
    return { wire: wire(target, model, 'batchEmbedContents', toGeminiEmbeddingsBody(request.embedding, model)), droppedParams: dropped };
  },

  parseChatResponse: fromGeminiResponse,
  parseEmbeddingsResponse: fromGeminiEmbeddingsResponse,
  createStreamDecoder: () => new GeminiStreamDecoder(),
  mapError: mapGeminiError,

  passthrough(_dialect, raw, request, target, model) {
    if (!isObject(raw)) fail(unsupportedParam('body', 'gemini'));
    const method = request.stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    return { wire: wire(target, model, method, raw), droppedParams: [] };
  },

  passthroughUsage(_dialect, json) {
    const body = obj(json);
    const usage = usageFromGemini(body.usageMetadata);
    const finishReason = str(obj(arr(body.candidates)[0]).finishReason);
    return { ...(usage ? { usage } : {}), ...(finishReason ? { finishReason } : {}) };
  },

  createPassthroughObserver: () => new GeminiPassthrough(),
};
