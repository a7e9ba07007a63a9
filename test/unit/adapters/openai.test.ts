import {
  buildUpstreamRequest, createStreamTranslator, detectDialect, parseIngress, renderError, translateJsonResponse,
} from '../../../provider-adapters/index.ts';
import { OpenAIChatStreamDecoder } from '../../../provider-adapters/openai/stream.ts';
import { bytes, fixtureBytes, fixtureJson, fixtureNames, runStream, splits, sseEvents, streamArgs, text } from './helpers.ts';

const target = { type: 'openai' as const, baseUrl: 'https://api.openai.com' };

function parseOk(body: unknown) {
  const r = parseIngress('openai-chat', bytes(JSON.stringify(body)), {});
  if (!r.ok) throw new Error(r.error.message);
  return r;
}

describe('detectDialect', () => {
  test.each([
    ['POST', '/v1/chat/completions', { dialect: 'openai-chat' }],
    ['POST', '/v1/embeddings', { dialect: 'openai-embeddings' }],
    ['POST', '/v1/responses', { dialect: 'openai-responses' }],
    ['POST', '/v1/messages', { dialect: 'anthropic-messages' }],
    ['POST', '/v1/messages/count_tokens', { dialect: 'anthropic-count-tokens' }],
    ['POST', '/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse', { dialect: 'gemini-generate', pathModel: 'gemini-2.0-flash', stream: true }],
    ['POST', '/v1beta/models/gemini-2.0-flash:generateContent', { dialect: 'gemini-generate', pathModel: 'gemini-2.0-flash', stream: false }],
  ])('%s %s', (method, path, expected) => {
    expect(detectDialect(method, path)).toEqual(expected);
  });
  test.each([['GET', '/v1/chat/completions'], ['POST', '/v1/unknown'], ['POST', '/v1beta/models/x:countTokens']])('%s %s -> null', (m, p) => {
    expect(detectDialect(m, p)).toBeNull();
  });
});

