// Canonical response -> OpenAI Chat Completions JSON.
import type { RenderContext } from '../../canonical/adapter.ts';
import type { CanonicalResponse } from '../../canonical/types.ts';
import type { GatewayErrorInfo } from '../../contract.ts';
import { finishToOpenAI } from '../../openai/finish.ts';
import { usageToOpenAIChat } from '../../openai/usage.ts';

export function renderOpenAIChat(resp: CanonicalResponse, ctx: RenderContext): unknown {
  const text = resp.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
  const calls = resp.content.flatMap((p) =>
    p.type === 'tool_call' ? [{ id: p.id, type: 'function', function: { name: p.name, arguments: p.arguments } }] : [],
  );
  const message: Record<string, unknown> = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text, refusal: null };
  if (calls.length > 0) message.tool_calls = calls;
  const out: Record<string, unknown> = {
    id: `chatcmpl-${ctx.requestId}`,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishToOpenAI(resp.finishReason) }],
  };
  if (resp.usage) out.usage = usageToOpenAIChat(resp.usage);
  return out;
}

export function openAIErrorBody(err: GatewayErrorInfo): unknown {
  return { error: { message: err.message, type: err.type, param: err.param ?? null, code: err.code } };
}
