// OpenAI Responses request body -> canonical request.
import { imageSourceFromUrl } from '../../canonical/data-url.ts';
import { fail, invalidBody } from '../../canonical/errors.ts';
import { isObject, type JsonObject } from '../../canonical/json.ts';
import { asObject, optArray, optBool, optInt, optNumber, optObject, optString, optStringMap, reqString } from '../../canonical/read.ts';
import { linkToolResultNames } from '../../canonical/tool-links.ts';
import type { CanonicalMessage, CanonicalRequest, CanonicalTool, ContentPart, ReasoningEffort, UnmappedParam } from '../../canonical/types.ts';
import { unmappedParams } from '../openai-chat/parse.ts';

const MAPPED = new Set(['model', 'input', 'instructions', 'tools', 'tool_choice', 'temperature', 'top_p', 'max_output_tokens', 'parallel_tool_calls', 'metadata', 'user', 'stream', 'reasoning', 'text']);
const DROPPABLE = new Set(['store', 'service_tier', 'prompt_cache_key', 'safety_identifier', 'include']);

function contentParts(content: unknown, param: string): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) fail(invalidBody(`'${param}' must be a string or an array`, param));
  return content.map((v, j): ContentPart => {
    const p = `${param}[${j}]`;
    const c = asObject(v, p);
    if (c.type === 'input_text' || c.type === 'output_text' || c.type === 'text') return { type: 'text', text: reqString(c, 'text', `${p}.text`) };
    if (c.type === 'input_image') {
      const part: ContentPart = { type: 'image', source: imageSourceFromUrl(reqString(c, 'image_url', `${p}.image_url`)), param: `${p}.image_url` };
      const detail = optString(c, 'detail', `${p}.detail`);
      if (detail !== undefined && detail !== 'auto') part.detail = detail;
      return part;
    }
    fail(invalidBody(`Content type '${String(c.type)}' is not supported`, `${p}.type`));
  });
}

function parseInput(input: unknown, system: string[], unmapped: UnmappedParam[]): CanonicalMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: [{ type: 'text', text: input }] }];
  if (!Array.isArray(input)) fail(invalidBody("'input' must be a string or an array of items", 'input'));
  const out: CanonicalMessage[] = [];
  const add = (role: 'user' | 'assistant', parts: ContentPart[]): void => {
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...parts);
    else out.push({ role, content: parts });
  };
  input.forEach((v, i) => {
    const p = `input[${i}]`;
    const item = asObject(v, p);
    const type = item.type ?? 'message';
    if (type === 'message') {
      const role = reqString(item, 'role', `${p}.role`);
      if (role === 'system' || role === 'developer') {
        system.push(contentParts(item.content, `${p}.content`).map((c) => (c.type === 'text' ? c.text : '')).join(''));
      } else if (role === 'user' || role === 'assistant') add(role, contentParts(item.content, `${p}.content`));
      else fail(invalidBody(`Unsupported role '${role}'`, `${p}.role`));
    } else if (type === 'function_call') {
      add('assistant', [{ type: 'tool_call', id: reqString(item, 'call_id', `${p}.call_id`), name: reqString(item, 'name', `${p}.name`), arguments: optString(item, 'arguments', `${p}.arguments`) ?? '{}' }]);
    } else if (type === 'function_call_output') {
      const output = item.output;
      const parts = typeof output === 'string' ? [{ type: 'text' as const, text: output }] : contentParts(output, `${p}.output`).filter((c) => c.type === 'text' || c.type === 'image');
      add('user', [{ type: 'tool_result', toolCallId: reqString(item, 'call_id', `${p}.call_id`), content: parts as Array<Extract<ContentPart, { type: 'text' | 'image' }>> }]);
    } else if (type === 'reasoning') {
      unmapped.push({ param: p, droppable: true });
    } else {
      unmapped.push({ param: p, droppable: false }); // built-in tool calls, item references
    }
  });
  return out;
}

