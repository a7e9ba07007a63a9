// The gemini-generate dialect: POST /v1beta/models/{model}:generateContent | :streamGenerateContent.
import type { DialectAdapter } from '../../canonical/adapter.ts';
import { geminiErrorBody } from '../../gemini/errors.ts';
import { parseGemini } from './parse.ts';
import { renderGemini } from './render.ts';
import { GeminiStreamEncoder } from './stream.ts';

export const geminiDialect: DialectAdapter = {
  parse: parseGemini,
  renderResponse: renderGemini,
  createStreamEncoder: (ctx) => new GeminiStreamEncoder(ctx),
  errorBody: geminiErrorBody,
};
