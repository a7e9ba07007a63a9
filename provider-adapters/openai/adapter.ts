// One factory for every OpenAI-format provider (openai, azure-openai, the compatible presets):
// they differ only in paths, host and parameter quirks.
import type { IngressDialect, WireRequest } from '../contract.ts';
import type { BuiltRequest, ProviderAdapter } from '../canonical/adapter.ts';
import { fail, invalidBody, unsupportedParam } from '../canonical/errors.ts';
import { isObject, jsonBytes, compact, type JsonObject } from '../canonical/json.ts';
import { settleUnmapped } from '../canonical/params.ts';
import type { CanonicalRequest, ProviderTarget } from '../canonical/types.ts';
import { mapOpenAIError } from './errors.ts';
import { fromOpenAIEmbeddingsResponse } from './embeddings.ts';
import { passthroughChatBody, type PassthroughPolicy } from './passthrough.ts';
import { toOpenAIChatBody, type OpenAIQuirks } from './request.ts';
import { fromOpenAIChatResponse } from './response.ts';
import { OpenAIChatPassthrough, OpenAIChatStreamDecoder } from './stream.ts';
import { usageFromOpenAI } from './usage.ts';
import { OpenAIResponsesPassthrough } from './responses-passthrough.ts';
import { fromOpenAIResponsesResponse, OpenAIResponsesStreamDecoder } from './responses-decode.ts';
import { arr, obj, str } from '../canonical/json.ts';

export type OpenAIOperation = 'chat/completions' | 'responses' | 'embeddings';

export interface OpenAIFormatOptions {
  quirks: OpenAIQuirks;
  policy: PassthroughPolicy;
  /** Host and path for an operation on this target. */
  route(target: ProviderTarget, model: string, op: OpenAIOperation): { host: string; path: string };
  nativeDialects: readonly IngressDialect[];
  /** The `model` the body carries for an operation (Azure's Responses API wants the deployment). */
  bodyModel?(target: ProviderTarget, model: string, op: OpenAIOperation): string;
}

function wire(route: { host: string; path: string }, body: JsonObject): WireRequest {
  return { method: 'POST', path: route.path, headers: { 'content-type': 'application/json', host: route.host }, body: jsonBytes(body) };
}

const OP_FOR_DIALECT: Partial<Record<IngressDialect, OpenAIOperation>> = {
  'openai-chat': 'chat/completions',
  'openai-responses': 'responses',
  'openai-embeddings': 'embeddings',
};

export function createOpenAIFormatAdapter(opts: OpenAIFormatOptions): ProviderAdapter {
  const { quirks } = opts;
  return {
    nativeDialects: opts.nativeDialects,

    buildChat(request: CanonicalRequest, target: ProviderTarget, model: string): BuiltRequest {
      const { body, dropped } = toOpenAIChatBody(request, model, quirks);
      return { wire: wire(opts.route(target, model, 'chat/completions'), body), droppedParams: dropped };
    },

    buildEmbeddings(request: CanonicalRequest, target: ProviderTarget, model: string): BuiltRequest {
      const emb = request.embedding;
      if (!emb) fail(invalidBody("'input' is required", 'input'));
      const dropped: string[] = [];
      settleUnmapped(request, quirks.provider, dropped);
      const body = compact({ model, input: emb.texts, dimensions: emb.dimensions, encoding_format: emb.encodingFormat, user: request.user });
      return { wire: wire(opts.route(target, model, 'embeddings'), body), droppedParams: dropped };
    },

    parseChatResponse: fromOpenAIChatResponse,
    parseEmbeddingsResponse: fromOpenAIEmbeddingsResponse,
    createStreamDecoder: () => new OpenAIChatStreamDecoder(),
    mapError: mapOpenAIError,

    passthrough(dialect, raw, _request, target, model) {
      const op = OP_FOR_DIALECT[dialect];
      if (!op || !isObject(raw)) fail(unsupportedParam('model', quirks.provider, `dialect ${dialect} cannot pass through`));
      const { body, dropped } = passthroughChatBody(raw, opts.bodyModel?.(target, model, op) ?? model, quirks, op === 'chat/completions' ? opts.policy : {});
      if (op !== 'chat/completions') delete body.stream_options;
      return { wire: wire(opts.route(target, model, op), body), droppedParams: dropped };
    },

    passthroughUsage(dialect, json) {
      const body = obj(json);
      if (dialect === 'openai-responses') {
        const usage = usageFromOpenAI(body.usage);
        return { usage, finishReason: str(body.status) };
      }
      const usage = usageFromOpenAI(body.usage);
      const finish = str(obj(arr(body.choices)[0]).finish_reason);
      return { usage, finishReason: finish };
    },

    createPassthroughObserver(dialect, clientWantsUsage) {
      return dialect === 'openai-responses' ? new OpenAIResponsesPassthrough() : new OpenAIChatPassthrough(clientWantsUsage);
    },

    // A passed-through Responses request is answered in Responses format, not chat format.
    parsePassthroughResponse(dialect, json) {
      return dialect === 'openai-responses' ? fromOpenAIResponsesResponse(json) : undefined;
    },
    createPassthroughDecoder(dialect) {
      return dialect === 'openai-responses' ? new OpenAIResponsesStreamDecoder() : undefined;
    },
  };
}
