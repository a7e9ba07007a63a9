// Anthropic Messages request body -> canonical request (also used for count_tokens).
import { fail, invalidBody } from '../../canonical/errors.ts';
import type { JsonObject } from '../../canonical/json.ts';
import {
  asObject, optArray, optBool, optInt, optNumber, optObject, optString, optStringList, reqArray, reqString,
} from '../../canonical/read.ts';
import { linkToolResultNames } from '../../canonical/tool-links.ts';
import type { CanonicalMessage, CanonicalRequest, CanonicalTool, ContentPart, ImagePart, TextPart, ToolChoice, UnmappedParam } from '../../canonical/types.ts';
import { unmappedParams } from '../openai-chat/parse.ts';

const MAPPED = new Set([
  'model', 'messages', 'system', 'max_tokens', 'metadata', 'stop_sequences', 'stream', 'temperature', 'top_p', 'top_k', 'tools', 'tool_choice', 'thinking',
]);
const DROPPABLE = new Set(['service_tier']);

function image(block: JsonObject, param: string): ImagePart {
  const src = asObject(block.source, `${param}.source`);
  if (src.type === 'base64') {
    return { type: 'image', source: { kind: 'base64', mediaType: reqString(src, 'media_type', `${param}.source.media_type`), data: reqString(src, 'data', `${param}.source.data`) }, param };
  }
  if (src.type === 'url') return { type: 'image', source: { kind: 'url', url: reqString(src, 'url', `${param}.source.url`) }, param };
  fail(invalidBody(`Image source type '${String(src.type)}' is not supported`, `${param}.source.type`));
}

function textOrImage(v: unknown, param: string, unmapped: UnmappedParam[]): TextPart | ImagePart {
  const b = asObject(v, param);
  if (b.cache_control !== undefined) unmapped.push({ param: `${param}.cache_control`, droppable: true });
  if (b.type === 'text') return { type: 'text', text: reqString(b, 'text', `${param}.text`) };
  if (b.type === 'image') return image(b, param);
  fail(invalidBody(`Block type '${String(b.type)}' is not supported here`, `${param}.type`));
}

function parseBlocks(content: unknown, param: string, role: 'user' | 'assistant', unmapped: UnmappedParam[]): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) fail(invalidBody(`'${param}' must be a string or an array of content blocks`, param));
  const out: ContentPart[] = [];
  content.forEach((v, j) => {
    const p = `${param}[${j}]`;
    const b = asObject(v, p);
    switch (b.type) {
      case 'text':
      case 'image':
        out.push(textOrImage(b, p, unmapped));
        return;
      case 'tool_use':
        if (role !== 'assistant') fail(invalidBody('tool_use blocks belong to assistant turns', `${p}.type`));
        out.push({ type: 'tool_call', id: reqString(b, 'id', `${p}.id`), name: reqString(b, 'name', `${p}.name`), arguments: JSON.stringify(asObject(b.input ?? {}, `${p}.input`)) });
        return;
      case 'tool_result': {
        const c = b.content;
        const parts = c === undefined ? [] : typeof c === 'string' ? [{ type: 'text' as const, text: c }] : (optArray(b, 'content', `${p}.content`) ?? []).map((x, k) => textOrImage(x, `${p}.content[${k}]`, unmapped));
        const isError = optBool(b, 'is_error', `${p}.is_error`);
        out.push({ type: 'tool_result', toolCallId: reqString(b, 'tool_use_id', `${p}.tool_use_id`), content: parts, ...(isError ? { isError } : {}) });
        return;
      }
      case 'thinking':
      case 'redacted_thinking':
        // Earlier reasoning is only meaningful to Anthropic itself; other providers answer without it.
        unmapped.push({ param: p, droppable: true });
        return;
      default:
        unmapped.push({ param: `${p}.type`, droppable: false }); // documents, server tool results, ...
    }
  });
  return out;
}