describe('openai-chat ingress', () => {
  test('parses the fixture into the canonical model', () => {
    const { request } = parseOk(fixtureJson('openai', 'chat-request.json'));
    expect(request.system).toBe('You are a weather assistant.');
    expect(request.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(request.messages[0]?.content[1]).toEqual({
      type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' }, detail: 'low', param: 'messages[1].content[1].image_url',
    });
    expect(request.messages[2]?.content[0]).toEqual({
      type: 'tool_result', toolCallId: 'call_paris', name: 'get_weather', content: [{ type: 'text', text: '18C, sunny' }],
    });
    expect(request).toMatchObject({ temperature: 0.4, topP: 0.9, maxTokens: 300, stop: ['END'], stream: true, seed: 7, user: 'user-123', toolChoice: 'auto' });
    expect(request.tools?.[0]?.name).toBe('get_weather');
  });

  test.each([
    ['not an object', [], 'body'],
    ['messages missing', { model: 'm' }, 'messages'],
    ['temperature type', { model: 'm', messages: [], temperature: 'hot' }, 'temperature'],
    ['temperature range', { model: 'm', messages: [], temperature: 3 }, 'temperature'],
    ['bad role', { model: 'm', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    ['bad part', { model: 'm', messages: [{ role: 'user', content: [{ type: 'video' }] }] }, 'messages[0].content[0].type'],
    ['tool call id', { model: 'm', messages: [{ role: 'assistant', tool_calls: [{ function: { name: 'f' } }] }] }, 'messages[0].tool_calls[0].id'],
    ['max_tokens', { model: 'm', messages: [], max_tokens: 0 }, 'max_tokens'],
    ['response_format', { model: 'm', messages: [], response_format: { type: 'xml' } }, 'response_format.type'],
  ])('malformed: %s -> 400 naming %s', (_name, body, param) => {
    const r = parseIngress('openai-chat', bytes(JSON.stringify(body)), {});
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_body', param });
  });

  test('invalid JSON -> 400 invalid_body', () => {
    const r = parseIngress('openai-chat', bytes('{"model":'), {});
    expect(r.ok ? null : r.error.code).toBe('invalid_body');
  });

  test('renderError uses the OpenAI envelope and carries headers', () => {
    const w = renderError('openai-chat', { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'slow down', headers: { 'retry-after': '3' } });
    expect(w.status).toBe(429);
    expect(w.headers).toEqual({ 'content-type': 'application/json', 'retry-after': '3' });
    expect(JSON.parse(text(w.body))).toEqual({ error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } });
  });
});

describe('openai passthrough request', () => {
  test('only model changes, and stream usage is requested', () => {
    const raw = fixtureJson<Record<string, unknown>>('openai', 'chat-request.json');
    const parsed = parseOk(raw);
    const r = buildUpstreamRequest({ dialect: 'openai-chat', request: parsed.request, raw: parsed.raw, provider: target, model: 'gpt-4o' });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.wire.path).toBe('/v1/chat/completions');
    expect(r.wire.headers.host).toBe('api.openai.com');
    expect(JSON.parse(text(r.wire.body))).toEqual({ ...raw, model: 'gpt-4o', stream_options: { include_usage: true } });
    expect(r.droppedParams).toEqual([]);
  });

  test('base URL path prefix is kept', () => {
    const parsed = parseOk({ model: 'a', messages: [{ role: 'user', content: 'hi' }] });
    const r = buildUpstreamRequest({ dialect: 'openai-chat', request: parsed.request, raw: parsed.raw, provider: { type: 'openai', baseUrl: 'https://proxy.example/openai/v1/' }, model: 'b' });
    expect(r.ok && r.wire.path).toBe('/openai/v1/chat/completions');
  });
});

describe('openai JSON responses', () => {
  test('passthrough keeps bytes and reads usage', () => {
    const body = fixtureBytes('openai', 'chat-response.json');
    const r = translateJsonResponse({ dialect: 'openai-chat', providerType: 'openai', model: 'gpt-4o-mini', status: 200, body, requestId: 'r', created: 1 });
    expect(r.body).toBe(body);
    expect(r.usage).toEqual({ inputTokens: 120, outputTokens: 17, cachedInputTokens: 64, reasoningTokens: 0 });
    expect(r.finishReason).toBe('tool_calls');
  });

  test.each(fixtureNames('openai', 'error-'))('error mapping %s', (name) => {
    const fx = fixtureJson<{ status: number; headers: Record<string, string>; body: unknown; expect: Record<string, unknown> }>('openai', name);
    const r = translateJsonResponse({
      dialect: 'openai-chat', providerType: 'openai', model: 'm', status: fx.status, body: bytes(JSON.stringify(fx.body)), requestId: 'r', created: 1, headers: fx.headers,
    });
    expect(r.status).toBe(fx.expect.status);
    expect(r.error).toMatchObject(fx.expect);
    const env = JSON.parse(text(r.body)) as { error: { code: string; message: string } };
    expect(env.error.code).toBe(fx.expect.code);
    expect(typeof env.error.message).toBe('string');
    expect(r.headers['content-type']).toBe('application/json');
  });
});

describe('openai stream passthrough', () => {
  const data = fixtureBytes('openai', 'chat-stream.sse');
  const source = text(data);

  test('forwards bytes untouched at every split when the client asked for usage', () => {
    for (const chunks of splits(data)) {
      const run = runStream(streamArgs('openai-chat', 'openai', true), chunks);
      expect(run.output).toBe(source);
      expect(run.complete).toBe(true);
      expect(run.usage).toEqual({ inputTokens: 95, outputTokens: 41, cachedInputTokens: 0, reasoningTokens: 0 });
    }
  });

  test('drops only the forced usage chunk when the client did not ask', () => {
    const run = runStream(streamArgs('openai-chat', 'openai', false), [data]);
    const events = sseEvents(run.output);
    expect(events).toHaveLength(sseEvents(source).length - 1);
    expect(events.some((e) => e.data.includes('"choices":[]'))).toBe(false);
    expect(events.at(-1)?.data).toBe('[DONE]');
    expect(run.usage?.inputTokens).toBe(95);
    expect(run.outputText).toBe('Checking Oslo — and Zürich ☀️.');
  });

  test('a cut stream ends with an in-band OpenAI error and no [DONE]', () => {
    const cut = bytes(source.slice(0, source.indexOf('data: {"id":"chatcmpl-s1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},')));
    const run = runStream(streamArgs('openai-chat', 'openai'), [cut]);
    expect(run.complete).toBe(false);
    const last = sseEvents(run.output).at(-1);
    expect(JSON.parse(last?.data ?? '{}')).toMatchObject({ error: { code: 'stream_interrupted', type: 'server_error' } });
    expect(run.output).not.toContain('[DONE]');
  });
});

describe('openai stream decoding', () => {
  test('reassembles parallel tool-call arguments by index at every split', () => {
    const data = fixtureBytes('openai', 'chat-stream.sse');
    for (const chunks of splits(data)) {
      const d = new OpenAIChatStreamDecoder();
      const events = [...chunks.flatMap((c) => d.push(c)), ...d.end()];
      const args = new Map<number, string>();
      const names = new Map<number, string>();
      let textOut = '';
      for (const e of events) {
        if (e.type === 'tool_call_start') names.set(e.index, `${e.id}:${e.name}`);
        if (e.type === 'tool_call_delta') args.set(e.index, (args.get(e.index) ?? '') + e.argumentsDelta);
        if (e.type === 'text_delta') textOut += e.text;
      }
      expect(textOut).toBe('Checking Oslo — and Zürich ☀️.');
      expect([...names.entries()]).toEqual([[0, 'call_a:get_weather'], [1, 'call_b:get_weather']]);
      expect(JSON.parse(args.get(0) ?? '')).toEqual({ city: 'Oslo' });
      expect(JSON.parse(args.get(1) ?? '')).toEqual({ city: 'Zürich' });
      expect(events.filter((e) => e.type === 'tool_call_end')).toHaveLength(2);
      expect(events.find((e) => e.type === 'finish')).toEqual({ type: 'finish', reason: 'tool_calls' });
      expect(d.complete()).toBe(true);
    }
  });

  test('createStreamTranslator exposes usage so far', () => {
    const t = createStreamTranslator(streamArgs('openai-chat', 'openai'));
    const data = fixtureBytes('openai', 'chat-stream.sse');
    t.push(data);
    expect(t.usage()?.outputTokens).toBe(41);
  });
});
