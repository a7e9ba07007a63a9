// Gemini generateContent request body -> canonical request. The model comes from the path.
import { fail, invalidBody } from '../../canonical/errors.ts';
import { isObject, type JsonObject } from '../../canonical/json.ts';
import { asObject, optArray, optInt, optNumber, optObject, optString, optStringList, reqString } from '../../canonical/read.ts';
import type { CanonicalMessage, CanonicalRequest, CanonicalTool, ContentPart, UnmappedParam } from '../../canonical/types.ts';
import { unmappedParams } from '../openai-chat/parse.ts';

const MAPPED = new Set(['contents', 'systemInstruction', 'system_instruction', 'tools', 'toolConfig', 'tool_config', 'generationConfig', 'generation_config', 'model']);
/** Safety thresholds have no equivalent elsewhere; the target applies its own policy. */
const DROPPABLE = new Set(['safetySettings', 'safety_settings', 'labels']);
const GEN_MAPPED = new Set([
  'temperature', 'topP', 'topK', 'maxOutputTokens', 'stopSequences', 'candidateCount', 'presencePenalty', 'frequencyPenalty', 'seed',
  'responseMimeType', 'responseSchema', 'responseJsonSchema', 'thinkingConfig',
]);

/** Gemini's OpenAPI-style schema uses upper-case type names; JSON Schema wants lower case. */
export function toJsonSchema(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toJsonSchema);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, val] of Object.entries(v)) out[k] = k === 'type' && typeof val === 'string' ? val.toLowerCase() : toJsonSchema(val);
  return out;
}

function parseContents(list: unknown[], unmapped: UnmappedParam[]): CanonicalMessage[] {
  const open: Array<{ id: string; name: string }> = []; // calls awaiting a functionResponse, for id matching
  return list.map((v, i) => {
    const c = asObject(v, `contents[${i}]`);
    const role = optString(c, 'role', `contents[${i}].role`) ?? 'user';
    if (role !== 'user' && role !== 'model' && role !== 'function') fail(invalidBody("'role' must be user or model", `contents[${i}].role`));
    const parts: ContentPart[] = [];
    (optArray(c, 'parts', `contents[${i}].parts`) ?? []).forEach((pv, j) => {
      const param = `contents[${i}].parts[${j}]`;
      const p = asObject(pv, param);
      if (p.thought === true) {
        unmapped.push({ param, droppable: true });
      } else if (typeof p.text === 'string') {
        parts.push({ type: 'text', text: p.text });
      } else if (isObject(p.inlineData)) {
        const d = p.inlineData;
        parts.push({ type: 'image', source: { kind: 'base64', mediaType: reqString(d, 'mimeType', `${param}.inlineData.mimeType`), data: reqString(d, 'data', `${param}.inlineData.data`) }, param: `${param}.inlineData` });
      } else if (isObject(p.fileData) && String(p.fileData.mimeType ?? '').startsWith('image/')) {
        parts.push({ type: 'image', source: { kind: 'url', url: reqString(p.fileData, 'fileUri', `${param}.fileData.fileUri`) }, param: `${param}.fileData` });
      } else if (isObject(p.functionCall)) {
        const fc = p.functionCall;
        const call = { id: optString(fc, 'id', `${param}.functionCall.id`) ?? `call_${i}_${j}`, name: reqString(fc, 'name', `${param}.functionCall.name`) };
        open.push(call);
        parts.push({ type: 'tool_call', ...call, arguments: JSON.stringify(fc.args ?? {}) });
      } else if (isObject(p.functionResponse)) {
        const fr = p.functionResponse;
        const name = reqString(fr, 'name', `${param}.functionResponse.name`);
        const explicit = optString(fr, 'id', `${param}.functionResponse.id`);
        // Without ids, Gemini pairs responses with calls by name in order.
        const k = open.findIndex((c2) => (explicit ? c2.id === explicit : c2.name === name));
        const match = k >= 0 ? open.splice(k, 1)[0] : undefined;
        const response = fr.response;
        const textOut = isObject(response) && typeof response.content === 'string' && Object.keys(response).length === 1 ? response.content : JSON.stringify(response ?? {});
        parts.push({ type: 'tool_result', toolCallId: explicit ?? match?.id ?? `call_${name}`, name, content: [{ type: 'text', text: textOut }] });
      } else {
        unmapped.push({ param, droppable: false }); // executable code, video, audio, files that are not images
      }
    });
    return { role: role === 'model' ? 'assistant' : 'user', content: parts };
  });
}

function parseTools(list: unknown[] | undefined, unmapped: UnmappedParam[]): CanonicalTool[] | undefined {
  if (!list) return undefined;
  const out: CanonicalTool[] = [];
  list.forEach((tv, i) => {
    const t = asObject(tv, `tools[${i}]`);
    for (const key of Object.keys(t)) {
      if (key !== 'functionDeclarations' && key !== 'function_declarations') unmapped.push({ param: `tools[${i}].${key}`, droppable: false });
    }
    (optArray(t, 'functionDeclarations', `tools[${i}].functionDeclarations`) ?? optArray(t, 'function_declarations') ?? []).forEach((fv, j) => {
      const param = `tools[${i}].functionDeclarations[${j}]`;
      const f = asObject(fv, param);
      const schema = f.parametersJsonSchema ?? toJsonSchema(f.parameters ?? { type: 'object', properties: {} });
      const tool: CanonicalTool = { name: reqString(f, 'name', `${param}.name`), parameters: asObject(schema, `${param}.parameters`) };
      const description = optString(f, 'description', `${param}.description`);
      if (description !== undefined) tool.description = description;
      out.push(tool);
    });
  });
  return out;
}

