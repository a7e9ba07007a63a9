// Anthropic Messages JSON -> canonical response.
import { arr, isObject, obj, str } from '../canonical/json.ts';
import { STRUCTURED_OUTPUT_TOOL } from '../canonical/params.ts';
import type { CanonicalResponse } from '../canonical/types.ts';
import { finishFromAnthropic } from './finish.ts';
import { usageFromAnthropic } from './usage.ts';

export function fromAnthropicResponse(json: unknown): CanonicalResponse {
  const body = obj(json);
  const content: CanonicalResponse['content'] = [];
  let structured = false;
  for (const b of arr(body.content)) {
    if (!isObject(b)) continue;
    if (b.type === 'text') content.push({ type: 'text', text: str(b.text) ?? '' });
    else if (b.type === 'tool_use' && b.name === STRUCTURED_OUTPUT_TOOL) {
      // Emulated JSON mode: the forced tool's input is the answer.
      structured = true;
      content.push({ type: 'text', text: JSON.stringify(b.input ?? {}) });
    } else if (b.type === 'tool_use') {
      content.push({ type: 'tool_call', id: str(b.id) ?? '', name: str(b.name) ?? '', arguments: JSON.stringify(b.input ?? {}) });
    }
  }
  let finishReason = finishFromAnthropic(body.stop_reason);
  if (structured && finishReason === 'tool_calls') finishReason = 'stop';
  const out: CanonicalResponse = { content, finishReason };
  const stopSequence = str(body.stop_sequence);
  if (stopSequence) out.stopSequence = stopSequence;
  const id = str(body.id);
  const model = str(body.model);
  if (id) out.id = id;
  if (model) out.model = model;
  const usage = usageFromAnthropic(body.usage);
  if (usage) out.usage = usage;
  return out;
}
