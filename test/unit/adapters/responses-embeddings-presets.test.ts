import { buildUpstreamRequest, parseIngress, translateJsonResponse } from '../../../provider-adapters/index.ts';
import { bytes, fixtureBytes, fixtureJson, runStream, splits, sseEvents, streamArgs, text } from './helpers.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function parsed(dialect: 'openai-chat' | 'openai-responses' | 'openai-embeddings', body: unknown) {
  const p = parseIngress(dialect, bytes(JSON.stringify(body)), {});
  if (!p.ok) throw new Error(p.error.message);
  return p;
}

describe('openai-responses', () => {
  test('items become canonical messages', () => {
    const { request } = parsed('openai-responses', fixtureJson('openai-responses', 'request.json'));
    expect(request.system).toBe('You are a weather assistant.');
    expect(request.messages.map((m) => m.content.map((c) => c.type))).toEqual([['text', 'image'], ['tool_call'], ['tool_result', 'text']]);
    expect(request).toMatchObject({ maxTokens: 200, temperature: 0.2, stream: true, unmapped: [{ param: 'store', droppable: true }] });
  });

  test('stream from anthropic: output_text and function_call_arguments events, completed with usage, at every split', () => {
    const data = fixtureBytes('anthropic', 'messages-stream.sse');
    for (const chunks of splits(data)) {
      const run = runStream(streamArgs('openai-responses', 'anthropic'), chunks);
      const events = sseEvents(run.output).map((e) => JSON.parse(e.data) as Json);
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_e, i) => i));
      expect(events[0]?.type).toBe('response.created');
      const textOut = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
      const args = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
      expect(textOut).toBe('Checking Zürich — one moment ☀️');
      expect(JSON.parse(args)).toEqual({ city: 'Zürich' });
      const done = events.at(-1) as Json;
      expect(done.type).toBe('response.completed');
      expect(done.response.usage).toMatchObject({ input_tokens: 572, output_tokens: 89, input_tokens_details: { cached_tokens: 100 } });
      expect(done.response.output.map((o: Json) => o.type)).toEqual(['message', 'function_call']);
    }
  });

  test('cut stream -> error event', () => {
    const source = text(fixtureBytes('openai', 'chat-stream.sse')).split('data: [DONE]')[0] ?? '';
    const run = runStream(streamArgs('openai-responses', 'openai-compatible'), [bytes(source)]);
    expect(run.complete).toBe(false);
    expect(sseEvents(run.output).at(-1)).toMatchObject({ event: 'error' });
  });

  test('JSON from gemini is a Responses object', () => {
    const r = translateJsonResponse({ dialect: 'openai-responses', providerType: 'gemini', model: 'm', status: 200, body: fixtureBytes('gemini', 'generate-response.json'), requestId: 'r', created: 5 });
    const out = JSON.parse(text(r.body));
    expect(out).toMatchObject({ object: 'response', status: 'completed', created_at: 5, usage: { input_tokens: 300, output_tokens: 100, output_tokens_details: { reasoning_tokens: 80 } } });
    expect(out.output[1]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo"}' });
  });

  test('passthrough to OpenAI targets /v1/responses', () => {
    const p = parsed('openai-responses', fixtureJson('openai-responses', 'request.json'));
    const r = buildUpstreamRequest({ dialect: 'openai-responses', request: p.request, raw: p.raw, provider: { type: 'openai', baseUrl: 'https://api.openai.com' }, model: 'gpt-5' });
    expect(r.ok && r.wire.path).toBe('/v1/responses');
    expect(r.ok && JSON.parse(text(r.wire.body))).toEqual({ ...fixtureJson<Json>('openai-responses', 'request.json'), model: 'gpt-5' });
  });
});

describe('openai-embeddings', () => {
  test('to Gemini batchEmbedContents and back as base64', () => {
    const p = parsed('openai-embeddings', { model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 3, encoding_format: 'base64' });
    const r = buildUpstreamRequest({ dialect: 'openai-embeddings', request: p.request, raw: p.raw, provider: { type: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com' }, model: 'gemini-embedding-001' });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.wire.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(JSON.parse(text(r.wire.body)).requests[1]).toEqual({ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, outputDimensionality: 3 });
    const resp = translateJsonResponse({
      dialect: 'openai-embeddings', providerType: 'gemini', model: 'text-embedding-3-small', status: 200, requestId: 'r', created: 1, encodingFormat: 'base64',
      body: bytes(JSON.stringify({ embeddings: [{ values: [0.5, -1, 2] }, { values: [1, 0, 0] }] })),
    });
    const out = JSON.parse(text(resp.body));
    const floats = new Float32Array(Uint8Array.from(atob(out.data[0].embedding), (c) => c.charCodeAt(0)).buffer);
    expect(Array.from(floats)).toEqual([0.5, -1, 2]);
    expect(out.data).toHaveLength(2);
  });

  test('token-id input cannot be translated', () => {
    const p = parsed('openai-embeddings', { model: 'e', input: [[1, 2, 3]] });
    const r = buildUpstreamRequest({ dialect: 'openai-embeddings', request: p.request, raw: p.raw, provider: { type: 'gemini', baseUrl: 'https://g' }, model: 'g' });
    expect(r.ok ? null : r.error).toMatchObject({ status: 400, param: 'input' });
  });

  test('anthropic has no embeddings: 400', () => {
    const p = parsed('openai-embeddings', { model: 'e', input: 'x' });
    const r = buildUpstreamRequest({ dialect: 'openai-embeddings', request: p.request, raw: p.raw, provider: { type: 'anthropic', baseUrl: 'https://a' }, model: 'c' });
    expect(r.ok).toBe(false);
  });
});

describe('presets and azure', () => {
  const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], seed: 4, max_completion_tokens: 9, user: 'u', stream: true };

  test('mistral passthrough renames seed and max tokens, drops user, sends no stream_options', () => {
    const p = parsed('openai-chat', body);
    const r = buildUpstreamRequest({ dialect: 'openai-chat', request: p.request, raw: p.raw, provider: { type: 'mistral', baseUrl: '' }, model: 'mistral-large-latest' });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.wire.headers.host).toBe('api.mistral.ai');
    expect(JSON.parse(text(r.wire.body))).toEqual({ model: 'mistral-large-latest', messages: body.messages, random_seed: 4, max_tokens: 9, stream: true });
    expect(r.droppedParams).toEqual(['user']);
  });

  test('groq rejects n > 1 and logit_bias', () => {
    for (const extra of [{ n: 2 }, { logit_bias: { 1: 1 } }]) {
      const p = parsed('openai-chat', { ...body, ...extra });
      const r = buildUpstreamRequest({ dialect: 'openai-chat', request: p.request, raw: p.raw, provider: { type: 'groq', baseUrl: '' }, model: 'llama' });
      expect(r.ok ? null : r.error.param).toBe(Object.keys(extra)[0]);
    }
  });

  test('azure uses the deployment path and api-version', () => {
    const p = parsed('openai-chat', body);
    const r = buildUpstreamRequest({ dialect: 'openai-chat', request: p.request, raw: p.raw, provider: { type: 'azure-openai', baseUrl: 'https://res.openai.azure.com', deployment: 'prod', apiVersion: '2024-10-21' }, model: 'gpt-4o' });
    expect(r.ok && r.wire.path).toBe('/openai/deployments/prod/chat/completions?api-version=2024-10-21');
  });
});
