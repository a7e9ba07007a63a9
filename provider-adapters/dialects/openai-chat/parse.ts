// OpenAI Chat Completions request body -> canonical request.
import { imageSourceFromUrl } from '../../canonical/data-url.ts';
import { fail, invalidBody } from '../../canonical/errors.ts';
import { isObject, type JsonObject } from '../../canonical/json.ts';
import {
  asObject, optArray, optBool, optInt, optNumber, optObject, optString, optStringList, optStringMap, reqArray, reqString,
} from '../../canonical/read.ts';
import { linkToolResultNames } from '../../canonical/tool-links.ts';
import type {
  CanonicalMessage, CanonicalRequest, CanonicalTool, ContentPart, ImagePart, ReasoningEffort, ResponseFormat, TextPart, ToolChoice, UnmappedParam,
} from '../../canonical/types.ts';

/** Keys this parser maps into canonical fields. */
const MAPPED = new Set([
  'model', 'messages', 'tools', 'tool_choice', 'parallel_tool_calls', 'temperature', 'top_p', 'max_tokens',
  'max_completion_tokens', 'stop', 'response_format', 'stream', 'stream_options', 'metadata', 'user', 'seed', 'n',
  'presence_penalty', 'frequency_penalty', 'reasoning_effort', 'functions', 'function_call',
]);
/** Keys whose removal does not change the answer (storage, billing tier, caching and speed hints). */
const DROPPABLE = new Set(['store', 'service_tier', 'prompt_cache_key', 'safety_identifier', 'prediction']);

export function unmappedParams(body: JsonObject, mapped: ReadonlySet<string>, droppable: ReadonlySet<string>): UnmappedParam[] {
  const out: UnmappedParam[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (mapped.has(key) || value === undefined || value === null) continue;
    // Explicit defaults mean nothing to translate.
    if ((key === 'logprobs' && value === false) || (key === 'modalities' && JSON.stringify(value) === '["text"]')) continue;
    out.push({ param: key, droppable: droppable.has(key) });
  }
  return out;
}

function textOf(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) fail(invalidBody(`'${param}' must be a string or an array of content parts`, param));
  return content
    .map((p, i) => {
      const part = asObject(p, `${param}[${i}]`);
      if (part.type === 'text') return reqString(part, 'text', `${param}[${i}].text`);
      if (part.type === 'refusal') return reqString(part, 'refusal', `${param}[${i}].refusal`);
      fail(invalidBody(`'${param}[${i}].type' must be 'text' here`, `${param}[${i}].type`));
    })
    .join('');
}

function userParts(content: unknown, param: string): Array<TextPart | ImagePart> {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) fail(invalidBody(`'${param}' must be a string or an array of content parts`, param));
  return content.map((p, i): TextPart | ImagePart => {
    const pp = `${param}[${i}]`;
    const part = asObject(p, pp);
    if (part.type === 'text') return { type: 'text', text: reqString(part, 'text', `${pp}.text`) };
    if (part.type === 'image_url') {
      const img = asObject(part.image_url, `${pp}.image_url`);
      const out: ImagePart = { type: 'image', source: imageSourceFromUrl(reqString(img, 'url', `${pp}.image_url.url`)), param: `${pp}.image_url` };
      const detail = optString(img, 'detail', `${pp}.image_url.detail`);
      if (detail !== undefined && detail !== 'auto') out.detail = detail;
      return out;
    }
    fail(invalidBody(`Content part type '${String(part.type)}' is not supported`, `${pp}.type`));
  });
}

