// Gemini GenerateContentResponse -> canonical response.
import { arr, isObject, obj, str } from '../canonical/json.ts';
import type { CanonicalResponse } from '../canonical/types.ts';
import { finishFromGemini } from './finish.ts';
import { usageFromGemini } from './usage.ts';

export function fromGeminiResponse(json: unknown): CanonicalResponse {
  const body = obj(json);
  const cand = obj(arr(body.candidates)[0]);
  const content: CanonicalResponse['content'] = [];
  let calls = 0;
  for (const p of arr(obj(cand.content).parts)) {
    if (!isObject(p) || p.thought === true) continue; // thought summaries are not the answer
    if (typeof p.text === 'string') content.push({ type: 'text', text: p.text });
    if (isObject(p.functionCall)) {
      const fc = p.functionCall;
      content.push({ type: 'tool_call', id: str(fc.id) ?? `call_${calls}`, name: str(fc.name) ?? '', arguments: JSON.stringify(fc.args ?? {}) });
      calls++;
    }
  }
  // A blocked prompt has no candidates, only promptFeedback.blockReason.
  const blocked = arr(body.candidates).length === 0 && str(obj(body.promptFeedback).blockReason) !== undefined;
  const out: CanonicalResponse = { content, finishReason: blocked ? 'content_filter' : finishFromGemini(cand.finishReason, calls > 0) };
  const id = str(body.responseId);
  const model = str(body.modelVersion);
  if (id) out.id = id;
  if (model) out.model = model;
  const usage = usageFromGemini(body.usageMetadata);
  if (usage) out.usage = usage;
  return out;
}
