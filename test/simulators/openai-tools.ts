// A fuller simulated OpenAI-format upstream than openai.ts: chat completions (text, tool calls,
// images; JSON and SSE), the Responses API (JSON and SSE, function calls), and embeddings. One
// simulator serves three flavours: `openai` (Bearer key, /v1/...), `azure` (api-key header,
// /openai/deployments/{deployment}/... and a required api-version, as Azure OpenAI) and
// `compatible` (an OpenAI-compatible server such as Groq or vLLM, /openai/v1/... or /v1/...).
import type http from 'node:http';
import { SimulatedServer, writeChunks, type Behaviour, type RecordedRequest } from './recorder.ts';
import { decide, imageFromDataUrl, jsonPieces, recordUsage, sendJson, simTokens, usageFor, words, type SimAnswer, type SimImage, type SimPrompt } from './wire-common.ts';

export type OpenAIFlavour = 'openai' | 'azure' | 'compatible';

export interface OpenAIToolsSimulatorOptions {
  flavour?: OpenAIFlavour;
  /** When set, requests without this key get OpenAI's 401. */
  apiKey?: string;
  paceMs?: number;
  /** azure: the deployments that exist; others get Azure's 404 DeploymentNotFound. */
  deployments?: string[];
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function textOf(content: unknown, images: SimImage[]): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) {
    if (!isObj(part)) continue;
    if (typeof part.text === 'string') texts.push(part.text);
    const url = part.type === 'image_url' && isObj(part.image_url) ? part.image_url.url : part.type === 'input_image' ? part.image_url : undefined;
    if (typeof url === 'string') {
      const img = imageFromDataUrl(url);
      if (img) images.push(img);
    }
  }
  return texts.join(' ');
}

/** Chat completions: messages[], tools[{type:function,function:{name}}]. */
function chatPrompt(body: Json): SimPrompt {
  const images: SimImage[] = [];
  const texts: string[] = [];
  let lastUserText = '';
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    if (!isObj(m)) continue;
    const t = textOf(m.content, images);
    texts.push(t);
    if (m.role === 'user') lastUserText = t;
  }
  const toolNames = (Array.isArray(body.tools) ? body.tools : []).map((t) => (isObj(t) && isObj(t.function) ? String(t.function.name) : ''));
  return { allText: texts.join(' '), lastUserText, toolNames, images };
}

/** Responses: input (string or items), instructions, tools[{type:function,name}]. */
function responsesPrompt(body: Json): SimPrompt {
  const images: SimImage[] = [];
  const texts: string[] = typeof body.instructions === 'string' ? [body.instructions] : [];
  let lastUserText = '';
  if (typeof body.input === 'string') {
    texts.push(body.input);
    lastUserText = body.input;
  } else if (Array.isArray(body.input)) {
    for (const item of body.input) {
      if (!isObj(item)) continue;
      const t = item.type === 'function_call_output' ? String(item.output ?? '') : textOf(item.content, images);
      texts.push(t);
      if (item.role === 'user') lastUserText = t;
    }
  }
  const toolNames = (Array.isArray(body.tools) ? body.tools : []).map((t) => (isObj(t) ? String(t.name ?? '') : ''));
  return { allText: texts.join(' '), lastUserText, toolNames, images };
}