function parseMessages(list: unknown[], systemParts: string[]): CanonicalMessage[] {
  const out: CanonicalMessage[] = [];
  const push = (role: 'user' | 'assistant', parts: ContentPart[]): void => {
    const last = out[out.length - 1];
    // Consecutive tool messages become one user turn holding every result.
    if (last && last.role === role && role === 'user' && parts.every((p) => p.type === 'tool_result') && last.content.every((p) => p.type === 'tool_result')) {
      last.content.push(...parts);
    } else out.push({ role, content: parts });
  };
  list.forEach((m, i) => {
    const param = `messages[${i}]`;
    const msg = asObject(m, param);
    const role = reqString(msg, 'role', `${param}.role`);
    switch (role) {
      case 'system':
      case 'developer':
        // Providers take one system prompt; system messages are joined in order.
        systemParts.push(textOf(msg.content, `${param}.content`));
        return;
      case 'user':
        push('user', userParts(msg.content, `${param}.content`));
        return;
      case 'assistant': {
        const parts: ContentPart[] = [];
        const text = textOf(msg.content, `${param}.content`);
        if (text) parts.push({ type: 'text', text });
        const calls = optArray(msg, 'tool_calls', `${param}.tool_calls`) ?? [];
        calls.forEach((c, j) => {
          const cp = `${param}.tool_calls[${j}]`;
          const call = asObject(c, cp);
          const fn = asObject(call.function, `${cp}.function`);
          parts.push({
            type: 'tool_call',
            id: reqString(call, 'id', `${cp}.id`),
            name: reqString(fn, 'name', `${cp}.function.name`),
            arguments: optString(fn, 'arguments', `${cp}.function.arguments`) ?? '{}',
          });
        });
        const legacy = optObject(msg, 'function_call', `${param}.function_call`);
        if (legacy) {
          parts.push({ type: 'tool_call', id: `call_legacy_${i}`, name: reqString(legacy, 'name', `${param}.function_call.name`), arguments: optString(legacy, 'arguments') ?? '{}' });
        }
        push('assistant', parts);
        return;
      }
      case 'tool':
        push('user', [{
          type: 'tool_result',
          toolCallId: reqString(msg, 'tool_call_id', `${param}.tool_call_id`),
          content: [{ type: 'text', text: textOf(msg.content, `${param}.content`) }],
        }]);
        return;
      default:
        fail(invalidBody(`Unsupported role '${role}'`, `${param}.role`));
    }
  });
  return out;
}

function parseTools(body: JsonObject): CanonicalTool[] | undefined {
  const tools = optArray(body, 'tools');
  const functions = optArray(body, 'functions');
  if (!tools && !functions) return undefined;
  const out: CanonicalTool[] = [];
  (tools ?? []).forEach((t, i) => {
    const tool = asObject(t, `tools[${i}]`);
    if (tool.type !== 'function') fail(invalidBody(`Tool type '${String(tool.type)}' is not supported`, `tools[${i}].type`));
    out.push(functionDef(asObject(tool.function, `tools[${i}].function`), `tools[${i}].function`));
  });
  (functions ?? []).forEach((f, i) => out.push(functionDef(asObject(f, `functions[${i}]`), `functions[${i}]`)));
  return out;
}

function functionDef(fn: JsonObject, param: string): CanonicalTool {
  const tool: CanonicalTool = {
    name: reqString(fn, 'name', `${param}.name`),
    parameters: optObject(fn, 'parameters', `${param}.parameters`) ?? { type: 'object', properties: {} },
  };
  const description = optString(fn, 'description', `${param}.description`);
  const strict = optBool(fn, 'strict', `${param}.strict`);
  if (description !== undefined) tool.description = description;
  if (strict !== undefined) tool.strict = strict;
  return tool;
}

function parseToolChoice(v: unknown, param: string): ToolChoice | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === 'auto' || v === 'none' || v === 'required') return v;
  if (isObject(v)) {
    const fn = isObject(v.function) ? v.function : v; // legacy function_call: {"name": ...}
    if (typeof fn.name === 'string') return { name: fn.name };
  }
  fail(invalidBody(`'${param}' must be 'auto', 'none', 'required' or a named function`, param));
}