function parseTools(body: JsonObject, unmapped: UnmappedParam[]): CanonicalTool[] | undefined {
  const list = optArray(body, 'tools');
  if (!list) return undefined;
  const out: CanonicalTool[] = [];
  list.forEach((v, i) => {
    const t = asObject(v, `tools[${i}]`);
    if (t.type !== undefined && t.type !== 'custom') {
      unmapped.push({ param: `tools[${i}]`, droppable: false }); // server tools (web search, bash, ...)
      return;
    }
    if (t.cache_control !== undefined) unmapped.push({ param: `tools[${i}].cache_control`, droppable: true });
    const tool: CanonicalTool = { name: reqString(t, 'name', `tools[${i}].name`), parameters: optObject(t, 'input_schema', `tools[${i}].input_schema`) ?? { type: 'object' } };
    const description = optString(t, 'description', `tools[${i}].description`);
    if (description !== undefined) tool.description = description;
    out.push(tool);
  });
  return out;
}

function parseToolChoice(body: JsonObject, req: CanonicalRequest): void {
  const tc = optObject(body, 'tool_choice');
  if (!tc) return;
  let choice: ToolChoice;
  if (tc.type === 'auto') choice = 'auto';
  else if (tc.type === 'any') choice = 'required';
  else if (tc.type === 'none') choice = 'none';
  else if (tc.type === 'tool') choice = { name: reqString(tc, 'name', 'tool_choice.name') };
  else fail(invalidBody("'tool_choice.type' must be auto, any, tool or none", 'tool_choice.type'));
  req.toolChoice = choice;
  if (optBool(tc, 'disable_parallel_tool_use', 'tool_choice.disable_parallel_tool_use') === true) req.parallelToolCalls = false;
}

function systemText(v: unknown, unmapped: UnmappedParam[]): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) fail(invalidBody("'system' must be a string or an array of text blocks", 'system'));
  return v.map((b, i) => {
    const part = textOrImage(b, `system[${i}]`, unmapped);
    if (part.type !== 'text') fail(invalidBody('system blocks must be text', `system[${i}].type`));
    return part.text;
  }).join('\n\n');
}

export function parseAnthropicMessages(raw: unknown, opts: { pathModel?: string; stream?: boolean }, countOnly = false): CanonicalRequest {
  const body = asObject(raw, 'body');
  const unmapped = unmappedParams(body, MAPPED, DROPPABLE);
  const messages: CanonicalMessage[] = reqArray(body, 'messages').map((v, i) => {
    const m = asObject(v, `messages[${i}]`);
    const role = reqString(m, 'role', `messages[${i}].role`);
    if (role !== 'user' && role !== 'assistant') fail(invalidBody("'role' must be user or assistant", `messages[${i}].role`));
    return { role, content: parseBlocks(m.content, `messages[${i}].content`, role, unmapped) };
  });
  linkToolResultNames(messages);
  const req: CanonicalRequest = {
    operation: countOnly ? 'count_tokens' : 'chat',
    model: optString(body, 'model') ?? opts.pathModel ?? fail(invalidBody("'model' is required", 'model')),
    messages,
    stream: countOnly ? false : (optBool(body, 'stream') ?? false),
    unmapped,
  };
  const system = systemText(body.system, unmapped);
  if (system !== undefined) req.system = system;
  const maxTokens = optInt(body, 'max_tokens', 'max_tokens', 1);
  if (maxTokens === undefined && !countOnly) fail(invalidBody("'max_tokens' is required", 'max_tokens'));
  if (maxTokens !== undefined) req.maxTokens = maxTokens;
  const temperature = optNumber(body, 'temperature', 'temperature', { min: 0, max: 1 });
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optNumber(body, 'top_p', 'top_p', { min: 0, max: 1 });
  if (topP !== undefined) req.topP = topP;
  const topK = optInt(body, 'top_k', 'top_k', 0);
  if (topK !== undefined) req.topK = topK;
  const stop = optStringList(body, 'stop_sequences');
  if (stop && stop.length > 0) req.stop = stop;
  const tools = parseTools(body, unmapped);
  if (tools) req.tools = tools;
  parseToolChoice(body, req);
  const metadata = optObject(body, 'metadata');
  if (metadata) {
    const user = optString(metadata, 'user_id', 'metadata.user_id');
    if (user !== undefined) req.user = user;
  }
  const thinking = optObject(body, 'thinking');
  if (thinking?.type === 'enabled') req.reasoning = { budgetTokens: optInt(thinking, 'budget_tokens', 'thinking.budget_tokens', 1) ?? 1024 };
  return req;
}
