// Canonical -> OpenAI Chat Completions body. Presets (openai-compatible/) tune it through quirks.
import { imageSourceToUrl } from '../canonical/data-url.ts';
import { fail, unsupportedParam } from '../canonical/errors.ts';
import { compact, type JsonObject } from '../canonical/json.ts';
import { dropImageDetails, effortForBudget, rejectIfSet, settleUnmapped } from '../canonical/params.ts';
import type { CanonicalMessage, CanonicalRequest, ImagePart, TextPart, ToolChoice } from '../canonical/types.ts';

export interface OpenAIQuirks {
  /** Name used in errors. */
  provider: string;
  /** Newer OpenAI models want max_completion_tokens; many compatible servers only know max_tokens. */
  maxTokensField: 'max_completion_tokens' | 'max_tokens';
  seedField: 'seed' | 'random_seed' | null;
  supportsTopK: boolean;
  supportsN: boolean;
  supportsToolChoice: boolean;
  supportsUser: boolean;
  supportsMetadata: boolean;
  supportsReasoningEffort: boolean;
  /** Whether stream_options.include_usage is understood (Mistral always sends usage and rejects it). */
  supportsStreamOptions: boolean;
}

export const OPENAI_QUIRKS: OpenAIQuirks = {
  provider: 'openai',
  maxTokensField: 'max_completion_tokens',
  seedField: 'seed',
  supportsTopK: false,
  supportsN: true,
  supportsToolChoice: true,
  supportsUser: true,
  supportsMetadata: true,
  supportsReasoningEffort: true,
  supportsStreamOptions: true,
};

function userContent(parts: Array<TextPart | ImagePart>): string | JsonObject[] {
  if (parts.length === 1 && parts[0]?.type === 'text') return parts[0].text;
  return parts.map((p) =>
    p.type === 'text'
      ? { type: 'text', text: p.text }
      : { type: 'image_url', image_url: compact({ url: imageSourceToUrl(p.source), detail: p.detail }) },
  );
}

function toolResultText(parts: Array<TextPart | ImagePart>, provider: string): string {
  const image = parts.find((p) => p.type === 'image');
  // OpenAI tool messages carry text only; moving an image elsewhere would change what the model sees.
  if (image) fail(unsupportedParam(image.param, provider, 'images inside tool results'));
  return parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

export function toOpenAIMessages(system: string | undefined, messages: CanonicalMessage[], provider: string): JsonObject[] {
  const out: JsonObject[] = [];
  if (system !== undefined) out.push({ role: 'system', content: system });
  for (const m of messages) {
    if (m.role === 'assistant') {
      const text = m.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
      const calls = m.content.flatMap((p) =>
        p.type === 'tool_call' ? [{ id: p.id, type: 'function', function: { name: p.name, arguments: p.arguments } }] : [],
      );
      const msg: JsonObject = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text };
      if (calls.length > 0) msg.tool_calls = calls;
      out.push(msg);
      continue;
    }
    // Tool results must directly follow the assistant turn, so they go first as role "tool" messages.
    const rest: Array<TextPart | ImagePart> = [];
    for (const p of m.content) {
      if (p.type === 'tool_result') {
        out.push({ role: 'tool', tool_call_id: p.toolCallId, content: toolResultText(p.content, provider) });
      } else if (p.type === 'text' || p.type === 'image') {
        rest.push(p);
      }
    }
    if (rest.length > 0) out.push({ role: 'user', content: userContent(rest) });
  }
  return out;
}

export function toOpenAIToolChoice(choice: ToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

export function toOpenAIChatBody(req: CanonicalRequest, model: string, q: OpenAIQuirks): { body: JsonObject; dropped: string[] } {
  const dropped: string[] = [];
  settleUnmapped(req, q.provider, dropped);
  if (!q.supportsTopK) rejectIfSet(req.topK, undefined, 'top_k', q.provider);
  if (!q.supportsN) rejectIfSet(req.n, 1, 'n', q.provider);
  if (q.provider !== 'openai' && q.provider !== 'azure-openai') dropImageDetails(req, dropped);
  const body: JsonObject = { model, messages: toOpenAIMessages(req.system, req.messages, q.provider) };
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: compact({ name: t.name, description: t.description, parameters: t.parameters, strict: t.strict }),
    }));
  }
  if (req.toolChoice !== undefined) {
    if (q.supportsToolChoice) body.tool_choice = toOpenAIToolChoice(req.toolChoice);
    else if (req.toolChoice !== 'auto') fail(unsupportedParam('tool_choice', q.provider));
  }
  if (req.parallelToolCalls !== undefined) body.parallel_tool_calls = req.parallelToolCalls;
  body.temperature = req.temperature;
  body.top_p = req.topP;
  if (q.supportsTopK) body.top_k = req.topK;
  body[q.maxTokensField] = req.maxTokens;
  if (req.stop) body.stop = req.stop;
  if (req.responseFormat) {
    const rf = req.responseFormat;
    body.response_format =
      rf.type === 'json_schema'
        ? { type: 'json_schema', json_schema: compact({ name: rf.name, schema: rf.schema, strict: rf.strict, description: rf.description }) }
        : { type: rf.type };
  }
  body.presence_penalty = req.presencePenalty;
  body.frequency_penalty = req.frequencyPenalty;
  if (req.seed !== undefined) {
    if (q.seedField) body[q.seedField] = req.seed;
    else dropped.push('seed');
  }
  if (req.n !== undefined && q.supportsN) body.n = req.n;
  if (req.reasoning) {
    if (!q.supportsReasoningEffort) fail(unsupportedParam('reasoning', q.provider));
    body.reasoning_effort = req.reasoning.effort ?? effortForBudget(req.reasoning.budgetTokens ?? 0);
  }
  if (req.metadata) {
    if (q.supportsMetadata) body.metadata = req.metadata;
    else dropped.push('metadata');
  }
  if (req.user !== undefined) {
    if (q.supportsUser) body.user = req.user;
    else dropped.push('user');
  }
  if (req.stream) {
    body.stream = true;
    // Ask for the final usage chunk so accounting always has real numbers.
    if (q.supportsStreamOptions) body.stream_options = { include_usage: true };
  }
  return { body: compact(body), dropped };
}
