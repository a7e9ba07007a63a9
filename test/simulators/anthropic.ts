// A simulated Anthropic Messages API on loopback: POST /v1/messages (JSON, and SSE with the
// documented event sequence message_start, content_block_start/delta/stop, ping, message_delta
// with usage, message_stop), tool_use blocks (input_json_delta when streamed), base64 images, and
// POST /v1/messages/count_tokens. Checks x-api-key and anthropic-version like the real API.
import type http from 'node:http';
import { SimulatedServer, writeChunks, type Behaviour, type RecordedRequest } from './recorder.ts';
import { base64Bytes, decide, jsonPieces, recordUsage, sendJson, simTokens, usageFor, words, type SimImage, type SimPrompt } from './wire-common.ts';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function blocksText(content: unknown, images: SimImage[]): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const b of content) {
    if (!isObj(b)) continue;
    if (b.type === 'text' && typeof b.text === 'string') texts.push(b.text);
    if (b.type === 'tool_result') texts.push(blocksText(b.content, images));
    if (b.type === 'image' && isObj(b.source) && b.source.type === 'base64') {
      images.push({ format: String(b.source.media_type ?? '').replace(/^image\//, ''), bytes: base64Bytes(String(b.source.data ?? '')) });
    }
  }
  return texts.join(' ');
}

export function anthropicPrompt(body: Json): SimPrompt {
  const images: SimImage[] = [];
  const texts: string[] = [];
  if (body.system !== undefined) texts.push(blocksText(body.system, images));
  let lastUserText = '';
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    if (!isObj(m)) continue;
    const t = blocksText(m.content, images);
    texts.push(t);
    if (m.role === 'user') lastUserText = t;
  }
  const toolNames = (Array.isArray(body.tools) ? body.tools : []).map((t) => (isObj(t) ? String(t.name ?? '') : ''));
  return { allText: texts.join(' '), lastUserText, toolNames, images };
}

function anthropicError(res: http.ServerResponse, status: number, type: string, message: string) {
  sendJson(res, status, { type: 'error', error: { type, message }, request_id: 'req_sim0001' });
}

function messages(req: RecordedRequest, body: Json, b: Behaviour, res: http.ServerResponse, paceMs: number) {
  if (typeof body.model !== 'string') return anthropicError(res, 400, 'invalid_request_error', 'model: Field required');
  if (typeof body.max_tokens !== 'number') return anthropicError(res, 400, 'invalid_request_error', 'max_tokens: Field required');
  if (!Array.isArray(body.messages)) return anthropicError(res, 400, 'invalid_request_error', 'messages: Field required');
  const prompt = anthropicPrompt(body);
  const answer = decide(prompt, b.text, 'toolu_');
  const usage = usageFor(prompt, answer);
  recordUsage(req, usage);
  const id = 'msg_sim0001';
  const stopReason = answer.kind === 'tool' ? 'tool_use' : 'end_turn';
  const block = answer.kind === 'text' ? { type: 'text', text: answer.text } : { type: 'tool_use', id: answer.id, name: answer.name, input: answer.args };
  const wireUsage = (output: number) => ({ input_tokens: usage.inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output, service_tier: 'standard' });
  if (!body.stream) {
    sendJson(res, 200, { id, type: 'message', role: 'assistant', model: body.model, content: [block], stop_reason: stopReason, stop_sequence: null, usage: wireUsage(usage.outputTokens) });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_sim0001' });
  const ev = (type: string, data: Json) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const chunks = [ev('message_start', { message: { id, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: wireUsage(1) } })];
  if (answer.kind === 'text') {
    chunks.push(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    chunks.push(ev('ping', {}));
    for (const w of words(answer.text)) chunks.push(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: w } }));
  } else {
    chunks.push(ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: answer.id, name: answer.name, input: {} } }));
    chunks.push(ev('ping', {}));
    chunks.push(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '' } }));
    for (const p of jsonPieces(answer.argsJson)) chunks.push(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: p } }));
  }
  chunks.push(ev('content_block_stop', { index: 0 }));
  chunks.push(ev('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.outputTokens } }));
  chunks.push(ev('message_stop', {}));
  return writeChunks(res, chunks, b, paceMs);
}

function countTokens(req: RecordedRequest, body: Json, res: http.ServerResponse) {
  if (typeof body.model !== 'string' || !Array.isArray(body.messages)) return anthropicError(res, 400, 'invalid_request_error', 'model and messages are required');
  const prompt = anthropicPrompt(body);
  const input = 100 + simTokens(prompt.allText) + 50 * prompt.images.length;
  recordUsage(req, { inputTokens: input, outputTokens: 0 });
  sendJson(res, 200, { input_tokens: input });
}

export function createAnthropicSimulator(opts: { apiKey?: string; paceMs?: number } = {}): SimulatedServer {
  return new SimulatedServer((req, b, res) => {
    const path = req.path.split('?')[0] ?? '';
    if (req.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) {
      return anthropicError(res, 404, 'not_found_error', `Not found: ${req.method} ${path}`);
    }
    if (opts.apiKey && req.headers['x-api-key'] !== opts.apiKey) return anthropicError(res, 401, 'authentication_error', 'invalid x-api-key');
    if (!req.headers['anthropic-version']) return anthropicError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    if (!isObj(req.json)) return anthropicError(res, 400, 'invalid_request_error', 'The request body is not valid JSON.');
    if (path === '/v1/messages/count_tokens') return countTokens(req, req.json, res);
    return messages(req, req.json, b, res, opts.paceMs ?? 0);
  });
}
