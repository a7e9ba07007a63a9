// OpenAI Chat Completions JSON -> canonical response.
import { arr, isObject, obj, str } from '../canonical/json.ts';
import type { CanonicalResponse } from '../canonical/types.ts';
import { finishFromOpenAI } from './finish.ts';
import { usageFromOpenAI } from './usage.ts';

export function fromOpenAIChatResponse(json: unknown): CanonicalResponse {
  const body = obj(json);
  const choice = obj(arr(body.choices)[0]);
  const message = obj(choice.message);
  const content: CanonicalResponse['content'] = [];
  const text = str(message.content);
  if (text) content.push({ type: 'text', text });
  for (const tc of arr(message.tool_calls)) {
    if (!isObject(tc)) continue;
    const fn = obj(tc.function);
    content.push({ type: 'tool_call', id: str(tc.id) ?? '', name: str(fn.name) ?? '', arguments: str(fn.arguments) ?? '' });
  }
  const out: CanonicalResponse = { content, finishReason: finishFromOpenAI(choice.finish_reason) };
  const id = str(body.id);
  const model = str(body.model);
  if (id) out.id = id;
  if (model) out.model = model;
  const usage = usageFromOpenAI(body.usage);
  if (usage) out.usage = usage;
  return out;
}
