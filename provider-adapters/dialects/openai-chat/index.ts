// The openai-chat ingress dialect: POST /v1/chat/completions.
import type { DialectAdapter } from '../../canonical/adapter.ts';
import { parseOpenAIChat } from './parse.ts';
import { openAIErrorBody, renderOpenAIChat } from './render.ts';
import { OpenAIChatStreamEncoder } from './stream.ts';

export const openaiChatDialect: DialectAdapter = {
  parse: parseOpenAIChat,
  renderResponse: renderOpenAIChat,
  createStreamEncoder: (ctx) => new OpenAIChatStreamEncoder(ctx),
  errorBody: openAIErrorBody,
};