function systemText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  const s = asObject(v, 'systemInstruction');
  return (optArray(s, 'parts', 'systemInstruction.parts') ?? []).map((p, i) => reqString(asObject(p, `systemInstruction.parts[${i}]`), 'text', `systemInstruction.parts[${i}].text`)).join('\n\n');
}

export function parseGemini(raw: unknown, opts: { pathModel?: string; stream?: boolean }): CanonicalRequest {
  const body = asObject(raw, 'body');
  const unmapped = unmappedParams(body, MAPPED, DROPPABLE);
  const contents = optArray(body, 'contents');
  if (!contents) fail(invalidBody("'contents' is required", 'contents'));
  const model = opts.pathModel ?? optString(body, 'model');
  if (!model) fail(invalidBody('The model is required in the path', 'model'));
  const req: CanonicalRequest = {
    operation: 'chat',
    model: model.replace(/^models\//, ''),
    messages: parseContents(contents, unmapped),
    stream: opts.stream ?? false,
    unmapped,
  };
  const system = systemText(body.systemInstruction ?? body.system_instruction);
  if (system !== undefined) req.system = system;
  const tools = parseTools(optArray(body, 'tools'), unmapped);
  if (tools) req.tools = tools;
  const fcc = optObject(optObject(body, 'toolConfig') ?? {}, 'functionCallingConfig', 'toolConfig.functionCallingConfig');
  if (fcc) {
    const mode = optString(fcc, 'mode', 'toolConfig.functionCallingConfig.mode');
    const allowed = optStringList(fcc, 'allowedFunctionNames', 'toolConfig.functionCallingConfig.allowedFunctionNames');
    if (mode === 'NONE') req.toolChoice = 'none';
    else if (mode === 'ANY' && allowed?.length === 1 && allowed[0]) req.toolChoice = { name: allowed[0] };
    else if (mode === 'ANY') {
      req.toolChoice = 'required';
      if (allowed && allowed.length > 1) unmapped.push({ param: 'toolConfig.functionCallingConfig.allowedFunctionNames', droppable: false });
    } else if (mode === 'AUTO' || mode === undefined || mode === 'MODE_UNSPECIFIED') req.toolChoice = 'auto';
    else unmapped.push({ param: 'toolConfig.functionCallingConfig.mode', droppable: false });
  }
  const gen = optObject(body, 'generationConfig') ?? optObject(body, 'generation_config') ?? {};
  for (const key of Object.keys(gen)) if (!GEN_MAPPED.has(key) && gen[key] !== undefined && gen[key] !== null) unmapped.push({ param: `generationConfig.${key}`, droppable: false });
  const p = (k: string): string => `generationConfig.${k}`;
  const set = <K extends keyof CanonicalRequest>(key: K, v: CanonicalRequest[K] | undefined): void => {
    if (v !== undefined) req[key] = v;
  };
  set('temperature', optNumber(gen, 'temperature', p('temperature'), { min: 0, max: 2 }));
  set('topP', optNumber(gen, 'topP', p('topP'), { min: 0, max: 1 }));
  set('topK', optInt(gen, 'topK', p('topK'), 0));
  set('maxTokens', optInt(gen, 'maxOutputTokens', p('maxOutputTokens'), 1));
  const stop = optStringList(gen, 'stopSequences', p('stopSequences'));
  if (stop && stop.length > 0) req.stop = stop;
  set('n', optInt(gen, 'candidateCount', p('candidateCount'), 1));
  set('presencePenalty', optNumber(gen, 'presencePenalty', p('presencePenalty')));
  set('frequencyPenalty', optNumber(gen, 'frequencyPenalty', p('frequencyPenalty')));
  set('seed', optInt(gen, 'seed', p('seed'), Number.MIN_SAFE_INTEGER));
  const mime = optString(gen, 'responseMimeType', p('responseMimeType'));
  const schema = gen.responseJsonSchema ?? (gen.responseSchema !== undefined ? toJsonSchema(gen.responseSchema) : undefined);
  if (mime === 'application/json') {
    req.responseFormat = isObject(schema) ? { type: 'json_schema', name: 'response', schema } : { type: 'json_object' };
  } else if (mime !== undefined && mime !== 'text/plain') {
    unmapped.push({ param: p('responseMimeType'), droppable: false });
  }
  const thinking = optObject(gen, 'thinkingConfig', p('thinkingConfig'));
  const budget = thinking ? optInt(thinking, 'thinkingBudget', p('thinkingConfig.thinkingBudget'), -1) : undefined;
  if (budget !== undefined && budget > 0) req.reasoning = { budgetTokens: budget };
  if (budget === -1) req.reasoning = { effort: 'medium' }; // dynamic thinking
  return req;
}
