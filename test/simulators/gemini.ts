// A simulated Gemini API (Generative Language, v1beta) on loopback: models/{model}:generateContent
// (JSON) and :streamGenerateContent?alt=sse (SSE of GenerateContentResponse chunks), functionCall
// parts, inlineData images, usageMetadata; :batchEmbedContents. Checks x-goog-api-key.
import type http from 'node:http';
import { SimulatedServer, writeChunks, type Behaviour, type RecordedRequest } from './recorder.ts';
import { base64Bytes, decide, recordUsage, sendJson, simTokens, usageFor, words, type SimImage, type SimPrompt } from './wire-common.ts';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function partsText(parts: unknown, images: SimImage[]): string {
  const texts: string[] = [];
  for (const p of Array.isArray(parts) ? parts : []) {
    if (!isObj(p)) continue;
    if (typeof p.text === 'string') texts.push(p.text);
    if (isObj(p.functionResponse)) texts.push(JSON.stringify(p.functionResponse.response ?? {}));
    if (isObj(p.inlineData)) images.push({ format: String(p.inlineData.mimeType ?? '').replace(/^image\//, ''), bytes: base64Bytes(String(p.inlineData.data ?? '')) });
  }
  return texts.join(' ');
}

export function geminiPrompt(body: Json): SimPrompt {
  const images: SimImage[] = [];
  const texts: string[] = [];
  if (isObj(body.systemInstruction)) texts.push(partsText(body.systemInstruction.parts, images));
  let lastUserText = '';
  for (const c of Array.isArray(body.contents) ? body.contents : []) {
    if (!isObj(c)) continue;
    const t = partsText(c.parts, images);
    texts.push(t);
    if ((c.role ?? 'user') === 'user' && t) lastUserText = t;
  }
  const toolNames: string[] = [];
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    if (!isObj(t) || !Array.isArray(t.functionDeclarations)) continue;
    for (const f of t.functionDeclarations) if (isObj(f)) toolNames.push(String(f.name ?? ''));
  }
  return { allText: texts.join(' '), lastUserText, toolNames, images };
}

function geminiError(res: http.ServerResponse, code: number, status: string, message: string) {
  sendJson(res, code, { error: { code, message, status } });
}

function generate(req: RecordedRequest, model: string, stream: boolean, body: Json, b: Behaviour, res: http.ServerResponse, paceMs: number) {
  if (!Array.isArray(body.contents) || body.contents.length === 0) return geminiError(res, 400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified');
  const prompt = geminiPrompt(body);
  const answer = decide(prompt, b.text, '');
  const usage = usageFor(prompt, answer);
  recordUsage(req, usage);
  const usageMetadata = { promptTokenCount: usage.inputTokens, candidatesTokenCount: usage.outputTokens, totalTokenCount: usage.inputTokens + usage.outputTokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: usage.inputTokens }] };
  const chunk = (parts: Json[], final: boolean): Json => ({
    candidates: [{ content: { parts, role: 'model' }, index: 0, ...(final ? { finishReason: 'STOP' } : {}) }],
    // Gemini reports the prompt count on every chunk and the full usage on the last.
    usageMetadata: final ? usageMetadata : { promptTokenCount: usage.inputTokens, totalTokenCount: usage.inputTokens },
    modelVersion: model,
    responseId: 'sim-response-0001',
  });
  const fullParts = answer.kind === 'text' ? [{ text: answer.text }] : [{ functionCall: { name: answer.name, args: answer.args } }];
  if (!stream) {
    sendJson(res, 200, chunk(fullParts, true));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const data = (v: Json) => `data: ${JSON.stringify(v)}\r\n\r\n`;
  const chunks: string[] = [];
  if (answer.kind === 'text') {
    const pieces = words(answer.text);
    pieces.forEach((w, i) => chunks.push(data(chunk([{ text: w }], i === pieces.length - 1))));
  } else {
    // Function calls arrive whole, never split across chunks.
    chunks.push(data(chunk(fullParts, true)));
  }
  return writeChunks(res, chunks, b, paceMs);
}

function batchEmbed(req: RecordedRequest, body: Json, res: http.ServerResponse) {
  const requests = Array.isArray(body.requests) ? body.requests : [];
  const embeddings = requests.map((r) => {
    const text = isObj(r) && isObj(r.content) ? partsText(r.content.parts, []) : '';
    return { values: [text.length / 100, 0.5, -0.25] };
  });
  recordUsage(req, { inputTokens: requests.reduce((n: number, r) => n + simTokens(isObj(r) && isObj(r.content) ? partsText(r.content.parts, []) : ''), 0), outputTokens: 0 });
  sendJson(res, 200, { embeddings });
}

export function createGeminiSimulator(opts: { apiKey?: string; paceMs?: number } = {}): SimulatedServer {
  return new SimulatedServer((req, b, res) => {
    const [pathname = '', query = ''] = req.path.split('?');
    const m = /^\/v1(?:beta)?\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents)$/.exec(pathname);
    if (req.method !== 'POST' || !m) return geminiError(res, 404, 'NOT_FOUND', `Not found: ${req.method} ${pathname}`);
    if (opts.apiKey && req.headers['x-goog-api-key'] !== opts.apiKey) return geminiError(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.');
    if (!isObj(req.json)) return geminiError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    const model = decodeURIComponent(m[1]!);
    if (m[2] === 'batchEmbedContents') return batchEmbed(req, req.json, res);
    const stream = m[2] === 'streamGenerateContent';
    // Without alt=sse Gemini streams one JSON array; the SSE form is what SDKs (and the gateway) ask for.
    if (stream && new URLSearchParams(query).get('alt') !== 'sse') return geminiError(res, 400, 'INVALID_ARGUMENT', 'This simulator streams only with alt=sse');
    return generate(req, model, stream, req.json, b, res, opts.paceMs ?? 0);
  });
}
