// Finds every text-bearing string in a parsed request body, per ingress dialect, with the JSON
// path that leads to it, and writes redacted text back in place.
import type { IngressDialect } from '../../provider-adapters/contract.ts';

export type JsonPath = (string | number)[];

export interface TextPart {
  path: JsonPath;
  text: string;
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every string inside a value (tool schemas, tool-call args, tool results); keys are not text. */
function allStrings(value: Json, path: JsonPath, out: TextPart[]): void {
  if (typeof value === 'string') out.push({ path, text: value });
  else if (Array.isArray(value)) value.forEach((v, i) => allStrings(v, [...path, i], out));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) allStrings(v, [...path, k], out);
}

function stringAt(obj: Record<string, Json>, key: string, path: JsonPath, out: TextPart[]): void {
  const v = obj[key];
  if (typeof v === 'string') out.push({ path: [...path, key], text: v });
}

// ---- OpenAI chat ----------------------------------------------------------------------------

function openAiContent(content: Json, path: JsonPath, out: TextPart[]): void {
  if (typeof content === 'string') out.push({ path, text: content });
  else if (Array.isArray(content)) {
    content.forEach((part, i) => {
      if (!isObject(part)) return;
      const p = [...path, i];
      stringAt(part, 'text', p, out); // text, input_text, output_text, refusal-like parts
      stringAt(part, 'refusal', p, out);
      if (isObject(part.image_url) && typeof part.image_url.url === 'string' && part.image_url.url.startsWith('data:') === false) {
        stringAt(part.image_url, 'url', [...p, 'image_url'], out);
      }
    });
  }
}

function openAiTools(tools: Json, path: JsonPath, out: TextPart[]): void {
  if (!Array.isArray(tools)) return;
  tools.forEach((tool, i) => {
    if (!isObject(tool)) return;
    const fn = isObject(tool.function) ? tool.function : tool; // chat nests under function; responses is flat
    const base = fn === tool ? [...path, i] : [...path, i, 'function'];
    stringAt(fn, 'description', base, out);
    if (fn.parameters !== undefined) allStrings(fn.parameters, [...base, 'parameters'], out);
  });
}

function extractOpenAiChat(body: Record<string, Json>, out: TextPart[]): void {
  const messages = body.messages;
  if (Array.isArray(messages)) {
    messages.forEach((msg, i) => {
      if (!isObject(msg)) return;
      const p: JsonPath = ['messages', i];
      openAiContent(msg.content, [...p, 'content'], out);
      stringAt(msg, 'refusal', p, out);
      if (Array.isArray(msg.tool_calls)) {
        msg.tool_calls.forEach((call, j) => {
          if (isObject(call) && isObject(call.function)) stringAt(call.function, 'arguments', [...p, 'tool_calls', j, 'function'], out);
        });
      }
      if (isObject(msg.function_call)) stringAt(msg.function_call, 'arguments', [...p, 'function_call'], out);
    });
  }
  openAiTools(body.tools, ['tools'], out);
  openAiTools(body.functions, ['functions'], out);
}

// ---- OpenAI embeddings / responses ------------------------------------------------------------

function extractOpenAiEmbeddings(body: Record<string, Json>, out: TextPart[]): void {
  const input = body.input;
  if (typeof input === 'string') out.push({ path: ['input'], text: input });
  else if (Array.isArray(input)) input.forEach((v, i) => typeof v === 'string' && out.push({ path: ['input', i], text: v }));
}

function extractOpenAiResponses(body: Record<string, Json>, out: TextPart[]): void {
  stringAt(body, 'instructions', [], out);
  const input = body.input;
  if (typeof input === 'string') out.push({ path: ['input'], text: input });
  else if (Array.isArray(input)) {
    input.forEach((item, i) => {
      if (!isObject(item)) return;
      const p: JsonPath = ['input', i];
      if (item.content !== undefined) openAiContent(item.content, [...p, 'content'], out);
      stringAt(item, 'arguments', p, out); // function_call
      stringAt(item, 'input', p, out); // custom tool call
      if (typeof item.output === 'string') stringAt(item, 'output', p, out); // function_call_output
      else if (item.output !== undefined) allStrings(item.output, [...p, 'output'], out);
    });
  }
  openAiTools(body.tools, ['tools'], out);
}

// ---- Anthropic ---------------------------------------------------------------------------------

