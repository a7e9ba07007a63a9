// The anthropic-messages dialect (POST /v1/messages) and anthropic-count-tokens (/v1/messages/count_tokens).
import type { DialectAdapter } from '../../canonical/adapter.ts';
import { parseAnthropicMessages } from './parse.ts';
import { anthropicErrorBody, renderAnthropicMessage } from './render.ts';
import { AnthropicStreamEncoder } from './stream.ts';

export const anthropicMessagesDialect: DialectAdapter = {
  parse: (raw, opts) => parseAnthropicMessages(raw, opts),
  renderResponse: renderAnthropicMessage,
  createStreamEncoder: (ctx) => new AnthropicStreamEncoder(ctx),
  errorBody: anthropicErrorBody,
};

/** count_tokens: forwarded to Anthropic, answered locally (o200k estimate) for every other provider. */
export const anthropicCountTokensDialect: DialectAdapter = {
  ...anthropicMessagesDialect,
  parse: (raw, opts) => parseAnthropicMessages(raw, opts, true),
};
