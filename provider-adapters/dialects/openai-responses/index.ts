// The openai-responses dialect: POST /v1/responses.
import type { DialectAdapter } from '../../canonical/adapter.ts';
import { openAIErrorBody } from '../openai-chat/render.ts';
import { parseOpenAIResponses } from './parse.ts';
import { renderOpenAIResponses } from './render.ts';
import { ResponsesStreamEncoder } from './stream.ts';

export const openaiResponsesDialect: DialectAdapter = {
  parse: parseOpenAIResponses,
  renderResponse: renderOpenAIResponses,
  createStreamEncoder: (ctx) => new ResponsesStreamEncoder(ctx),
  errorBody: openAIErrorBody,
};
