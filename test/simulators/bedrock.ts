// A simulated Amazon Bedrock runtime on loopback: POST /model/{modelId}/converse (JSON) and
// /converse-stream (the binary AWS event-stream framing, encoded with @smithy/eventstream-codec),
// toolUse blocks, image blocks, and /invoke for Titan text embeddings. Every request must carry a
// valid SigV4 signature for the configured credentials: the simulator re-derives it independently
// (node:crypto, over the bytes it actually received) and answers a mismatch the way AWS does:
// 403 with x-amzn-errortype and {"message": ...}.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { SimulatedServer, writeChunks, type Behaviour, type RecordedRequest } from './recorder.ts';
import { base64Bytes, decide, jsonPieces, recordUsage, sendJson, simTokens, usageFor, words, type SimImage, type SimPrompt } from './wire-common.ts';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface BedrockCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface BedrockSimulatorOptions {
  credentials: BedrockCredentials;
  region: string;
  paceMs?: number;
  /** Accepted clock skew between x-amz-date and now (AWS: 5 minutes). */
  maxSkewMs?: number;
}

// ------------------------------------------------------------------ SigV4 verification

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export type SignatureCheck = { ok: true } | { ok: false; errorType: string; message: string };

/**
 * Re-derives the SigV4 signature of a request as received. Non-S3 services encode every path
 * segment of the (already encoded) request path once more; the payload hash is computed over the
 * body bytes that arrived, so a body changed after signing fails too.
 */
export function verifySigV4(req: { method: string; path: string; headers: http.IncomingHttpHeaders; body: Buffer }, opts: { credentials: BedrockCredentials; region: string; service: string; now: number; maxSkewMs: number }): SignatureCheck {
  const auth = String(req.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { ok: false, errorType: 'IncompleteSignatureException', message: 'Authorization header requires Credential, SignedHeaders and Signature (AWS4-HMAC-SHA256).' };
  const [, accessKeyId, date, region, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (accessKeyId !== opts.credentials.accessKeyId) return { ok: false, errorType: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when || !amzDate.startsWith(date)) return { ok: false, errorType: 'IncompleteSignatureException', message: 'X-Amz-Date is missing or does not match the credential scope date.' };
  const signedAt = Date.UTC(+when[1]!, +when[2]! - 1, +when[3]!, +when[4]!, +when[5]!, +when[6]!);
  if (Math.abs(opts.now - signedAt) > opts.maxSkewMs) return { ok: false, errorType: 'InvalidSignatureException', message: `Signature expired: ${amzDate} is now earlier than allowed.` };
  if (region !== opts.region || service !== opts.service) {
    return { ok: false, errorType: 'InvalidSignatureException', message: `Credential should be scoped to a valid region and service ('${opts.region}'/'${opts.service}'), not '${region}'/'${service}'.` };
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return { ok: false, errorType: 'InvalidSignatureException', message: "'Host' must be a signed header." };
  const canonicalHeaders = names.map((n) => {
    const v = req.headers[n];
    const value = Array.isArray(v) ? v.join(',') : (v ?? '');
    return `${n}:${value.trim().replace(/\s+/g, ' ')}\n`;
  }).join('');
  const [rawPath = '/', rawQuery = ''] = req.path.split('?');
  const canonicalUri = rawPath.split('/').map((seg) => uriEncode(seg)).join('/');
  const canonicalQuery = rawQuery
    ? rawQuery.split('&').map((kv) => {
        const [k = '', v = ''] = kv.split('=');
        return [uriEncode(decodeURIComponent(k)), uriEncode(decodeURIComponent(v))] as const;
      }).sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&')
    : '';
  const payloadHash = sha256Hex(req.body);
  const claimed = req.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== payloadHash && claimed !== 'UNSIGNED-PAYLOAD') {
    return { ok: false, errorType: 'InvalidSignatureException', message: 'The provided x-amz-content-sha256 header does not match what was computed.' };
  }
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${opts.credentials.secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return {
      ok: false,
      errorType: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    };
  }
  return { ok: true };
}

// ------------------------------------------------------------------ Converse

function blocksText(content: unknown, images: SimImage[]): string {
  const texts: string[] = [];
  for (const b of Array.isArray(content) ? content : []) {
    if (!isObj(b)) continue;
    if (typeof b.text === 'string') texts.push(b.text);
    if (isObj(b.toolResult)) texts.push(blocksText(b.toolResult.content, images));
    if (isObj(b.json)) texts.push(JSON.stringify(b.json));
    if (isObj(b.image) && isObj(b.image.source)) images.push({ format: String(b.image.format ?? ''), bytes: base64Bytes(String(b.image.source.bytes ?? '')) });
  }
  return texts.join(' ');
}

export function conversePrompt(body: Json): SimPrompt {
  const images: SimImage[] = [];
  const texts: string[] = [];
  if (Array.isArray(body.system)) texts.push(blocksText(body.system, images));
  let lastUserText = '';
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    if (!isObj(m)) continue;
    const t = blocksText(m.content, images);
    texts.push(t);
    if (m.role === 'user' && t) lastUserText = t;
  }
  const toolNames: string[] = [];
  const tools = isObj(body.toolConfig) && Array.isArray(body.toolConfig.tools) ? body.toolConfig.tools : [];
  for (const t of tools) if (isObj(t) && isObj(t.toolSpec)) toolNames.push(String(t.toolSpec.name ?? ''));
  return { allText: texts.join(' '), lastUserText, toolNames, images };
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One event-stream frame, with the headers ConverseStream puts on every event. */
export function eventFrame(eventType: string, payload: Json): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    // AWS pads payloads with a "p" field so frame sizes do not leak the content.
    body: fromUtf8(JSON.stringify({ ...payload, p: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0'.slice(0, 8 + (JSON.stringify(payload).length % 40)) })),
  });
}

function awsError(res: http.ServerResponse, status: number, type: string, message: string) {
  sendJson(res, status, { message }, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, 'x-amzn-requestid': 'sim-req-0001' });
}

function converse(req: RecordedRequest, stream: boolean, body: Json, b: Behaviour, res: http.ServerResponse, paceMs: number) {
  if (!Array.isArray(body.messages) || body.messages.length === 0) return awsError(res, 400, 'ValidationException', 'The messages field is required.');
  const prompt = conversePrompt(body);
  const answer = decide(prompt, b.text, 'tooluse_');
  const usage = usageFor(prompt, answer);
  recordUsage(req, usage);
  const stopReason = answer.kind === 'tool' ? 'tool_use' : 'end_turn';
  const wireUsage = { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, totalTokens: usage.inputTokens + usage.outputTokens };
  if (!stream) {
    const block = answer.kind === 'text' ? { text: answer.text } : { toolUse: { toolUseId: answer.id, name: answer.name, input: answer.args } };
    sendJson(res, 200, { output: { message: { role: 'assistant', content: [block] } }, stopReason, usage: wireUsage, metrics: { latencyMs: 42 } }, { 'x-amzn-requestid': 'sim-req-0001' });
    return;
  }
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'sim-req-0001' });
  const frames: Uint8Array[] = [eventFrame('messageStart', { role: 'assistant' })];
  if (answer.kind === 'text') {
    for (const w of words(answer.text)) frames.push(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: w } }));
  } else {
    frames.push(eventFrame('contentBlockStart', { contentBlockIndex: 0, start: { toolUse: { toolUseId: answer.id, name: answer.name } } }));
    for (const p of jsonPieces(answer.argsJson)) frames.push(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: p } } }));
  }
  frames.push(eventFrame('contentBlockStop', { contentBlockIndex: 0 }));
  frames.push(eventFrame('messageStop', { stopReason }));
  frames.push(eventFrame('metadata', { usage: wireUsage, metrics: { latencyMs: 42 } }));
  return writeChunks(res, frames, b, paceMs);
}

