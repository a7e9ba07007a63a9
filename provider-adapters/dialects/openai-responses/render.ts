// Canonical response -> OpenAI Responses object.
import type { RenderContext } from '../../canonical/adapter.ts';
import type { CanonicalResponse, FinishReason } from '../../canonical/types.ts';
import type { Usage } from '../../contract.ts';

export function usageToResponses(u: Usage): Record<string, unknown> {
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cachedInputTokens ?? 0 },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

export function messageItem(id: string, text: string, status = 'completed'): Record<string, unknown> {
  return { type: 'message', id, status, role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] };
}

export function functionCallItem(id: string, callId: string, name: string, args: string, status = 'completed'): Record<string, unknown> {
  return { type: 'function_call', id, call_id: callId, name, arguments: args, status };
}

export function responseObject(ctx: RenderContext, output: unknown[], reason: FinishReason | undefined, usage: Usage | undefined, status?: string): Record<string, unknown> {
  const incomplete = reason === 'length' || reason === 'content_filter';
  return {
    id: `resp_${ctx.requestId}`,
    object: 'response',
    created_at: ctx.created,
    status: status ?? (incomplete ? 'incomplete' : 'completed'),
    error: null,
    incomplete_details: incomplete ? { reason: reason === 'length' ? 'max_output_tokens' : 'content_filter' } : null,
    model: ctx.model,
    output,
    usage: usage ? usageToResponses(usage) : null,
  };
}

export function renderOpenAIResponses(resp: CanonicalResponse, ctx: RenderContext): unknown {
  const output: unknown[] = [];
  const text = resp.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
  if (text) output.push(messageItem(`msg_${ctx.requestId}`, text));
  resp.content.forEach((p, i) => {
    if (p.type === 'tool_call') output.push(functionCallItem(`fc_${ctx.requestId}_${i}`, p.id, p.name, p.arguments));
  });
  return responseObject(ctx, output, resp.finishReason, resp.usage);
}
