import { buildUpstreamRequest, parseIngress, renderError, translateJsonResponse } from '../../../provider-adapters/index.ts';
import {
  bytes, fixtureBytes, fixtureJson, fixtureNames, fixtureText, reassembleOpenAIChat, runStream, splits, sseEvents, streamArgs, text,
} from './helpers.ts';

const target = { type: 'gemini' as const, baseUrl: 'https://generativelanguage.googleapis.com' };
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function parseGemini(body: unknown, stream = false) {
  const r = parseIngress('gemini-generate', bytes(JSON.stringify(body)), { pathModel: 'gemini-2.5-flash', stream });
  if (!r.ok) throw new Error(r.error.message);
  return r;
}

/** What a @google/genai client rebuilds from the SSE chunks. */
function reassembleGemini(sse: string) {
  let textOut = '';
  const calls: Json[] = [];
  let finish: string | undefined;
  let usage: Json | undefined;
  let error: Json | undefined;
  for (const e of sseEvents(sse)) {
    const d = JSON.parse(e.data) as Json;
    if (d.error) error = d.error;
    const c = d.candidates?.[0];
    for (const p of c?.content?.parts ?? []) {
      if (p.text) textOut += p.text;
      if (p.functionCall) calls.push(p.functionCall);
    }
    if (c?.finishReason) finish = c.finishReason;
    if (d.usageMetadata) usage = d.usageMetadata;
  }
  return { text: textOut, calls, finish, usage, error };
}

describe('gemini-generate ingress', () => {
  test('parses contents, function calls/responses and generationConfig', () => {
    const { request } = parseGemini(fixtureJson('gemini', 'generate-request.json'), true);
    expect(request.model).toBe('gemini-2.5-flash');
    expect(request.stream).toBe(true);
    expect(request.system).toBe('You are a weather assistant.');
    expect(request.messages[1]?.content[0]).toEqual({ type: 'tool_call', id: 'call_1_0', name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(request.messages[2]?.content[0]).toEqual({ type: 'tool_result', toolCallId: 'call_1_0', name: 'get_weather', content: [{ type: 'text', text: '18C, sunny' }] });
    expect(request.tools?.[0]?.parameters).toEqual({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] });
    expect(request).toMatchObject({ temperature: 0.3, topP: 0.8, topK: 20, maxTokens: 256, stop: ['END'], seed: 3, reasoning: { budgetTokens: 2048 }, toolChoice: 'auto' });
    expect(request.unmapped).toEqual([{ param: 'safetySettings', droppable: true }]);
  });

  test.each([
    ['contents missing', {}, 'contents'],
    ['bad role', { contents: [{ role: 'system', parts: [] }] }, 'contents[0].role'],
    ['temperature type', { contents: [], generationConfig: { temperature: 'x' } }, 'generationConfig.temperature'],
  ])('malformed: %s', (_n, body, param) => {
    const r = parseIngress('gemini-generate', bytes(JSON.stringify(body)), { pathModel: 'g' });
    expect(r.ok ? null : r.error).toMatchObject({ status: 400, param });
  });

  test('renderError uses the Google envelope', () => {
    const w = renderError('gemini-generate', { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'slow' });
    expect(JSON.parse(text(w.body))).toEqual({ error: { code: 429, message: 'slow', status: 'RESOURCE_EXHAUSTED' } });
  });
});

describe('gemini request translation', () => {
  test('passthrough keeps the body and puts the model in the path', () => {
    const raw = fixtureJson('gemini', 'generate-request.json');
    const p = parseGemini(raw, true);
    const r = buildUpstreamRequest({ dialect: 'gemini-generate', request: p.request, raw: p.raw, provider: target, model: 'gemini-2.5-pro' });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.wire.path).toBe('/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
    expect(JSON.parse(text(r.wire.body))).toEqual(raw);
  });

  test('openai-chat fixture becomes generateContent', () => {
    const p = parseIngress('openai-chat', fixtureBytes('openai', 'chat-request.json'), {});
    if (!p.ok) throw new Error(p.error.message);
    const r = buildUpstreamRequest({ dialect: 'openai-chat', request: p.request, raw: p.raw, provider: target, model: 'gemini-2.5-flash' });
    if (!r.ok) throw new Error(r.error.message);
    const body = JSON.parse(text(r.wire.body));
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'You are a weather assistant.' }] });
    expect(body.contents[0].parts[1]).toEqual({ inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } });
    expect(body.contents[1]).toEqual({ role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] });
    expect(body.contents[2]).toEqual({ role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: '18C, sunny' } } }] });
    expect(body.tools[0].functionDeclarations[0].parametersJsonSchema).toMatchObject({ type: 'object' });
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(body.generationConfig).toEqual({ temperature: 0.4, topP: 0.9, maxOutputTokens: 300, stopSequences: ['END'], seed: 7 });
    expect(r.droppedParams).toEqual(['messages[1].content[1].image_url.detail', 'user']);
  });

  test('an image URL is a 400 naming the parameter', () => {
    const p = parseIngress('openai-chat', bytes(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] })), {});
    if (!p.ok) throw new Error();
    const r = buildUpstreamRequest({ dialect: 'openai-chat', request: p.request, raw: p.raw, provider: target, model: 'g' });
    expect(r.ok ? null : r.error).toMatchObject({ status: 400, param: 'messages[0].content[0].image_url' });
  });

  test('json_schema becomes responseJsonSchema', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    const p = parseIngress('openai-chat', bytes(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'n', schema } } })), {});
    if (!p.ok) throw new Error();
    const r = buildUpstreamRequest({ dialect: 'openai-chat', request: p.request, raw: p.raw, provider: target, model: 'g' });
    expect(r.ok && JSON.parse(text(r.wire.body)).generationConfig).toEqual({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });
});