function invoke(req: RecordedRequest, model: string, body: Json, res: http.ServerResponse) {
  if (!model.startsWith('amazon.titan-embed')) return awsError(res, 400, 'ValidationException', `This simulator invokes only Titan embeddings, not ${model}.`);
  const text = String(body.inputText ?? '');
  const tokens = simTokens(text);
  recordUsage(req, { inputTokens: tokens, outputTokens: 0 });
  sendJson(res, 200, { embedding: [text.length / 100, 0.5, -0.25], inputTextTokenCount: tokens });
}

export function createBedrockSimulator(opts: BedrockSimulatorOptions): SimulatedServer {
  return new SimulatedServer((req, b, res) => {
    const pathname = req.path.split('?')[0] ?? '';
    const m = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(pathname);
    if (req.method !== 'POST' || !m) return awsError(res, 404, 'UnknownOperationException', `Unknown operation ${req.method} ${pathname}`);
    const check = verifySigV4(
      { method: req.method, path: req.path, headers: req.headers, body: Buffer.from(req.body, 'utf8') },
      { credentials: opts.credentials, region: opts.region, service: 'bedrock', now: Date.now(), maxSkewMs: opts.maxSkewMs ?? 5 * 60_000 },
    );
    if (!check.ok) return awsError(res, 403, check.errorType, check.message);
    if (!isObj(req.json)) return awsError(res, 400, 'SerializationException', 'The request body is not valid JSON.');
    const model = decodeURIComponent(m[1]!);
    if (m[2] === 'invoke') return invoke(req, model, req.json, res);
    return converse(req, m[2] === 'converse-stream', req.json, b, res, opts.paceMs ?? 0);
  });
}
