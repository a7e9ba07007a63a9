// Canonical response -> Anthropic Messages JSON, and the Anthropic error envelope.
import { anthropicErrorType } from '../../anthropic/errors.ts';
import { finishToAnthropic } from '../../anthropic/finish.ts';
import { usageToAnthropic } from '../../anthropic/usage.ts';
import type { RenderContext } from '../../canonical/adapter.ts';
import { isObject } from '../../canonical/json.ts';
import type { CanonicalResponse } from '../../canonical/types.ts';
import type { GatewayErrorInfo } from '../../contract.ts';

/** Tool input must be an object; malformed provider JSON is kept visible rather than dropped. */
export function toolInput(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args === '' ? '{}' : args);
    if (isObject(v)) return v;
  } catch {
    // fall through
  }
  return { _raw_arguments: args };
}

export function renderAnthropicMessage(resp: CanonicalResponse, ctx: RenderContext): unknown {
  return {
    id: `msg_${ctx.requestId}`,
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content: resp.content.map((p) =>
      p.type === 'text' ? { type: 'text', text: p.text } : { type: 'tool_use', id: p.id, name: p.name, input: toolInput(p.arguments) },
    ),
    stop_reason: finishToAnthropic(resp.finishReason),
    stop_sequence: resp.stopSequence ?? null,
    usage: resp.usage ? usageToAnthropic(resp.usage) : { input_tokens: 0, output_tokens: 0 },
  };
}

export function anthropicErrorBody(err: GatewayErrorInfo): unknown {
  return { type: 'error', error: { type: anthropicErrorType(err), message: err.message } };
}
