// Canonical stream events -> Gemini SSE chunks (alt=sse). Function calls are sent whole,
// as Gemini does, so their argument deltas are buffered until the call ends.
import type { RenderContext, StreamEncoder } from '../../canonical/adapter.ts';
import type { CanonicalStreamEvent, FinishReason } from '../../canonical/types.ts';
import type { GatewayErrorInfo, Usage } from '../../contract.ts';
import { finishToGemini } from '../../gemini/finish.ts';
import { geminiErrorBody } from '../../gemini/errors.ts';
import { usageToGemini } from '../../gemini/usage.ts';
import { sseJson } from '../../sse/encoder.ts';
import { toolInput } from '../anthropic-messages/render.ts';

export class GeminiStreamEncoder implements StreamEncoder {
  private readonly ctx: RenderContext;
  private readonly calls = new Map<number, { id: string; name: string; args: string }>();
  private reason: FinishReason = 'stop';
  private usage: Usage | undefined;

  constructor(ctx: RenderContext) {
    this.ctx = ctx;
  }

  private chunk(parts: unknown[], extra: Record<string, unknown> = {}, candidateExtra: Record<string, unknown> = {}): string {
    return sseJson({
      candidates: [{ content: { parts, role: 'model' }, index: 0, ...candidateExtra }],
      modelVersion: this.ctx.model,
      responseId: this.ctx.requestId,
      ...extra,
    });
  }

  encode(ev: CanonicalStreamEvent): string {
    switch (ev.type) {
      case 'text_delta':
        return this.chunk([{ text: ev.text }]);
      case 'tool_call_start':
        this.calls.set(ev.index, { id: ev.id, name: ev.name, args: '' });
        return '';
      case 'tool_call_delta': {
        const c = this.calls.get(ev.index);
        if (c) c.args += ev.argumentsDelta;
        return '';
      }
      case 'tool_call_end': {
        const c = this.calls.get(ev.index);
        if (!c) return '';
        this.calls.delete(ev.index);
        return this.chunk([{ functionCall: { id: c.id, name: c.name, args: toolInput(c.args) } }]);
      }
      case 'finish':
        this.reason = ev.reason;
        return '';
      case 'usage':
        this.usage = ev.usage;
        return '';
      case 'error':
        return this.fail(ev.error);
      case 'message_start':
        return '';
    }
  }

  finish(): string {
    const extra = this.usage ? { usageMetadata: usageToGemini(this.usage) } : {};
    return this.chunk([{ text: '' }], extra, { finishReason: finishToGemini(this.reason) });
  }

  fail(error: GatewayErrorInfo): string {
    return sseJson(geminiErrorBody(error));
  }
}
