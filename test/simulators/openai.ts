// A simulated OpenAI API (chat completions JSON and SSE, embeddings, models) on loopback, speaking
// the documented wire format, for tests, the demo and the benchmarks.
import { SimulatedServer, writeChunks, type Behaviour, type RecordedRequest } from './recorder.ts';
import type http from 'node:http';

export const DEFAULT_ANSWER = 'Hello from the simulated provider.';

/** A deterministic token count for the simulator: one token per word-ish piece. */
export function simTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function promptText(body: { messages?: { content?: unknown }[] }): string {
  return (body.messages ?? []).map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''))).join(' ');
}

function chat(req: RecordedRequest, b: Behaviour, res: http.ServerResponse, paceMs: number) {
  const body = (req.json ?? {}) as { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean }; messages?: { content?: unknown }[]; tools?: unknown[] };
  const text = b.text ?? DEFAULT_ANSWER;
  const usage = { prompt_tokens: simTokens(promptText(body)), completion_tokens: simTokens(text), total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const id = `chatcmpl-sim${req.headers['x-request-id'] ? '' : ''}${Date.now().toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = body.model ?? 'unknown';
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      id, object: 'chat.completion', created, model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage,
    }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_sim' };
  const words = text.match(/\S+\s*/g) ?? [text];
  const chunks: string[] = [`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] })}\n\n`];
  for (const w of words) chunks.push(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: w }, logprobs: null, finish_reason: null }] })}\n\n`);
  chunks.push(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] })}\n\n`);
  if (body.stream_options?.include_usage) chunks.push(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
  chunks.push('data: [DONE]\n\n');
  return writeChunks(res, chunks, b, paceMs);
}

function embeddings(req: RecordedRequest, res: http.ServerResponse) {
  const body = (req.json ?? {}) as { input?: string | string[]; model?: string };
  const inputs = Array.isArray(body.input) ? body.input : [body.input ?? ''];
  const tokens = inputs.reduce((n, s) => n + simTokens(String(s)), 0);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({
    object: 'list',
    data: inputs.map((s, index) => ({ object: 'embedding', index, embedding: [String(s).length / 100, 0.5, -0.25] })),
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  }));
}

export function createOpenAISimulator(opts: { paceMs?: number } = {}): SimulatedServer {
  return new SimulatedServer((req, b, res) => {
    const path = req.path.split('?')[0] ?? '';
    if (req.method === 'POST' && path.endsWith('/chat/completions')) return chat(req, b, res, opts.paceMs ?? 0);
    if (req.method === 'POST' && path.endsWith('/embeddings')) return embeddings(req, res);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `Unknown path ${path}`, type: 'invalid_request_error', code: 'unknown_url' } }));
  });
}