function parseTools(list: unknown[] | undefined, unmapped: UnmappedParam[]): CanonicalTool[] | undefined {
  if (!list) return undefined;
  const out: CanonicalTool[] = [];
  list.forEach((v, i) => {
    const t = asObject(v, `tools[${i}]`);
    if (t.type !== 'function') {
      unmapped.push({ param: `tools[${i}]`, droppable: false }); // web_search, file_search, computer use, MCP
      return;
    }
    const tool: CanonicalTool = { name: reqString(t, 'name', `tools[${i}].name`), parameters: optObject(t, 'parameters', `tools[${i}].parameters`) ?? { type: 'object', properties: {} } };
    const description = optString(t, 'description', `tools[${i}].description`);
    const strict = optBool(t, 'strict', `tools[${i}].strict`);
    if (description !== undefined) tool.description = description;
    if (strict !== undefined) tool.strict = strict;
    out.push(tool);
  });
  return out;
}

export function parseOpenAIResponses(raw: unknown, opts: { pathModel?: string; stream?: boolean }): CanonicalRequest {
  const body = asObject(raw, 'body');
  const unmapped = unmappedParams(body, MAPPED, DROPPABLE);
  const system: string[] = [];
  const instructions = optString(body, 'instructions');
  if (instructions !== undefined) system.push(instructions);
  if (body.input === undefined) fail(invalidBody("'input' is required", 'input'));
  const messages = parseInput(body.input, system, unmapped);
  linkToolResultNames(messages);
  const req: CanonicalRequest = {
    operation: 'chat',
    model: optString(body, 'model') ?? opts.pathModel ?? fail(invalidBody("'model' is required", 'model')),
    messages,
    stream: optBool(body, 'stream') ?? false,
    unmapped,
  };
  if (system.length > 0) req.system = system.join('\n\n');
  const tools = parseTools(optArray(body, 'tools'), unmapped);
  if (tools) req.tools = tools;
  const tc = body.tool_choice;
  if (tc === 'auto' || tc === 'none' || tc === 'required') req.toolChoice = tc;
  else if (isObject(tc) && tc.type === 'function' && typeof tc.name === 'string') req.toolChoice = { name: tc.name };
  else if (tc !== undefined && tc !== null) fail(invalidBody("'tool_choice' must be auto, none, required or a function", 'tool_choice'));
  const set = <K extends keyof CanonicalRequest>(key: K, v: CanonicalRequest[K] | undefined): void => {
    if (v !== undefined) req[key] = v;
  };
  set('temperature', optNumber(body, 'temperature', 'temperature', { min: 0, max: 2 }));
  set('topP', optNumber(body, 'top_p', 'top_p', { min: 0, max: 1 }));
  set('maxTokens', optInt(body, 'max_output_tokens', 'max_output_tokens', 1));
  set('parallelToolCalls', optBool(body, 'parallel_tool_calls'));
  set('metadata', optStringMap(body, 'metadata'));
  set('user', optString(body, 'user'));
  const effort = optString(optObject(body, 'reasoning') ?? {}, 'effort', 'reasoning.effort');
  if (effort !== undefined) req.reasoning = { effort: effort as ReasoningEffort };
  const format = optObject(optObject(body, 'text') ?? {}, 'format', 'text.format');
  if (format) parseFormat(format, req);
  return req;
}

function parseFormat(f: JsonObject, req: CanonicalRequest): void {
  if (f.type === 'text') return;
  if (f.type === 'json_object') req.responseFormat = { type: 'json_object' };
  else if (f.type === 'json_schema') {
    req.responseFormat = { type: 'json_schema', name: reqString(f, 'name', 'text.format.name'), schema: optObject(f, 'schema', 'text.format.schema') ?? {} };
    const strict = optBool(f, 'strict', 'text.format.strict');
    if (strict !== undefined) req.responseFormat.strict = strict;
  } else fail(invalidBody("'text.format.type' must be text, json_object or json_schema", 'text.format.type'));
}