function chatUsage(u: { inputTokens: number; outputTokens: number }) {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function chat(req: RecordedRequest, body: Json, b: Behaviour, res: http.ServerResponse, paceMs: number) {
  const prompt = chatPrompt(body);
  const answer = decide(prompt, b.text, 'call_');
  const usage = usageFor(prompt, answer);
  recordUsage(req, usage);
  const id = 'chatcmpl-sim0001';
  const created = 1_700_000_000;
  const model = String(body.model ?? 'unknown');
  const finish = answer.kind === 'tool' ? 'tool_calls' : 'stop';
  if (!body.stream) {
    const message = answer.kind === 'text'
      ? { role: 'assistant', content: answer.text, refusal: null }
      : { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: answer.id, type: 'function', function: { name: answer.name, arguments: answer.argsJson } }] };
    sendJson(res, 200, { id, object: 'chat.completion', created, model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage: chatUsage(usage), system_fingerprint: 'fp_sim' });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_sim' };
  const chunk = (delta: Json, finishReason: string | null = null) => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
  const chunks: string[] = [];
  if (answer.kind === 'text') {
    chunks.push(chunk({ role: 'assistant', content: '', refusal: null }));
    for (const w of words(answer.text)) chunks.push(chunk({ content: w }));
  } else {
    chunks.push(chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: answer.id, type: 'function', function: { name: answer.name, arguments: '' } }] }));
    for (const p of jsonPieces(answer.argsJson)) chunks.push(chunk({ tool_calls: [{ index: 0, function: { arguments: p } }] }));
  }
  chunks.push(chunk({}, finish));
  const opts = isObj(body.stream_options) ? body.stream_options : {};
  if (opts.include_usage) chunks.push(`data: ${JSON.stringify({ ...base, choices: [], usage: chatUsage(usage) })}\n\n`);
  chunks.push('data: [DONE]\n\n');
  return writeChunks(res, chunks, b, paceMs);
}

function outputItem(answer: SimAnswer, status: 'in_progress' | 'completed'): Json {
  if (answer.kind === 'tool') {
    return { type: 'function_call', id: 'fc_sim0001', call_id: answer.id, name: answer.name, arguments: status === 'completed' ? answer.argsJson : '', status };
  }
  return { type: 'message', id: 'msg_sim0001', status, role: 'assistant', content: status === 'completed' ? [{ type: 'output_text', text: answer.text, annotations: [], logprobs: [] }] : [] };
}

