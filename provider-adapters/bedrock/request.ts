// Canonical -> Bedrock Converse / ConverseStream body.
import { fail, unsupportedParam } from '../canonical/errors.ts';
import { compact, type JsonObject } from '../canonical/json.ts';
import { dropImageDetails, rejectIfSet, rejectImageUrls, settleUnmapped } from '../canonical/params.ts';
import type { CanonicalRequest, ContentPart, ImagePart, TextPart } from '../canonical/types.ts';
import { parseArguments, structuredOutputTool } from '../anthropic/request.ts';

const PROVIDER = 'bedrock';
const IMAGE_FORMATS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };

function image(p: ImagePart): JsonObject {
  if (p.source.kind !== 'base64') fail(unsupportedParam(p.param, PROVIDER));
  const format = IMAGE_FORMATS[p.source.mediaType];
  if (!format) fail(unsupportedParam(p.param, PROVIDER, `image type ${p.source.mediaType} (png, jpeg, gif, webp only)`));
  return { image: { format, source: { bytes: p.source.data } } };
}

function block(p: ContentPart, param: string): JsonObject {
  switch (p.type) {
    case 'text':
      return { text: p.text };
    case 'image':
      return image(p);
    case 'tool_call':
      return { toolUse: { toolUseId: p.id, name: p.name, input: parseArguments(p.arguments, param) } };
    case 'tool_result':
      return {
        toolResult: compact({
          toolUseId: p.toolCallId,
          content: p.content.map((c: TextPart | ImagePart) => (c.type === 'text' ? { text: c.text } : image(c))),
          status: p.isError ? 'error' : undefined,
        }),
      };
  }
}

export function toConverseBody(req: CanonicalRequest): { body: JsonObject; dropped: string[] } {
  const dropped: string[] = [];
  settleUnmapped(req, PROVIDER, dropped);
  dropImageDetails(req, dropped);
  rejectImageUrls(req, PROVIDER);
  rejectIfSet(req.presencePenalty, 0, 'presence_penalty', PROVIDER);
  rejectIfSet(req.frequencyPenalty, 0, 'frequency_penalty', PROVIDER);
  rejectIfSet(req.n, 1, 'n', PROVIDER);
  if (req.reasoning) fail(unsupportedParam('reasoning', PROVIDER, 'model-specific on Bedrock'));
  if (req.toolChoice === 'none') fail(unsupportedParam('tool_choice', PROVIDER, "Converse has no 'none' tool choice"));
  if (req.seed !== undefined) dropped.push('seed');
  if (req.user !== undefined) dropped.push('user');
  if (req.parallelToolCalls !== undefined) dropped.push('parallel_tool_calls');

  const messages: JsonObject[] = [];
  req.messages.forEach((m, i) => {
    const parts = m.role === 'user' ? [...m.content.filter((p) => p.type === 'tool_result'), ...m.content.filter((p) => p.type !== 'tool_result')] : m.content;
    const content = parts.map((p, j) => block(p, `messages[${i}].content[${j}]`));
    const last = messages[messages.length - 1];
    if (last && last.role === m.role && Array.isArray(last.content)) (last.content as JsonObject[]).push(...content);
    else messages.push({ role: m.role, content });
  });
  const body: JsonObject = { messages };
  if (req.system !== undefined) body.system = [{ text: req.system }];
  const inference = compact({ maxTokens: req.maxTokens, temperature: req.temperature, topP: req.topP, stopSequences: req.stop });
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  // top_k is not part of Converse; Anthropic, Mistral and Cohere models on Bedrock read it here.
  if (req.topK !== undefined) body.additionalModelRequestFields = { top_k: req.topK };
  const structured = structuredOutputTool(req);
  const tools = (req.tools ?? []).map((t) => ({ toolSpec: compact({ name: t.name, description: t.description, inputSchema: { json: t.parameters } }) }));
  if (structured) tools.push({ toolSpec: { name: structured.name, description: structured.description, inputSchema: { json: structured.schema } } });
  if (tools.length > 0) {
    const toolConfig: JsonObject = { tools };
    const c = structured ? { name: structured.name } : req.toolChoice;
    if (c === 'auto') toolConfig.toolChoice = { auto: {} };
    else if (c === 'required') toolConfig.toolChoice = { any: {} };
    else if (typeof c === 'object') toolConfig.toolChoice = { tool: { name: c.name } };
    body.toolConfig = toolConfig;
  }
  if (req.metadata) body.requestMetadata = req.metadata;
  return { body, dropped };
}