describe('gemini responses', () => {
  const args = { providerType: 'gemini' as const, model: 'client-model', status: 200, requestId: 'req_1', created: 1700000000 };

  test('JSON to openai-chat: function calls finish as tool_calls, thinking counted', () => {
    const r = translateJsonResponse({ ...args, dialect: 'openai-chat', body: fixtureBytes('gemini', 'generate-response.json') });
    const out = JSON.parse(text(r.body));
    expect(out.choices[0].finish_reason).toBe('tool_calls');
    expect(out.choices[0].message.content).toBe('Let me check Oslo.');
    expect(out.choices[0].message.tool_calls[0].function).toEqual({ name: 'get_weather', arguments: '{"city":"Oslo"}' });
    expect(r.usage).toEqual({ inputTokens: 300, outputTokens: 100, cachedInputTokens: 100, reasoningTokens: 80 });
  });

  test('openai JSON to gemini-generate', () => {
    const r = translateJsonResponse({ ...args, providerType: 'openai', dialect: 'gemini-generate', body: fixtureBytes('openai', 'chat-response.json') });
    expect(JSON.parse(text(r.body))).toEqual({
      candidates: [{ content: { role: 'model', parts: [{ functionCall: { id: 'call_oslo', name: 'get_weather', args: { city: 'Oslo' } } }] }, finishReason: 'STOP', index: 0 }],
      modelVersion: 'client-model', responseId: 'req_1',
      usageMetadata: { promptTokenCount: 120, candidatesTokenCount: 17, totalTokenCount: 137, cachedContentTokenCount: 64, thoughtsTokenCount: 0 },
    });
  });

  test.each(fixtureNames('gemini', 'error-'))('error %s', (name) => {
    const fx = fixtureJson<{ status: number; headers: Record<string, string>; body: unknown; expect: Record<string, unknown> }>('gemini', name);
    const r = translateJsonResponse({ ...args, dialect: 'gemini-generate', status: fx.status, headers: fx.headers, body: bytes(JSON.stringify(fx.body)) });
    expect(r.error).toMatchObject(fx.expect);
    expect(JSON.parse(text(r.body)).error.code).toBe(fx.expect.status);
  });

  test('stream to openai-chat at every split', () => {
    const data = fixtureBytes('gemini', 'generate-stream.sse');
    for (const chunks of splits(data)) {
      const run = runStream(streamArgs('openai-chat', 'gemini'), chunks);
      const r = reassembleOpenAIChat(run.output);
      expect(r.text).toBe('Checking Zürich — one moment ☀️');
      expect(r.tools.map((t) => [t.name, JSON.parse(t.args)])).toEqual([['get_weather', { city: 'Zürich' }], ['get_weather', { city: 'Bern' }]]);
      expect(r.finish).toBe('tool_calls');
      expect(r.terminal).toBe(true);
      expect(run.usage).toEqual({ inputTokens: 50, outputTokens: 42, reasoningTokens: 12 });
    }
  });

  test('passthrough stream is byte-identical at every split', () => {
    const data = fixtureBytes('gemini', 'generate-stream.sse');
    for (const chunks of splits(data)) {
      const run = runStream(streamArgs('gemini-generate', 'gemini'), chunks);
      expect(run.output).toBe(fixtureText('gemini', 'generate-stream.sse'));
      expect(run.complete).toBe(true);
      expect(run.usage?.outputTokens).toBe(42);
    }
  });

  test('anthropic stream to gemini-generate', () => {
    const run = runStream(streamArgs('gemini-generate', 'anthropic'), [fixtureBytes('anthropic', 'messages-stream.sse')]);
    const r = reassembleGemini(run.output);
    expect(r.text).toBe('Checking Zürich — one moment ☀️');
    expect(r.calls).toEqual([{ id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', args: { city: 'Zürich' } }]);
    expect(r.finish).toBe('STOP');
    expect(r.usage).toMatchObject({ promptTokenCount: 572, candidatesTokenCount: 89 });
  });

  test('cut stream -> Gemini error object', () => {
    const source = fixtureText('gemini', 'generate-stream.sse');
    const cut = bytes(source.slice(0, source.lastIndexOf('data:')));
    for (const provider of ['gemini', 'openai'] as const) {
      const input = provider === 'gemini' ? cut : bytes(fixtureText('openai', 'chat-stream.sse').split('data: [DONE]')[0] ?? '');
      const run = runStream(streamArgs('gemini-generate', provider), [input]);
      expect(run.complete).toBe(false);
      expect(reassembleGemini(run.output).error).toMatchObject({ code: 502, status: 'INTERNAL' });
    }
  });
});
