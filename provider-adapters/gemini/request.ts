// Canonical -> Gemini generateContent body.
import { fail, unsupportedParam } from '../canonical/errors.ts';
import { compact, type JsonObject } from '../canonical/json.ts';
import { budgetForEffort, dropImageDetails, rejectIfSet, rejectImageUrls, settleUnmapped } from '../canonical/params.ts';
import type { CanonicalRequest, ContentPart } from '../canonical/types.ts';
import { parseArguments } from '../anthropic/request.ts';

const PROVIDER = 'gemini';

function part(p: ContentPart, param: string): JsonObject {
  switch (p.type) {
    case 'text':
      return { text: p.text };
    case 'image':
      if (p.source.kind !== 'base64') fail(unsupportedParam(p.param, PROVIDER));
      return { inlineData: { mimeType: p.source.mediaType, data: p.source.data } };
    case 'tool_call':
      return { functionCall: { name: p.name, args: parseArguments(p.arguments, param) } };
    case 'tool_result': {
      if (!p.name) fail(unsupportedParam(param, PROVIDER, 'a tool result must follow the tool call it answers'));
      const text = p.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
      if (p.content.some((c) => c.type === 'image')) fail(unsupportedParam(param, PROVIDER, 'images inside tool results'));
      return { functionResponse: { name: p.name, response: p.isError ? { error: text } : { content: text } } };
    }
  }
}

export function toGeminiBody(req: CanonicalRequest): { body: JsonObject; dropped: string[] } {
  const dropped: string[] = [];
  settleUnmapped(req, PROVIDER, dropped);
  dropImageDetails(req, dropped);
  rejectImageUrls(req, PROVIDER);
  rejectIfSet(req.n, 1, 'n', PROVIDER);
  if (req.user !== undefined) dropped.push('user');
  if (req.metadata) dropped.push('metadata');
  if (req.parallelToolCalls !== undefined) dropped.push('parallel_tool_calls');

  const contents = req.messages.map((m, i) => ({
    role: m.role === 'assistant' ? 'model' : 'user',
    parts: m.content.map((p, j) => part(p, `messages[${i}].content[${j}]`)),
  }));
  const body: JsonObject = { contents };
  if (req.system !== undefined) body.systemInstruction = { parts: [{ text: req.system }] };
  if (req.tools && req.tools.length > 0) {
    body.tools = [{ functionDeclarations: req.tools.map((t) => compact({ name: t.name, description: t.description, parametersJsonSchema: t.parameters })) }];
  }
  if (req.toolChoice !== undefined) {
    const c = req.toolChoice;
    const mode = c === 'auto' ? 'AUTO' : c === 'none' ? 'NONE' : 'ANY';
    body.toolConfig = { functionCallingConfig: typeof c === 'object' ? { mode, allowedFunctionNames: [c.name] } : { mode } };
  }
  const gen: JsonObject = {
    temperature: req.temperature,
    topP: req.topP,
    topK: req.topK,
    maxOutputTokens: req.maxTokens,
    stopSequences: req.stop,
    presencePenalty: req.presencePenalty,
    frequencyPenalty: req.frequencyPenalty,
    seed: req.seed,
  };
  const rf = req.responseFormat;
  if (rf && rf.type !== 'text') {
    gen.responseMimeType = 'application/json';
    if (rf.type === 'json_schema') gen.responseJsonSchema = rf.schema;
  }
  if (req.reasoning) gen.thinkingConfig = { thinkingBudget: req.reasoning.budgetTokens ?? budgetForEffort(req.reasoning.effort ?? 'medium') };
  compact(gen);
  if (Object.keys(gen).length > 0) body.generationConfig = gen;
  return { body, dropped };
}
