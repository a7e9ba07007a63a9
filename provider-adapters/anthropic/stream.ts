// Anthropic Messages SSE -> canonical events, and the passthrough observer.
import type { StreamDecoder } from '../canonical/adapter.ts';
import { isObject, num, obj, str } from '../canonical/json.ts';
import { STRUCTURED_OUTPUT_TOOL } from '../canonical/params.ts';
import { toGatewayError } from '../canonical/provider-error.ts';
import type { CanonicalStreamEvent } from '../canonical/types.ts';
import type { Usage } from '../contract.ts';
import { SseParser, type SseEvent } from '../sse/parser.ts';
import { DecodingPassthrough } from '../sse/decoding-passthrough.ts';
import { finishFromAnthropic } from './finish.ts';
import { usageFromAnthropic } from './usage.ts';

type BlockKind = { kind: 'text' } | { kind: 'tool'; index: number } | { kind: 'structured' } | { kind: 'other' };

function errorEvent(data: Record<string, unknown>): CanonicalStreamEvent {
  const e = obj(data.error);
  const type = str(e.type);
  const status = type === 'overloaded_error' ? 503 : type === 'rate_limit_error' ? 429 : type === 'invalid_request_error' ? 400 : 500;
  return { type: 'error', error: toGatewayError({ status, message: str(e.message) ?? 'Upstream stream error', code: type === 'overloaded_error' ? 'overloaded' : undefined }, {}) };
}

export class AnthropicStreamDecoder implements StreamDecoder {
  private readonly sse = new SseParser();
  private readonly blocks = new Map<number, BlockKind>();
  private toolCount = 0;
  private structured = false;
  private usage: Usage | undefined;
  private done = false;

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
      this.event(data, out);
    }
    return out;
  }

  private event(data: Record<string, unknown>, out: CanonicalStreamEvent[]): void {
    switch (data.type) {
      case 'message_start': {
        const msg = obj(data.message);
        this.usage = usageFromAnthropic(msg.usage, this.usage);
        out.push({ type: 'message_start', id: str(msg.id), model: str(msg.model), usage: this.usage });
        if (this.usage) out.push({ type: 'usage', usage: this.usage });
        return;
      }
      case 'content_block_start': {
        const index = num(data.index) ?? 0;
        const block = obj(data.content_block);
        if (block.type === 'text') {
          this.blocks.set(index, { kind: 'text' });
          const text = str(block.text);
          if (text) out.push({ type: 'text_delta', text });
        } else if (block.type === 'tool_use' && block.name === STRUCTURED_OUTPUT_TOOL) {
          this.structured = true;
          this.blocks.set(index, { kind: 'structured' });
        } else if (block.type === 'tool_use') {
          const t = { kind: 'tool' as const, index: this.toolCount++ };
          this.blocks.set(index, t);
          out.push({ type: 'tool_call_start', index: t.index, id: str(block.id) ?? '', name: str(block.name) ?? '' });
        } else {
          this.blocks.set(index, { kind: 'other' }); // thinking, server tools: not part of the canonical answer
        }
        return;
      }
      case 'content_block_delta': {
        const b = this.blocks.get(num(data.index) ?? 0);
        const delta = obj(data.delta);
        if (delta.type === 'text_delta' && b?.kind === 'text') out.push({ type: 'text_delta', text: str(delta.text) ?? '' });
        if (delta.type === 'input_json_delta') {
          const partial = str(delta.partial_json) ?? '';
          if (b?.kind === 'tool' && partial) out.push({ type: 'tool_call_delta', index: b.index, argumentsDelta: partial });
          if (b?.kind === 'structured' && partial) out.push({ type: 'text_delta', text: partial });
        }
        return;
      }
      case 'content_block_stop': {
        const b = this.blocks.get(num(data.index) ?? 0);
        if (b?.kind === 'tool') out.push({ type: 'tool_call_end', index: b.index });
        return;
      }
      case 'message_delta': {
        const delta = obj(data.delta);
        let reason = finishFromAnthropic(delta.stop_reason);
        if (this.structured && reason === 'tool_calls') reason = 'stop';
        const stopSequence = str(delta.stop_sequence);
        out.push(stopSequence ? { type: 'finish', reason, stopSequence } : { type: 'finish', reason });
        this.usage = usageFromAnthropic(data.usage, this.usage);
        if (this.usage) out.push({ type: 'usage', usage: this.usage });
        return;
      }
      case 'message_stop':
        this.done = true;
        return;
      case 'error':
        out.push(errorEvent(data));
        return;
      default:
        return; // ping and future event types
    }
  }
}

/** anthropic-messages client, Anthropic provider: forward every event, observe usage and completion. */
export class AnthropicPassthrough extends DecodingPassthrough {
  constructor() {
    super(new AnthropicStreamDecoder());
  }
}
