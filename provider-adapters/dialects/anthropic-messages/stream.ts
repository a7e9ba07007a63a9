// Canonical stream events -> Anthropic Messages SSE (message_start, content blocks, message_delta, message_stop).
import { finishToAnthropic } from '../../anthropic/finish.ts';
import { usageToAnthropic } from '../../anthropic/usage.ts';
import type { RenderContext, StreamEncoder } from '../../canonical/adapter.ts';
import type { CanonicalStreamEvent, FinishReason } from '../../canonical/types.ts';
import type { GatewayErrorInfo, Usage } from '../../contract.ts';
import { sseJson } from '../../sse/encoder.ts';
import { anthropicErrorBody } from './render.ts';

function ev(type: string, body: Record<string, unknown>): string {
  return sseJson({ type, ...body }, type);
}

export class AnthropicStreamEncoder implements StreamEncoder {
  private readonly ctx: RenderContext;
  private started = false;
  private blockIndex = -1;
  private open: 'text' | 'tool' | undefined;
  private reason: FinishReason = 'stop';
  private stopSequence: string | undefined;
  private usage: Usage | undefined;

  constructor(ctx: RenderContext) {
    this.ctx = ctx;
  }

  private start(usage?: Usage): string {
    if (this.started) return '';
    this.started = true;
    const u = usage ? usageToAnthropic(usage) : { input_tokens: 0, output_tokens: 0 };
    return ev('message_start', {
      message: { id: `msg_${this.ctx.requestId}`, type: 'message', role: 'assistant', model: this.ctx.model, content: [], stop_reason: null, stop_sequence: null, usage: u },
    });
  }

  private close(): string {
    if (this.open === undefined) return '';
    this.open = undefined;
    return ev('content_block_stop', { index: this.blockIndex });
  }

  encode(e: CanonicalStreamEvent): string {
    switch (e.type) {
      case 'message_start':
        return this.start(e.usage);
      case 'text_delta': {
        let out = this.start();
        if (this.open !== 'text') {
          out += this.close();
          this.blockIndex++;
          this.open = 'text';
          out += ev('content_block_start', { index: this.blockIndex, content_block: { type: 'text', text: '' } });
        }
        return out + ev('content_block_delta', { index: this.blockIndex, delta: { type: 'text_delta', text: e.text } });
      }
      case 'tool_call_start': {
        let out = this.start() + this.close();
        this.blockIndex++;
        this.open = 'tool';
        out += ev('content_block_start', { index: this.blockIndex, content_block: { type: 'tool_use', id: e.id, name: e.name, input: {} } });
        return out;
      }
      case 'tool_call_delta':
        return ev('content_block_delta', { index: this.blockIndex, delta: { type: 'input_json_delta', partial_json: e.argumentsDelta } });
      case 'tool_call_end':
        return this.close();
      case 'finish':
        this.reason = e.reason;
        this.stopSequence = e.stopSequence;
        return this.start() + this.close();
      case 'usage':
        this.usage = e.usage;
        return '';
      case 'error':
        return this.fail(e.error);
    }
  }

  finish(): string {
    const usage = this.usage ? usageToAnthropic(this.usage) : { output_tokens: 0 };
    return (
      this.start() +
      this.close() +
      ev('message_delta', { delta: { stop_reason: finishToAnthropic(this.reason), stop_sequence: this.stopSequence ?? null }, usage }) +
      ev('message_stop', {})
    );
  }

  fail(error: GatewayErrorInfo): string {
    return sseJson(anthropicErrorBody(error), 'error');
  }
}
