// The OpenAI Responses wire format read into the canonical model: used when an openai-responses
// request was passed through to OpenAI / Azure (so the upstream answers in Responses format) but
// the answer still has to be translated, because output guardrails need its text.
import type { StreamDecoder } from '../canonical/adapter.ts';
import { arr, isObject, obj, str } from '../canonical/json.ts';
import { toGatewayError } from '../canonical/provider-error.ts';
import type { CanonicalResponse, CanonicalStreamEvent, FinishReason, TextPart, ToolCallPart } from '../canonical/types.ts';
import { SseParser, type SseEvent } from '../sse/parser.ts';
import { usageFromOpenAI } from './usage.ts';

function finishFromResponse(response: Record<string, unknown>, sawToolCall: boolean): FinishReason {
  const status = str(response.status);
  if (status === 'incomplete') {
    const reason = str(obj(response.incomplete_details).reason);
    return reason === 'content_filter' ? 'content_filter' : 'length';
  }
  if (status === 'failed') return 'error';
  return sawToolCall ? 'tool_calls' : 'stop';
}

function failedError(response: Record<string, unknown>): CanonicalStreamEvent {
  const e = obj(response.error);
  return { type: 'error', error: toGatewayError({ status: 500, message: str(e.message) ?? 'The upstream response failed', code: str(e.code) }, {}) };
}

export function fromOpenAIResponsesResponse(json: unknown): CanonicalResponse {
  const body = obj(json);
  const content: Array<TextPart | ToolCallPart> = [];
  let toolCalls = 0;
  for (const item of arr(body.output)) {
    const it = obj(item);
    if (it.type === 'message') {
      for (const part of arr(it.content)) {
        const p = obj(part);
        if (p.type === 'output_text') content.push({ type: 'text', text: str(p.text) ?? '' });
      }
    } else if (it.type === 'function_call') {
      toolCalls++;
      content.push({ type: 'tool_call', id: str(it.call_id) ?? str(it.id) ?? `call_${toolCalls}`, name: str(it.name) ?? '', arguments: str(it.arguments) ?? '' });
    }
  }
  const out: CanonicalResponse = { content, finishReason: finishFromResponse(body, toolCalls > 0) };
  const id = str(body.id);
  const model = str(body.model);
  const usage = usageFromOpenAI(body.usage);
  if (id) out.id = id;
  if (model) out.model = model;
  if (usage) out.usage = usage;
  return out;
}

export class OpenAIResponsesStreamDecoder implements StreamDecoder {
  private readonly sse = new SseParser();
  private done = false;
  /** output_index -> canonical tool index, for function_call items still open. */
  private readonly tools = new Map<number, number>();
  private toolCount = 0;

  push(chunk: Uint8Array): CanonicalStreamEvent[] {
    return this.handle(this.sse.push(chunk));
  }
  end(): CanonicalStreamEvent[] {
    return this.handle(this.sse.end());
  }
  complete(): boolean {
    return this.done;
  }

  private handle(events: SseEvent[]): CanonicalStreamEvent[] {
    const out: CanonicalStreamEvent[] = [];
    for (const ev of events) {
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        continue;
      }
      if (!isObject(data)) continue;
      const type = str(data.type) ?? ev.event ?? '';
      const outputIndex = typeof data.output_index === 'number' ? data.output_index : -1;
      switch (type) {
        case 'response.created': {
          const r = obj(data.response);
          out.push({ type: 'message_start', id: str(r.id), model: str(r.model) });
          break;
        }
        case 'response.output_text.delta': {
          const text = str(data.delta);
          if (text) out.push({ type: 'text_delta', text });
          break;
        }
        case 'response.output_item.added': {
          const item = obj(data.item);
          if (item.type !== 'function_call') break;
          const index = this.toolCount++;
          this.tools.set(outputIndex, index);
          out.push({ type: 'tool_call_start', index, id: str(item.call_id) ?? str(item.id) ?? `call_${index}`, name: str(item.name) ?? '' });
          break;
        }
        case 'response.function_call_arguments.delta': {
          const index = this.tools.get(outputIndex);
          const delta = str(data.delta);
          if (index !== undefined && delta) out.push({ type: 'tool_call_delta', index, argumentsDelta: delta });
          break;
        }
        case 'response.output_item.done': {
          const index = this.tools.get(outputIndex);
          if (index === undefined) break;
          this.tools.delete(outputIndex);
          out.push({ type: 'tool_call_end', index });
          break;
        }
        case 'response.completed':
        case 'response.incomplete': {
          const r = obj(data.response);
          for (const index of this.tools.values()) out.push({ type: 'tool_call_end', index });
          this.tools.clear();
          const usage = usageFromOpenAI(r.usage);
          out.push({ type: 'finish', reason: finishFromResponse(r, this.toolCount > 0) });
          if (usage) out.push({ type: 'usage', usage });
          this.done = true;
          break;
        }
        case 'response.failed':
          out.push(failedError(obj(data.response)));
          break;
        case 'error':
          out.push({ type: 'error', error: toGatewayError({ status: 500, message: str(data.message) ?? 'Upstream stream error', code: str(data.code) }, {}) });
          break;
      }
    }
    return out;
  }
}
