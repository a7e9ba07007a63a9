// The Anthropic provider (Messages API, and count_tokens when the client asked for it).
import type { ProviderAdapter } from '../canonical/adapter.ts';
import { fail, unsupportedParam } from '../canonical/errors.ts';
import { isObject, jsonBytes, obj, str, type JsonObject } from '../canonical/json.ts';
import { baseParts } from '../canonical/url.ts';
import type { ProviderTarget } from '../canonical/types.ts';
import type { WireRequest } from '../contract.ts';
import { mapAnthropicError } from './errors.ts';
import { toAnthropicBody } from './request.ts';
import { fromAnthropicResponse } from './response.ts';
import { AnthropicPassthrough, AnthropicStreamDecoder } from './stream.ts';
import { usageFromAnthropic } from './usage.ts';

export const ANTHROPIC_VERSION = '2023-06-01';

function wire(target: ProviderTarget, suffix: string, body: JsonObject): WireRequest {
  const { host, prefix } = baseParts(target.baseUrl, '/v1');
  return {
    method: 'POST',
    path: `${prefix}/${suffix}`,
    headers: { 'content-type': 'application/json', host, 'anthropic-version': ANTHROPIC_VERSION },
    body: jsonBytes(body),
  };
}

export const anthropicProvider: ProviderAdapter = {
  nativeDialects: ['anthropic-messages', 'anthropic-count-tokens'],

  buildChat(request, target, model) {
    const { body, dropped } = toAnthropicBody(request, model);
    return { wire: wire(target, 'messages', body), droppedParams: dropped };
  },

  parseChatResponse: fromAnthropicResponse,
  createStreamDecoder: () => new AnthropicStreamDecoder(),
  mapError: mapAnthropicError,

  passthrough(dialect, raw, _request, target, model) {
    if (!isObject(raw)) fail(unsupportedParam('body', 'anthropic'));
    const suffix = dialect === 'anthropic-count-tokens' ? 'messages/count_tokens' : 'messages';
    return { wire: wire(target, suffix, { ...raw, model }), droppedParams: [] };
  },

  passthroughUsage(dialect, json) {
    const body = obj(json);
    if (dialect === 'anthropic-count-tokens') return {};
    const usage = usageFromAnthropic(body.usage);
    const finishReason = str(body.stop_reason);
    return { ...(usage ? { usage } : {}), ...(finishReason ? { finishReason } : {}) };
  },

  createPassthroughObserver: () => new AnthropicPassthrough(),
};