function parseResponseFormat(body: JsonObject): ResponseFormat | undefined {
  const rf = optObject(body, 'response_format');
  if (!rf) return undefined;
  if (rf.type === 'text' || rf.type === 'json_object') return { type: rf.type };
  if (rf.type === 'json_schema') {
    const js = asObject(rf.json_schema, 'response_format.json_schema');
    const out: ResponseFormat = {
      type: 'json_schema',
      name: reqString(js, 'name', 'response_format.json_schema.name'),
      schema: optObject(js, 'schema', 'response_format.json_schema.schema') ?? {},
    };
    const strict = optBool(js, 'strict', 'response_format.json_schema.strict');
    const description = optString(js, 'description', 'response_format.json_schema.description');
    if (strict !== undefined) out.strict = strict;
    if (description !== undefined) out.description = description;
    return out;
  }
  fail(invalidBody(`'response_format.type' must be text, json_object or json_schema`, 'response_format.type'));
}

export function parseOpenAIChat(raw: unknown, opts: { pathModel?: string; stream?: boolean }): CanonicalRequest {
  const body = asObject(raw, 'body');
  const systemParts: string[] = [];
  const messages = parseMessages(reqArray(body, 'messages'), systemParts);
  linkToolResultNames(messages);
  const req: CanonicalRequest = {
    operation: 'chat',
    model: optString(body, 'model') ?? opts.pathModel ?? fail(invalidBody("'model' is required", 'model')),
    messages,
    stream: optBool(body, 'stream') ?? opts.stream ?? false,
    unmapped: unmappedParams(body, MAPPED, DROPPABLE),
  };
  if (systemParts.length > 0) req.system = systemParts.join('\n\n');
  const tools = parseTools(body);
  if (tools) req.tools = tools;
  const choice = parseToolChoice(body.tool_choice, 'tool_choice') ?? parseToolChoice(body.function_call, 'function_call');
  if (choice !== undefined) req.toolChoice = choice;
  const parallel = optBool(body, 'parallel_tool_calls');
  if (parallel !== undefined) req.parallelToolCalls = parallel;
  const temperature = optNumber(body, 'temperature', 'temperature', { min: 0, max: 2 });
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optNumber(body, 'top_p', 'top_p', { min: 0, max: 1 });
  if (topP !== undefined) req.topP = topP;
  const maxTokens = optInt(body, 'max_completion_tokens', 'max_completion_tokens', 1) ?? optInt(body, 'max_tokens', 'max_tokens', 1);
  if (maxTokens !== undefined) req.maxTokens = maxTokens;
  const stop = optStringList(body, 'stop');
  if (stop && stop.length > 0) req.stop = stop;
  const rf = parseResponseFormat(body);
  if (rf) req.responseFormat = rf;
  const presence = optNumber(body, 'presence_penalty', 'presence_penalty', { min: -2, max: 2 });
  if (presence !== undefined) req.presencePenalty = presence;
  const frequency = optNumber(body, 'frequency_penalty', 'frequency_penalty', { min: -2, max: 2 });
  if (frequency !== undefined) req.frequencyPenalty = frequency;
  const seed = optInt(body, 'seed', 'seed', Number.MIN_SAFE_INTEGER);
  if (seed !== undefined) req.seed = seed;
  const n = optInt(body, 'n', 'n', 1);
  if (n !== undefined) req.n = n;
  const effort = optString(body, 'reasoning_effort');
  if (effort !== undefined) {
    if (!['minimal', 'low', 'medium', 'high'].includes(effort)) fail(invalidBody("'reasoning_effort' must be minimal, low, medium or high", 'reasoning_effort'));
    req.reasoning = { effort: effort as ReasoningEffort };
  }
  const metadata = optStringMap(body, 'metadata');
  if (metadata) req.metadata = metadata;
  const user = optString(body, 'user');
  if (user !== undefined) req.user = user;
  optObject(body, 'stream_options');
  return req;
}

/** Whether the client itself asked for the usage chunk (stream_options.include_usage). */
export function openAIClientWantsUsage(raw: unknown): boolean {
  return isObject(raw) && isObject(raw.stream_options) && raw.stream_options.include_usage === true;
}
