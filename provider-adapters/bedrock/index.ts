// The Bedrock provider (Converse / ConverseStream; Titan text embeddings through InvokeModel).
// Requests are signed by signBedrockRequest after translation, by the caller.
import type { ProviderAdapter } from '../canonical/adapter.ts';
import { fail, invalidBody, unsupportedParam } from '../canonical/errors.ts';
import { jsonBytes, num, obj, arr } from '../canonical/json.ts';
import { settleUnmapped } from '../canonical/params.ts';
import type { ProviderTarget } from '../canonical/types.ts';
import type { WireRequest } from '../contract.ts';
import { mapBedrockError } from './errors.ts';
import { toConverseBody } from './request.ts';
import { fromConverseResponse } from './response.ts';
import { ConverseStreamDecoder } from './stream.ts';

function host(target: ProviderTarget): string {
  if (target.baseUrl) return new URL(target.baseUrl).host;
  if (!target.region) fail(invalidBody('Bedrock target needs a region or a base URL'));
  return `bedrock-runtime.${target.region}.amazonaws.com`;
}

function wire(target: ProviderTarget, model: string, action: string, body: unknown, accept: string): WireRequest {
  return {
    method: 'POST',
    // Model ids and ARNs contain ':' and '/', which must be percent-encoded inside the path segment.
    path: `/model/${encodeURIComponent(model)}/${action}`,
    headers: { 'content-type': 'application/json', accept, host: host(target) },
    body: jsonBytes(body),
  };
}

export const bedrockProvider: ProviderAdapter = {
  nativeDialects: [],

  buildChat(request, target, model) {
    const { body, dropped } = toConverseBody(request);
    const stream = request.stream;
    return {
      wire: wire(target, model, stream ? 'converse-stream' : 'converse', body, stream ? 'application/vnd.amazon.eventstream' : 'application/json'),
      droppedParams: dropped,
    };
  },

  buildEmbeddings(request, target, model) {
    const emb = request.embedding;
    if (!emb) fail(invalidBody("'input' is required", 'input'));
    // Titan Text Embeddings V2 takes one text per InvokeModel call.
    if (emb.texts.length !== 1) fail(unsupportedParam('input', 'bedrock', 'one input string per request'));
    const dropped: string[] = [];
    settleUnmapped(request, 'bedrock', dropped);
    if (request.user !== undefined) dropped.push('user');
    const body = { inputText: emb.texts[0], ...(emb.dimensions !== undefined ? { dimensions: emb.dimensions } : {}) };
    return { wire: wire(target, model, 'invoke', body, 'application/json'), droppedParams: dropped };
  },

  parseChatResponse: fromConverseResponse,
  parseEmbeddingsResponse(json) {
    const body = obj(json);
    const tokens = num(body.inputTextTokenCount);
    const vectors = [arr(body.embedding).map(Number)];
    return tokens === undefined ? { vectors } : { vectors, usage: { inputTokens: tokens, outputTokens: 0 } };
  },
  createStreamDecoder: () => new ConverseStreamDecoder(),
  mapError: mapBedrockError,
};
