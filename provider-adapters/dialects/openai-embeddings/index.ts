// The openai-embeddings dialect: POST /v1/embeddings.
import type { DialectAdapter } from '../../canonical/adapter.ts';
import { fail, invalidBody } from '../../canonical/errors.ts';
import { asObject, optInt, optString, reqString } from '../../canonical/read.ts';
import type { CanonicalRequest, EmbeddingInput } from '../../canonical/types.ts';
import { encodeBase64Floats } from '../../openai/embeddings.ts';
import { usageToOpenAIChat } from '../../openai/usage.ts';
import { openAIErrorBody } from '../openai-chat/render.ts';
import { OpenAIChatStreamEncoder } from '../openai-chat/stream.ts';
import { unmappedParams } from '../openai-chat/parse.ts';

const MAPPED = new Set(['model', 'input', 'dimensions', 'encoding_format', 'user']);

function parseEmbeddings(raw: unknown): CanonicalRequest {
  const body = asObject(raw, 'body');
  const unmapped = unmappedParams(body, MAPPED, new Set());
  const input = body.input;
  let texts: string[];
  if (typeof input === 'string') texts = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((s) => typeof s === 'string')) texts = input as string[];
  else if (Array.isArray(input) && input.length > 0 && input.every((s) => typeof s === 'number' || Array.isArray(s))) {
    // Token-id input only makes sense to an OpenAI tokenizer: passthrough works, translation is refused.
    texts = [];
    unmapped.push({ param: 'input', droppable: false });
  } else fail(invalidBody("'input' must be a non-empty string, array of strings or array of token arrays", 'input'));
  const embedding: EmbeddingInput = { texts };
  const dimensions = optInt(body, 'dimensions', 'dimensions', 1);
  if (dimensions !== undefined) embedding.dimensions = dimensions;
  const format = optString(body, 'encoding_format');
  if (format !== undefined && format !== 'float' && format !== 'base64') fail(invalidBody("'encoding_format' must be float or base64", 'encoding_format'));
  if (format !== undefined) embedding.encodingFormat = format;
  const req: CanonicalRequest = { operation: 'embeddings', model: reqString(body, 'model'), messages: [], stream: false, unmapped, embedding };
  const user = optString(body, 'user');
  if (user !== undefined) req.user = user;
  return req;
}

export const openaiEmbeddingsDialect: DialectAdapter = {
  parse: parseEmbeddings,
  renderResponse: () => fail(invalidBody('embeddings requests have no chat response')),
  renderEmbeddings(resp, request) {
    const base64 = request.encodingFormat === 'base64';
    const usage = resp.usage ?? { inputTokens: 0, outputTokens: 0 };
    const { prompt_tokens, total_tokens } = usageToOpenAIChat({ ...usage, outputTokens: 0 }) as { prompt_tokens: number; total_tokens: number };
    return {
      object: 'list',
      data: resp.vectors.map((v, index) => ({ object: 'embedding', index, embedding: base64 ? encodeBase64Floats(v) : v })),
      model: request.model,
      usage: { prompt_tokens, total_tokens },
    };
  },
  createStreamEncoder: (ctx) => new OpenAIChatStreamEncoder(ctx),
  errorBody: openAIErrorBody,
};