function anthropicBlocks(content: Json, path: JsonPath, out: TextPart[]): void {
  if (typeof content === 'string') {
    out.push({ path, text: content });
    return;
  }
  if (!Array.isArray(content)) return;
  content.forEach((block, i) => {
    if (!isObject(block)) return;
    const p = [...path, i];
    stringAt(block, 'text', p, out); // text
    stringAt(block, 'thinking', p, out); // thinking
    if (block.type === 'tool_use' && block.input !== undefined) allStrings(block.input, [...p, 'input'], out);
    if (block.type === 'tool_result') anthropicBlocks(block.content, [...p, 'content'], out);
    if (block.type === 'document' && isObject(block.source) && block.source.type === 'text') stringAt(block.source, 'data', [...p, 'source'], out);
  });
}

function extractAnthropic(body: Record<string, Json>, out: TextPart[]): void {
  anthropicBlocks(body.system, ['system'], out);
  const messages = body.messages;
  if (Array.isArray(messages)) {
    messages.forEach((msg, i) => isObject(msg) && anthropicBlocks(msg.content, ['messages', i, 'content'], out));
  }
  if (Array.isArray(body.tools)) {
    body.tools.forEach((tool, i) => {
      if (!isObject(tool)) return;
      stringAt(tool, 'description', ['tools', i], out);
      if (tool.input_schema !== undefined) allStrings(tool.input_schema, ['tools', i, 'input_schema'], out);
    });
  }
}

// ---- Gemini ------------------------------------------------------------------------------------

function geminiParts(content: Json, path: JsonPath, out: TextPart[]): void {
  if (!isObject(content) || !Array.isArray(content.parts)) return;
  content.parts.forEach((part, i) => {
    if (!isObject(part)) return;
    const p = [...path, 'parts', i];
    stringAt(part, 'text', p, out);
    if (isObject(part.functionCall) && part.functionCall.args !== undefined) allStrings(part.functionCall.args, [...p, 'functionCall', 'args'], out);
    if (isObject(part.functionResponse) && part.functionResponse.response !== undefined) {
      allStrings(part.functionResponse.response, [...p, 'functionResponse', 'response'], out);
    }
  });
}

function extractGemini(body: Record<string, Json>, out: TextPart[]): void {
  const system = body.systemInstruction ?? body.system_instruction;
  const systemKey = body.systemInstruction !== undefined ? 'systemInstruction' : 'system_instruction';
  if (typeof system === 'string') out.push({ path: [systemKey], text: system });
  else geminiParts(system, [systemKey], out);
  if (Array.isArray(body.contents)) body.contents.forEach((c, i) => geminiParts(c, ['contents', i], out));
  if (Array.isArray(body.tools)) {
    body.tools.forEach((tool, i) => {
      if (!isObject(tool)) return;
      const decls = tool.functionDeclarations ?? tool.function_declarations;
      const key = tool.functionDeclarations !== undefined ? 'functionDeclarations' : 'function_declarations';
      if (!Array.isArray(decls)) return;
      decls.forEach((d, j) => {
        if (!isObject(d)) return;
        stringAt(d, 'description', ['tools', i, key, j], out);
        for (const schemaKey of ['parameters', 'parametersJsonSchema']) {
          if (d[schemaKey] !== undefined) allStrings(d[schemaKey], ['tools', i, key, j, schemaKey], out);
        }
      });
    });
  }
}

/** Every text-bearing string of a request body, in document order. */
export function extractText(dialect: IngressDialect, body: unknown): TextPart[] {
  const out: TextPart[] = [];
  if (!isObject(body)) return out;
  switch (dialect) {
    case 'openai-chat':
      extractOpenAiChat(body, out);
      break;
    case 'openai-embeddings':
      extractOpenAiEmbeddings(body, out);
      break;
    case 'openai-responses':
      extractOpenAiResponses(body, out);
      break;
    case 'anthropic-messages':
    case 'anthropic-count-tokens':
      extractAnthropic(body, out);
      break;
    case 'gemini-generate':
      extractGemini(body, out);
      break;
  }
  return out;
}

/** Returns a copy of `body` with the strings at the given paths replaced. */
export function writeBack(body: unknown, replacements: readonly TextPart[]): unknown {
  const copy = structuredClone(body);
  for (const { path, text } of replacements) {
    if (path.length === 0) continue;
    let node: unknown = copy;
    for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[key];
    (node as Record<string | number, unknown>)[path[path.length - 1]!] = text;
  }
  return copy;
}
