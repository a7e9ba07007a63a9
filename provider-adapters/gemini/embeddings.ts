// OpenAI-style embeddings -> Gemini batchEmbedContents, and back.
import { arr, isObject, obj } from '../canonical/json.ts';
import type { CanonicalEmbeddingResponse, EmbeddingInput } from '../canonical/types.ts';

export function toGeminiEmbeddingsBody(emb: EmbeddingInput, model: string): Record<string, unknown> {
  return {
    requests: emb.texts.map((text) => ({
      model: `models/${model}`,
      content: { parts: [{ text }] },
      ...(emb.dimensions !== undefined ? { outputDimensionality: emb.dimensions } : {}),
    })),
  };
}

/** Gemini returns no token counts for embeddings; usage is left to the caller's estimate. */
export function fromGeminiEmbeddingsResponse(json: unknown): CanonicalEmbeddingResponse {
  return { vectors: arr(obj(json).embeddings).filter(isObject).map((e) => arr(e.values).map(Number)) };
}