function responses(req: RecordedRequest, body: Json, b: Behaviour, res: http.ServerResponse, paceMs: number) {
  const prompt = responsesPrompt(body);
  const answer = decide(prompt, b.text, 'call_');
  const usage = usageFor(prompt, answer);
  recordUsage(req, usage);
  const wireUsage = { input_tokens: usage.inputTokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: usage.outputTokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: usage.inputTokens + usage.outputTokens };
  const response = (status: 'in_progress' | 'completed'): Json => ({
    id: 'resp_sim0001', object: 'response', created_at: 1_700_000_000, status, error: null, incomplete_details: null,
    instructions: body.instructions ?? null, model: String(body.model ?? 'unknown'),
    output: status === 'completed' ? [outputItem(answer, 'completed')] : [],
    parallel_tool_calls: true, tool_choice: body.tool_choice ?? 'auto', tools: body.tools ?? [], text: { format: { type: 'text' } },
    usage: status === 'completed' ? wireUsage : null,
  });
  if (!body.stream) {
    sendJson(res, 200, response('completed'));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let seq = 0;
  const ev = (type: string, data: Json) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`;
  const chunks = [ev('response.created', { response: response('in_progress') }), ev('response.in_progress', { response: response('in_progress') })];
  chunks.push(ev('response.output_item.added', { output_index: 0, item: outputItem(answer, 'in_progress') }));
  if (answer.kind === 'text') {
    const part = { type: 'output_text', text: '', annotations: [], logprobs: [] };
    chunks.push(ev('response.content_part.added', { item_id: 'msg_sim0001', output_index: 0, content_index: 0, part }));
    for (const w of words(answer.text)) chunks.push(ev('response.output_text.delta', { item_id: 'msg_sim0001', output_index: 0, content_index: 0, delta: w, logprobs: [] }));
    chunks.push(ev('response.output_text.done', { item_id: 'msg_sim0001', output_index: 0, content_index: 0, text: answer.text, logprobs: [] }));
    chunks.push(ev('response.content_part.done', { item_id: 'msg_sim0001', output_index: 0, content_index: 0, part: { ...part, text: answer.text } }));
  } else {
    for (const p of jsonPieces(answer.argsJson)) chunks.push(ev('response.function_call_arguments.delta', { item_id: 'fc_sim0001', output_index: 0, delta: p }));
    chunks.push(ev('response.function_call_arguments.done', { item_id: 'fc_sim0001', output_index: 0, arguments: answer.argsJson }));
  }
  chunks.push(ev('response.output_item.done', { output_index: 0, item: outputItem(answer, 'completed') }));
  chunks.push(ev('response.completed', { response: response('completed') }));
  return writeChunks(res, chunks, b, paceMs);
}

function embeddings(req: RecordedRequest, body: Json, res: http.ServerResponse) {
  const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')];
  const tokens = inputs.reduce((n, s) => n + simTokens(s), 0);
  recordUsage(req, { inputTokens: tokens, outputTokens: 0 });
  const vector = (s: string) => [s.length / 100, 0.5, -0.25];
  const asBase64 = body.encoding_format === 'base64';
  sendJson(res, 200, {
    object: 'list',
    data: inputs.map((s, index) => ({ object: 'embedding', index, embedding: asBase64 ? Buffer.from(new Float32Array(vector(s)).buffer).toString('base64') : vector(s) })),
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function openAIError(res: http.ServerResponse, status: number, message: string, type: string, code: string | null) {
  sendJson(res, status, { error: { message, type, param: null, code } });
}

/** Azure: GA versions serve chat and embeddings; the Responses API needs 2025-03-01-preview or later. */
function azureVersionProblem(path: string, op: string): string | undefined {
  const version = new URLSearchParams(path.split('?')[1] ?? '').get('api-version');
  if (!version) return 'Missing required query parameter: api-version';
  if (op === 'responses' && !(version.endsWith('-preview') && version >= '2025-03-01')) {
    return `Azure OpenAI Responses API is enabled only for api-version 2025-03-01-preview and later (got ${version})`;
  }
  return undefined;
}

export function createOpenAIToolsSimulator(opts: OpenAIToolsSimulatorOptions = {}): SimulatedServer {
  const flavour = opts.flavour ?? 'openai';
  return new SimulatedServer((req, b, res) => {
    const path = req.path.split('?')[0] ?? '';
    const op = path.endsWith('/chat/completions') ? 'chat' : path.endsWith('/responses') ? 'responses' : path.endsWith('/embeddings') ? 'embeddings' : '';
    const shape = flavour === 'azure' ? /^\/openai\/(deployments\/[^/]+\/(chat\/completions|embeddings)|responses)$/ : /^(\/openai)?\/v1\/(chat\/completions|responses|embeddings)$/;
    if (req.method !== 'POST' || !op || !shape.test(path)) return openAIError(res, 404, `Unknown path ${req.method} ${path}`, 'invalid_request_error', 'unknown_url');
    if (opts.apiKey) {
      const given = flavour === 'azure' ? req.headers['api-key'] : /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (given !== opts.apiKey) return openAIError(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    if (flavour === 'azure') {
      const problem = azureVersionProblem(req.path, op);
      if (problem) return openAIError(res, 400, problem, 'invalid_request_error', 'BadRequest');
    }
    if (!isObj(req.json)) return openAIError(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
    if (flavour === 'azure' && opts.deployments) {
      // Chat and embeddings name the deployment in the path; the Responses API in the body's model.
      const deployment = op === 'responses' ? String(req.json.model ?? '') : decodeURIComponent(/^\/openai\/deployments\/([^/]+)\//.exec(path)?.[1] ?? '');
      if (!opts.deployments.includes(deployment)) {
        return openAIError(res, 404, `The API deployment ${deployment} for this resource does not exist.`, 'invalid_request_error', 'DeploymentNotFound');
      }
    }
    if (op === 'chat') return chat(req, req.json, b, res, opts.paceMs ?? 0);
    if (op === 'responses') return responses(req, req.json, b, res, opts.paceMs ?? 0);
    return embeddings(req, req.json, res);
  });
}
