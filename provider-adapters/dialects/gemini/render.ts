// Canonical response -> Gemini GenerateContentResponse JSON.
import type { RenderContext } from '../../canonical/adapter.ts';
import type { CanonicalResponse } from '../../canonical/types.ts';
import { finishToGemini } from '../../gemini/finish.ts';
import { usageToGemini } from '../../gemini/usage.ts';
import { toolInput } from '../anthropic-messages/render.ts';

export function renderGemini(resp: CanonicalResponse, ctx: RenderContext): unknown {
  const parts = resp.content.map((p) =>
    p.type === 'text' ? { text: p.text } : { functionCall: { id: p.id, name: p.name, args: toolInput(p.arguments) } },
  );
  const out: Record<string, unknown> = {
    candidates: [{ content: { parts, role: 'model' }, finishReason: finishToGemini(resp.finishReason), index: 0 }],
    modelVersion: ctx.model,
    responseId: ctx.requestId,
  };
  if (resp.usage) out.usageMetadata = usageToGemini(resp.usage);
  return out;
}
