// Canonical stream events -> OpenAI Responses streaming events (typed SSE with sequence numbers).
import type { RenderContext, StreamEncoder } from '../../canonical/adapter.ts';
import type { CanonicalStreamEvent, FinishReason } from '../../canonical/types.ts';
import type { GatewayErrorInfo, Usage } from '../../contract.ts';
import { sseJson } from '../../sse/encoder.ts';
import { functionCallItem, messageItem, responseObject } from './render.ts';

type Open = { kind: 'message'; id: string; index: number; text: string } | { kind: 'call'; id: string; callId: string; name: string; index: number; args: string };

export class ResponsesStreamEncoder implements StreamEncoder {
  private readonly ctx: RenderContext;
  private seq = 0;
  private started = false;
  private open: Open | undefined;
  private readonly output: unknown[] = [];
  private reason: FinishReason | undefined;
  private usage: Usage | undefined;

  constructor(ctx: RenderContext) {
    this.ctx = ctx;
  }

  private emit(type: string, body: Record<string, unknown>): string {
    return sseJson({ type, sequence_number: this.seq++, ...body }, type);
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    const response = responseObject(this.ctx, [], undefined, undefined, 'in_progress');
    return this.emit('response.created', { response }) + this.emit('response.in_progress', { response });
  }

  private close(): string {
    const o = this.open;
    if (!o) return '';
    this.open = undefined;
    if (o.kind === 'message') {
      const item = messageItem(o.id, o.text);
      this.output.push(item);
      const part = { type: 'output_text', text: o.text, annotations: [] };
      return (
        this.emit('response.output_text.done', { item_id: o.id, output_index: o.index, content_index: 0, text: o.text }) +
        this.emit('response.content_part.done', { item_id: o.id, output_index: o.index, content_index: 0, part }) +
        this.emit('response.output_item.done', { output_index: o.index, item })
      );
    }
    const item = functionCallItem(o.id, o.callId, o.name, o.args);
    this.output.push(item);
    return (
      this.emit('response.function_call_arguments.done', { item_id: o.id, output_index: o.index, arguments: o.args }) +
      this.emit('response.output_item.done', { output_index: o.index, item })
    );
  }

  encode(ev: CanonicalStreamEvent): string {
    switch (ev.type) {
      case 'message_start':
        return this.start();
      case 'text_delta': {
        let out = this.start();
        if (this.open?.kind !== 'message') {
          out += this.close();
          const o: Open = { kind: 'message', id: `msg_${this.ctx.requestId}_${this.output.length}`, index: this.output.length, text: '' };
          this.open = o;
          out += this.emit('response.output_item.added', { output_index: o.index, item: { ...messageItem(o.id, '', 'in_progress'), content: [] } });
          out += this.emit('response.content_part.added', { item_id: o.id, output_index: o.index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
        }
        const o = this.open as Extract<Open, { kind: 'message' }>;
        o.text += ev.text;
        return out + this.emit('response.output_text.delta', { item_id: o.id, output_index: o.index, content_index: 0, delta: ev.text });
      }
      case 'tool_call_start': {
        const out = this.start() + this.close();
        const o: Open = { kind: 'call', id: `fc_${this.ctx.requestId}_${this.output.length}`, callId: ev.id, name: ev.name, index: this.output.length, args: '' };
        this.open = o;
        return out + this.emit('response.output_item.added', { output_index: o.index, item: functionCallItem(o.id, o.callId, o.name, '', 'in_progress') });
      }
      case 'tool_call_delta': {
        if (this.open?.kind !== 'call') return '';
        this.open.args += ev.argumentsDelta;
        return this.emit('response.function_call_arguments.delta', { item_id: this.open.id, output_index: this.open.index, delta: ev.argumentsDelta });
      }
      case 'tool_call_end':
        return this.close();
      case 'finish':
        this.reason = ev.reason;
        return this.start() + this.close();
      case 'usage':
        this.usage = ev.usage;
        return '';
      case 'error':
        return this.fail(ev.error);
    }
  }

  finish(): string {
    const out = this.start() + this.close();
    const response = responseObject(this.ctx, this.output, this.reason, this.usage);
    const type = response.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
    return out + this.emit(type, { response });
  }

  fail(error: GatewayErrorInfo): string {
    return this.emit('error', { code: error.code, message: error.message, param: error.param ?? null });
  }
}
