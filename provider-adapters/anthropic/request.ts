// Canonical -> Anthropic Messages body.
import { fail, invalidBody, unsupportedParam } from '../canonical/errors.ts';
import { compact, isObject, type JsonObject } from '../canonical/json.ts';
import { budgetForEffort, dropImageDetails, rejectIfSet, settleUnmapped, STRUCTURED_OUTPUT_TOOL } from '../canonical/params.ts';
import type { CanonicalRequest, ContentPart, ImagePart, TextPart } from '../canonical/types.ts';

const PROVIDER = 'anthropic';
/** Anthropic requires max_tokens; when the client gave none we send this (PARAMETERS.md). */
export const DEFAULT_MAX_TOKENS = 4096;

export function parseArguments(args: string, param: string): JsonObject {
  if (args.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(args);
    if (isObject(v)) return v;
  } catch {
    // fall through
  }
  fail(invalidBody('Tool call arguments must be a JSON object', param));
}

function imageBlock(p: ImagePart): JsonObject {
  return {
    type: 'image',
    source: p.source.kind === 'url' ? { type: 'url', url: p.source.url } : { type: 'base64', media_type: p.source.mediaType, data: p.source.data },
  };
}

function block(p: ContentPart, param: string): JsonObject {
  switch (p.type) {
    case 'text':
      return { type: 'text', text: p.text };
    case 'image':
      return imageBlock(p);
    case 'tool_call':
      return { type: 'tool_use', id: p.id, name: p.name, input: parseArguments(p.arguments, param) };
    case 'tool_result':
      return compact({
        type: 'tool_result',
        tool_use_id: p.toolCallId,
        content: p.content.map((c: TextPart | ImagePart) => (c.type === 'text' ? { type: 'text', text: c.text } : imageBlock(c))),
        is_error: p.isError || undefined,
      });
  }
}

/** JSON mode emulation: one forced tool whose input schema is the requested schema. */
export function structuredOutputTool(req: CanonicalRequest): { name: string; description: string; schema: JsonObject } | undefined {
  const rf = req.responseFormat;
  if (!rf || rf.type === 'text') return undefined;
  if (req.tools && req.tools.length > 0) {
    fail(unsupportedParam('response_format', PROVIDER, 'JSON output together with tools is not supported on this provider'));
  }
  return {
    name: STRUCTURED_OUTPUT_TOOL,
    description: 'Respond with the final answer as JSON matching this schema.',
    schema: rf.type === 'json_schema' ? rf.schema : { type: 'object' },
  };
}

export function toAnthropicBody(req: CanonicalRequest, model: string, provider = PROVIDER): { body: JsonObject; dropped: string[] } {
  const dropped: string[] = [];
  settleUnmapped(req, provider, dropped);
  dropImageDetails(req, dropped);
  rejectIfSet(req.presencePenalty, 0, 'presence_penalty', provider);
  rejectIfSet(req.frequencyPenalty, 0, 'frequency_penalty', provider);
  rejectIfSet(req.n, 1, 'n', provider);
  if (req.temperature !== undefined && req.temperature > 1) fail(unsupportedParam('temperature', provider, 'values above 1 are not accepted'));
  if (req.seed !== undefined) dropped.push('seed');
  if (req.metadata) dropped.push('metadata');

  const messages: JsonObject[] = [];
  req.messages.forEach((m, i) => {
    // Tool results must lead the user turn that answers the tool calls.
    const parts = m.role === 'user' ? [...m.content.filter((p) => p.type === 'tool_result'), ...m.content.filter((p) => p.type !== 'tool_result')] : m.content;
    const content = parts.map((p, j) => block(p, `messages[${i}].content[${j}]`));
    const last = messages[messages.length - 1];
    if (last && last.role === m.role && Array.isArray(last.content)) (last.content as JsonObject[]).push(...content);
    else messages.push({ role: m.role, content });
  });

  const body: JsonObject = { model, messages, max_tokens: req.maxTokens ?? DEFAULT_MAX_TOKENS };
  if (req.system !== undefined) body.system = req.system;
  const structured = structuredOutputTool(req);
  const tools = (req.tools ?? []).map((t) => compact({ name: t.name, description: t.description, input_schema: t.parameters }));
  if (structured) tools.push({ name: structured.name, description: structured.description, input_schema: structured.schema });
  if (tools.length > 0) body.tools = tools;
  let choice: JsonObject | undefined;
  if (structured) choice = { type: 'tool', name: structured.name };
  else if (req.toolChoice === 'auto') choice = { type: 'auto' };
  else if (req.toolChoice === 'required') choice = { type: 'any' };
  else if (req.toolChoice === 'none') choice = { type: 'none' };
  else if (req.toolChoice !== undefined) choice = { type: 'tool', name: req.toolChoice.name };
  if (req.parallelToolCalls === false && tools.length > 0) choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  if (choice) body.tool_choice = choice;
  body.temperature = req.temperature;
  body.top_p = req.topP;
  body.top_k = req.topK;
  if (req.stop) body.stop_sequences = req.stop;
  if (req.user !== undefined) body.metadata = { user_id: req.user };
  if (req.reasoning) {
    const maxTokens = body.max_tokens as number;
    let budget = req.reasoning.budgetTokens ?? budgetForEffort(req.reasoning.effort ?? 'medium');
    // OpenAI's max_completion_tokens includes reasoning; Anthropic needs budget < max_tokens.
    if (budget >= maxTokens) budget = Math.floor(maxTokens / 2);
    if (budget < 1024) fail(unsupportedParam('max_tokens', provider, 'too small to allow the requested reasoning (needs at least 2048)'));
    body.thinking = { type: 'enabled', budget_tokens: budget };
  }
  if (req.stream) body.stream = true;
  return { body: compact(body), dropped };
}
