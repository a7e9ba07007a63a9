// OpenAI embeddings response -> canonical vectors (float arrays or base64 float32).
import { arr, isObject, obj } from '../canonical/json.ts';
import type { CanonicalEmbeddingResponse } from '../canonical/types.ts';
import { usageFromOpenAI } from './usage.ts';

export function decodeBase64Floats(b64: string): number[] {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 4)));
}

export function encodeBase64Floats(v: number[]): string {
  const bytes = new Uint8Array(new Float32Array(v).buffer);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromOpenAIEmbeddingsResponse(json: unknown): CanonicalEmbeddingResponse {
  const body = obj(json);
  const items = arr(body.data)
    .filter(isObject)
    .sort((a, b) => Number(a.index ?? 0) - Number(b.index ?? 0));
  const vectors = items.map((d) =>
    typeof d.embedding === 'string' ? decodeBase64Floats(d.embedding) : arr(d.embedding).map(Number),
  );
  const usage = usageFromOpenAI({ output_tokens: 0, ...obj(body.usage) });
  return usage ? { vectors, usage } : { vectors };
}
