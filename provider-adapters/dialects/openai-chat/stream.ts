// Canonical stream events -> OpenAI chat.completion.chunk SSE.
import type { RenderContext, StreamEncoder } from '../../canonical/adapter.ts';
import type { CanonicalStreamEvent } from '../../canonical/types.ts';
import type { GatewayErrorInfo, Usage } from '../../contract.ts';
import { finishToOpenAI } from '../../openai/finish.ts';
import { usageToOpenAIChat } from '../../openai/usage.ts';
import { sseEvent, sseJson } from '../../sse/encoder.ts';
import { openAIErrorBody } from './render.ts';

export class OpenAIChatStreamEncoder implements StreamEncoder {
  private readonly ctx: RenderContext;
  private started = false;
  private usage: Usage | undefined;

  constructor(ctx: RenderContext) {
    this.ctx = ctx;
  }

  private chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
    return sseJson({
      id: `chatcmpl-${this.ctx.requestId}`,
      object: 'chat.completion.chunk',
      created: this.ctx.created,
      model: this.ctx.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    return this.chunk({ role: 'assistant', content: '' });
  }

  encode(ev: CanonicalStreamEvent): string {
    switch (ev.type) {
      case 'message_start':
        return this.start();
      case 'text_delta':
        return this.start() + this.chunk({ content: ev.text });
      case 'tool_call_start':
        return this.start() + this.chunk({ tool_calls: [{ index: ev.index, id: ev.id, type: 'function', function: { name: ev.name, arguments: '' } }] });
      case 'tool_call_delta':
        return this.chunk({ tool_calls: [{ index: ev.index, function: { arguments: ev.argumentsDelta } }] });
      case 'tool_call_end':
        return '';
      case 'finish':
        return this.start() + this.chunk({}, finishToOpenAI(ev.reason));
      case 'usage':
        // Providers report usage in pieces; the client gets one final usage chunk.
        this.usage = ev.usage;
        return '';
      case 'error':
        return this.fail(ev.error);
    }
  }

  finish(): string {
    let out = '';
    if (this.ctx.clientWantsUsage && this.usage) {
      out += sseJson({
        id: `chatcmpl-${this.ctx.requestId}`,
        object: 'chat.completion.chunk',
        created: this.ctx.created,
        model: this.ctx.model,
        choices: [],
        usage: usageToOpenAIChat(this.usage),
      });
    }
    return out + sseEvent('[DONE]');
  }

  fail(error: GatewayErrorInfo): string {
    return sseJson(openAIErrorBody(error));
  }
}
