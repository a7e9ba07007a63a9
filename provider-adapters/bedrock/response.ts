// Bedrock Converse JSON -> canonical response.
import { arr, isObject, obj, str } from '../canonical/json.ts';
import { STRUCTURED_OUTPUT_TOOL } from '../canonical/params.ts';
import type { CanonicalResponse } from '../canonical/types.ts';
import { finishFromBedrock } from './finish.ts';
import { usageFromBedrock } from './usage.ts';

export function fromConverseResponse(json: unknown): CanonicalResponse {
  const body = obj(json);
  const content: CanonicalResponse['content'] = [];
  let structured = false;
  for (const b of arr(obj(obj(body.output).message).content)) {
    if (!isObject(b)) continue;
    if (typeof b.text === 'string') content.push({ type: 'text', text: b.text });
    if (isObject(b.toolUse)) {
      const t = b.toolUse;
      if (t.name === STRUCTURED_OUTPUT_TOOL) {
        structured = true;
        content.push({ type: 'text', text: JSON.stringify(t.input ?? {}) });
      } else {
        content.push({ type: 'tool_call', id: str(t.toolUseId) ?? '', name: str(t.name) ?? '', arguments: JSON.stringify(t.input ?? {}) });
      }
    }
  }
  let finishReason = finishFromBedrock(body.stopReason);
  if (structured && finishReason === 'tool_calls') finishReason = 'stop';
  const out: CanonicalResponse = { content, finishReason };
  const usage = usageFromBedrock(body.usage);
  if (usage) out.usage = usage;
  return out;
}
