import { createHash, createHmac } from 'node:crypto';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { buildUpstreamRequest, parseIngress, signBedrockRequest, translateJsonResponse } from '../../../provider-adapters/index.ts';
import type { WireRequest } from '../../../provider-adapters/index.ts';
import {
  bytes, fixtureBytes, fixtureJson, fixtureNames, reassembleAnthropic, reassembleOpenAIChat, runStream, splits, sseEvents, streamArgs, text,
} from './helpers.ts';

const target = { type: 'bedrock' as const, baseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com', region: 'us-east-1' };
const codec = new EventStreamCodec(toUtf8, fromUtf8);

function frames(events: Array<{ eventType: string; payload: unknown }>): Uint8Array {
  const parts = events.map((e) =>
    codec.encode({
      headers: {
        ':event-type': { type: 'string', value: e.eventType },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      },
      body: fromUtf8(JSON.stringify(e.payload)),
    }),
  );
  return Buffer.concat(parts);
}

function exceptionFrame(type: string, message: string): Uint8Array {
  return codec.encode({
    headers: { ':exception-type': { type: 'string', value: type }, ':content-type': { type: 'string', value: 'application/json' }, ':message-type': { type: 'string', value: 'exception' } },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

function buildFrom(body: unknown, model = 'anthropic.claude-3-5-sonnet-20240620-v1:0') {
  const p = parseIngress('openai-chat', bytes(JSON.stringify(body)), {});
  if (!p.ok) throw new Error(p.error.message);
  return buildUpstreamRequest({ dialect: 'openai-chat', request: p.request, raw: p.raw, provider: target, model });
}

describe('bedrock request translation', () => {
  test('openai-chat fixture becomes ConverseStream', () => {
    const r = buildFrom(fixtureJson('openai', 'chat-request.json'));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.wire.path).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream');
    expect(r.wire.headers.host).toBe('bedrock-runtime.us-east-1.amazonaws.com');
    const body = JSON.parse(text(r.wire.body));
    expect(body.system).toEqual([{ text: 'You are a weather assistant.' }]);
    expect(body.messages[0].content[1]).toEqual({ image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } });
    expect(body.messages[1].content[0]).toEqual({ toolUse: { toolUseId: 'call_paris', name: 'get_weather', input: { city: 'Paris' } } });
    expect(body.messages[2].content[0]).toEqual({ toolResult: { toolUseId: 'call_paris', content: [{ text: '18C, sunny' }] } });
    expect(body.inferenceConfig).toEqual({ maxTokens: 300, temperature: 0.4, topP: 0.9, stopSequences: ['END'] });
    expect(body.toolConfig.toolChoice).toEqual({ auto: {} });
    expect(body.toolConfig.tools[0].toolSpec.inputSchema.json).toMatchObject({ type: 'object' });
    expect(r.droppedParams.sort()).toEqual(['messages[1].content[1].image_url.detail', 'seed', 'user']);
  });

  test.each([
    ['image URL', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/a.png' } }] }] }, 'messages[0].content[0].image_url'],
    ['tool_choice none', { messages: [{ role: 'user', content: 'x' }], tool_choice: 'none', tools: [{ type: 'function', function: { name: 'f' } }] }, 'tool_choice'],
    ['reasoning', { messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'low' }, 'reasoning'],
  ])('rejects %s', (_n, body, param) => {
    const r = buildFrom({ model: 'm', ...body });
    expect(r.ok ? null : r.error).toMatchObject({ status: 400, param });
  });
});

describe('bedrock SigV4', () => {
  // An independent SigV4 implementation (AWS docs, "Create a signed AWS API request") to re-derive the signature.
  function hmac(key: Buffer | string, data: string): Buffer {
    return createHmac('sha256', key).update(data, 'utf8').digest();
  }
  const sha = (d: Uint8Array | string) => createHash('sha256').update(d).digest('hex');
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

  function expectedSignature(w: WireRequest, secret: string, region: string, amzDate: string): { signature: string; signedHeaders: string } {
    const headers = Object.entries(w.headers)
      .filter(([k]) => k.toLowerCase() !== 'authorization')
      .map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const signedHeaders = headers.map(([k]) => k).join(';');
    // Non-S3 services double-encode the path: each already-encoded segment is encoded again.
    const canonicalUri = w.path.split('/').map(enc).join('/');
    const canonical = ['POST', canonicalUri, '', ...headers.map(([k, v]) => `${k}:${v}`), '', signedHeaders, sha(w.body)].join('\n');
    const date = amzDate.slice(0, 8);
    const scope = `${date}/${region}/bedrock/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha(canonical)].join('\n');
    const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 'bedrock'), 'aws4_request');
    return { signature: createHmac('sha256', key).update(toSign).digest('hex'), signedHeaders };
  }

  test('signature matches an independent derivation', async () => {
    const r = buildFrom({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    if (!r.ok) throw new Error(r.error.message);
    const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };
    const signed = await signBedrockRequest(r.wire, creds, 'us-east-1', new Date('2024-05-01T12:34:56Z'));
    expect(signed.headers['x-amz-date']).toBe('20240501T123456Z');
    expect(signed.headers['x-amz-security-token']).toBe('session-token');
    const auth = signed.headers.authorization ?? '';
    const m = /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20240501\/us-east-1\/bedrock\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
    expect(m).not.toBeNull();
    const { signature, signedHeaders } = expectedSignature(signed, creds.secretAccessKey, 'us-east-1', '20240501T123456Z');
    expect(m?.[1]).toBe(signedHeaders);
    expect(m?.[2]).toBe(signature);
    expect(signed.body).toBe(r.wire.body);
  });

  test('signature changes with the body', async () => {
    const creds = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    const w = (b: string): WireRequest => ({ method: 'POST', path: '/model/m/converse', headers: { host: 'bedrock-runtime.us-east-1.amazonaws.com', 'content-type': 'application/json' }, body: bytes(b) });
    const now = new Date('2024-01-01T00:00:00Z');
    const a = await signBedrockRequest(w('{"a":1}'), creds, 'us-east-1', now);
    const b = await signBedrockRequest(w('{"a":2}'), creds, 'us-east-1', now);
    expect(a.headers.authorization).not.toBe(b.headers.authorization);
  });
});

describe('bedrock responses', () => {
  const args = { providerType: 'bedrock' as const, model: 'client-model', status: 200, requestId: 'req_1', created: 1700000000 };

  test('Converse JSON to openai-chat', () => {
    const r = translateJsonResponse({ ...args, dialect: 'openai-chat', body: fixtureBytes('bedrock', 'converse-response.json') });
    const out = JSON.parse(text(r.body));
    expect(out.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { content: 'Checking Oslo.', tool_calls: [{ id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] } });
    expect(r.usage).toEqual({ inputTokens: 250, outputTokens: 31, cachedInputTokens: 50, cacheCreationInputTokens: 0 });
  });

  test.each(fixtureNames('bedrock', 'error-'))('error %s', (name) => {
    const fx = fixtureJson<{ status: number; headers: Record<string, string>; body: unknown; expect: Record<string, unknown> }>('bedrock', name);
    const r = translateJsonResponse({ ...args, dialect: 'anthropic-messages', status: fx.status, headers: fx.headers, body: bytes(JSON.stringify(fx.body)) });
    expect(r.error).toMatchObject(fx.expect);
    expect(JSON.parse(text(r.body)).type).toBe('error');
  });

  const stream = frames(fixtureJson('bedrock', 'converse-stream.events.json'));

  test('ConverseStream to openai-chat at every byte split', () => {
    for (const chunks of splits(stream)) {
      const run = runStream(streamArgs('openai-chat', 'bedrock'), chunks);
      const r = reassembleOpenAIChat(run.output);
      expect(r.text).toBe('Checking Zürich — one moment ☀️');
      expect(r.tools).toEqual([{ id: 'tooluse_1', name: 'get_weather', args: '{"city": "Zürich"}' }]);
      expect(r.finish).toBe('tool_calls');
      expect(r.terminal).toBe(true);
      expect(run.usage).toEqual({ inputTokens: 60, outputTokens: 25 });
    }
  });

  test('ConverseStream to anthropic-messages', () => {
    const run = runStream(streamArgs('anthropic-messages', 'bedrock'), [stream]);
    const r = reassembleAnthropic(run.output);
    expect(r.tools[0]?.args).toBe('{"city": "Zürich"}');
    expect(r.finish).toBe('tool_use');
    expect(r.usage).toMatchObject({ input_tokens: 60, output_tokens: 25 });
  });

  test('exception frame becomes an in-band error with its status', () => {
    const events = fixtureJson<Array<{ eventType: string; payload: unknown }>>('bedrock', 'converse-stream.events.json').slice(0, 3);
    const run = runStream(streamArgs('openai-chat', 'bedrock'), [Buffer.concat([frames(events), exceptionFrame('throttlingException', 'Too many tokens')])]);
    const r = reassembleOpenAIChat(run.output);
    expect(r.error).toMatchObject({ code: 'rate_limit_exceeded', message: 'Too many tokens' });
    expect(run.complete).toBe(false);
    expect(sseEvents(run.output).filter((e) => e.data.includes('"error"'))).toHaveLength(1);
  });

  test('cut stream (no messageStop) -> in-band error', () => {
    const events = fixtureJson<Array<{ eventType: string; payload: unknown }>>('bedrock', 'converse-stream.events.json').slice(0, 6);
    const run = runStream(streamArgs('openai-chat', 'bedrock'), [frames(events)]);
    expect(run.complete).toBe(false);
    expect(reassembleOpenAIChat(run.output).error).toMatchObject({ code: 'stream_interrupted' });
  });
});
