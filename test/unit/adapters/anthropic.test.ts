import { buildUpstreamRequest, parseIngress, renderError, translateJsonResponse } from '../../../provider-adapters/index.ts';
import {
  bytes, fixtureBytes, fixtureJson, fixtureNames, fixtureText, reassembleAnthropic, reassembleOpenAIChat, runStream, splits, sseEvents, streamArgs, text,
} from './helpers.ts';

const target = { type: 'anthropic' as const, baseUrl: 'https://api.anthropic.com' };

function parse(dialect: 'openai-chat' | 'anthropic-messages', body: unknown) {
  const r = parseIngress(dialect, bytes(JSON.stringify(body)), {});
  if (!r.ok) throw new Error(r.error.message);
  return r;
}

function build(dialect: 'openai-chat' | 'anthropic-messages', body: unknown, model = 'claude-x') {
  const p = parse(dialect, body);
  return buildUpstreamRequest({ dialect, request: p.request, raw: p.raw, provider: target, model });
}

describe('anthropic-messages ingress', () => {
  test('parses system blocks, images, tool use and results', () => {
    const { request } = parse('anthropic-messages', fixtureJson('anthropic', 'messages-request.json'));
    expect(request.system).toBe('You are a weather assistant.');
    expect(request.messages[0]?.content[1]).toMatchObject({ type: 'image', source: { kind: 'base64', mediaType: 'image/jpeg' } });
    expect(request.messages[1]?.content[1]).toEqual({ type: 'tool_call', id: 'toolu_01', name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(request.messages[2]?.content[0]).toMatchObject({ type: 'tool_result', toolCallId: 'toolu_01', name: 'get_weather' });
    expect(request).toMatchObject({ maxTokens: 1024, temperature: 0.5, topK: 40, stop: ['###'], user: 'user-42', parallelToolCalls: false, toolChoice: 'auto' });
    expect(request.unmapped).toEqual([{ param: 'system[0].cache_control', droppable: true }]);
  });

  test.each([
    ['max_tokens missing', { model: 'm', messages: [] }, 'max_tokens'],
    ['bad role', { model: 'm', max_tokens: 5, messages: [{ role: 'system', content: 'x' }] }, 'messages[0].role'],
    ['temperature above 1', { model: 'm', max_tokens: 5, messages: [], temperature: 1.5 }, 'temperature'],
    ['image source', { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] }, 'messages[0].content[0].source.type'],
  ])('malformed: %s', (_n, body, param) => {
    const r = parseIngress('anthropic-messages', bytes(JSON.stringify(body)), {});
    expect(r.ok ? null : r.error).toMatchObject({ status: 400, code: 'invalid_body', param });
  });

  test('renderError uses the Anthropic envelope', () => {
    const w = renderError('anthropic-messages', { status: 503, type: 'overloaded_error', code: 'overloaded', message: 'busy' });
    expect(JSON.parse(text(w.body))).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'busy' } });
  });
});

describe('anthropic request translation', () => {
  test('passthrough replaces only the model and sets the API version', () => {
    const raw = fixtureJson<Record<string, unknown>>('anthropic', 'messages-request.json');
    const r = build('anthropic-messages', raw, 'claude-opus-4-1');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.wire.path).toBe('/v1/messages');
    expect(r.wire.headers['anthropic-version']).toBe('2023-06-01');
    expect(JSON.parse(text(r.wire.body))).toEqual({ ...raw, model: 'claude-opus-4-1' });
  });

  test('openai-chat fixture becomes a valid Messages body', () => {
    const r = build('openai-chat', fixtureJson('openai', 'chat-request.json'));
    if (!r.ok) throw new Error(r.error.message);
    const body = JSON.parse(text(r.wire.body));
    expect(body).toMatchObject({
      model: 'claude-x', system: 'You are a weather assistant.', max_tokens: 300, temperature: 0.4, top_p: 0.9, stop_sequences: ['END'], stream: true,
      metadata: { user_id: 'user-123' }, tool_choice: { type: 'auto' },
      tools: [{ name: 'get_weather', description: 'Current weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
    });
    expect(body.messages).toEqual([
      { role: 'user', content: [
        { type: 'text', text: 'What is the weather in Paris and Oslo? Also, what city is this?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      ] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_paris', content: [{ type: 'text', text: '18C, sunny' }] }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Paris is 18C and sunny.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Now Oslo please.' }] },
    ]);
    expect(r.droppedParams.sort()).toEqual(['messages[1].content[1].image_url.detail', 'seed']);
  });

  test.each([
    ['presence_penalty', { presence_penalty: 0.5 }],
    ['frequency_penalty', { frequency_penalty: 0.5 }],
    ['n', { n: 2 }],
    ['temperature', { temperature: 1.5 }],
    ['logit_bias', { logit_bias: { '50256': -100 } }],
    ['response_format', { response_format: { type: 'json_object' }, tools: [{ type: 'function', function: { name: 'f' } }] }],
  ])('rejects %s with a 400 naming it', (param, extra) => {
    const r = build('openai-chat', { model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });
    expect(r.ok ? null : r.error).toMatchObject({ status: 400, param });
  });

  test('droppable params are listed', () => {
    const r = build('openai-chat', { model: 'm', messages: [{ role: 'user', content: 'hi' }], store: true, service_tier: 'auto', metadata: { a: 'b' } });
    expect(r.ok && r.droppedParams.sort()).toEqual(['metadata', 'service_tier', 'store']);
  });

  test('JSON schema output becomes a forced tool', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    const r = build('openai-chat', { model: 'm', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'a', schema } } });
    const body = r.ok ? JSON.parse(text(r.wire.body)) : null;
    expect(body.tools).toEqual([{ name: 'switchboard_structured_output', description: expect.any(String), input_schema: schema }]);
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'switchboard_structured_output' });
  });

  test('reasoning effort maps to a thinking budget below max_tokens', () => {
    const r = build('openai-chat', { model: 'm', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'high', max_completion_tokens: 8000 });
    expect(r.ok && JSON.parse(text(r.wire.body)).thinking).toEqual({ type: 'enabled', budget_tokens: 4000 });
  });
});

describe('anthropic JSON responses', () => {
  const args = { providerType: 'anthropic' as const, model: 'client-model', status: 200, requestId: 'req_1', created: 1700000000 };

  test('to openai-chat', () => {
    const r = translateJsonResponse({ ...args, dialect: 'openai-chat', body: fixtureBytes('anthropic', 'messages-response.json') });
    expect(r.usage).toEqual({ inputTokens: 1610, outputTokens: 48, cachedInputTokens: 1200, cacheCreationInputTokens: 0 });
    expect(JSON.parse(text(r.body))).toEqual({
      id: 'chatcmpl-req_1', object: 'chat.completion', created: 1700000000, model: 'client-model',
      choices: [{ index: 0, logprobs: null, finish_reason: 'tool_calls', message: {
        role: 'assistant', content: "I'll check Oslo.", refusal: null,
        tool_calls: [{ id: 'toolu_02', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
      } }],
      usage: { prompt_tokens: 1610, completion_tokens: 48, total_tokens: 1658, prompt_tokens_details: { cached_tokens: 1200 } },
    });
  });

  test('passthrough keeps bytes', () => {
    const body = fixtureBytes('anthropic', 'messages-response.json');
    const r = translateJsonResponse({ ...args, dialect: 'anthropic-messages', body });
    expect(r.body).toBe(body);
    expect(r.usage?.inputTokens).toBe(1610);
  });

  test('openai response to anthropic-messages', () => {
    const r = translateJsonResponse({ ...args, providerType: 'openai', dialect: 'anthropic-messages', body: fixtureBytes('openai', 'chat-response.json') });
    expect(JSON.parse(text(r.body))).toEqual({
      id: 'msg_req_1', type: 'message', role: 'assistant', model: 'client-model',
      content: [{ type: 'tool_use', id: 'call_oslo', name: 'get_weather', input: { city: 'Oslo' } }],
      stop_reason: 'tool_use', stop_sequence: null,
      usage: { input_tokens: 56, output_tokens: 17, cache_read_input_tokens: 64, cache_creation_input_tokens: 0 },
    });
  });

  test('structured-output tool becomes JSON text', () => {
    const body = bytes(JSON.stringify({ id: 'm', type: 'message', role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'switchboard_structured_output', input: { answer: 'yes' } }], stop_reason: 'tool_use', usage: { input_tokens: 1, output_tokens: 2 } }));
    const r = translateJsonResponse({ ...args, dialect: 'openai-chat', body });
    const out = JSON.parse(text(r.body));
    expect(out.choices[0].message.content).toBe('{"answer":"yes"}');
    expect(out.choices[0].finish_reason).toBe('stop');
  });

  test.each(fixtureNames('anthropic', 'error-'))('error %s in both envelopes', (name) => {
    const fx = fixtureJson<{ status: number; headers: Record<string, string>; body: unknown; expect: Record<string, unknown> }>('anthropic', name);
    for (const dialect of ['openai-chat', 'anthropic-messages'] as const) {
      const r = translateJsonResponse({ ...args, dialect, status: fx.status, headers: fx.headers, body: bytes(JSON.stringify(fx.body)) });
      expect(r.status).toBe(fx.expect.status);
      expect(r.error).toMatchObject(fx.expect);
      const env = JSON.parse(text(r.body));
      if (dialect === 'anthropic-messages') expect(env.type).toBe('error');
      else expect(env.error.code).toBe(fx.expect.code);
    }
  });
});

describe('anthropic streams', () => {
  const data = fixtureBytes('anthropic', 'messages-stream.sse');

  test('to openai-chat at every split', () => {
    for (const chunks of splits(data)) {
      const run = runStream(streamArgs('openai-chat', 'anthropic', true), chunks);
      const r = reassembleOpenAIChat(run.output);
      expect(r.text).toBe('Checking Zürich — one moment ☀️');
      expect(r.tools).toEqual([{ id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', args: '{"city": "Zürich"}' }]);
      expect(r.finish).toBe('tool_calls');
      expect(r.terminal).toBe(true);
      expect(r.usage).toEqual({ prompt_tokens: 572, completion_tokens: 89, total_tokens: 661, prompt_tokens_details: { cached_tokens: 100 } });
      expect(run.usage).toEqual({ inputTokens: 572, outputTokens: 89, cachedInputTokens: 100, cacheCreationInputTokens: 0 });
    }
  });

  test('usage chunk omitted for openai clients that did not ask', () => {
    const run = runStream(streamArgs('openai-chat', 'anthropic', false), [data]);
    expect(reassembleOpenAIChat(run.output).usage).toBeUndefined();
    expect(run.usage?.outputTokens).toBe(89);
  });

  test('passthrough forwards bytes at every split', () => {
    const source = fixtureText('anthropic', 'messages-stream.sse');
    for (const chunks of splits(data)) {
      const run = runStream(streamArgs('anthropic-messages', 'anthropic'), chunks);
      expect(run.output).toBe(source);
      expect(run.complete).toBe(true);
      expect(run.usage?.outputTokens).toBe(89);
    }
  });

  test('openai stream to anthropic-messages at every split (interleaved tool deltas serialised)', () => {
    const openai = fixtureBytes('openai', 'chat-stream.sse');
    for (const chunks of splits(openai)) {
      const run = runStream(streamArgs('anthropic-messages', 'openai'), chunks);
      const r = reassembleAnthropic(run.output);
      expect(r.text).toBe('Checking Oslo — and Zürich ☀️.');
      expect(r.tools).toEqual([
        { id: 'call_a', name: 'get_weather', args: '{"city":"Oslo"}' },
        { id: 'call_b', name: 'get_weather', args: '{"city":"Zürich"}' },
      ]);
      expect(r.finish).toBe('tool_use');
      expect(r.usage).toMatchObject({ input_tokens: 95, output_tokens: 41 });
      expect(r.terminal).toBe(true);
    }
  });

  test('cut stream -> event: error for anthropic clients, usage so far kept', () => {
    const source = fixtureText('anthropic', 'messages-stream.sse');
    const cut = bytes(source.slice(0, source.indexOf('event: message_delta')));
    for (const [dialect, provider] of [['anthropic-messages', 'anthropic'], ['anthropic-messages', 'openai']] as const) {
      const input = provider === 'openai' ? bytes(fixtureText('openai', 'chat-stream.sse').split('data: [DONE]')[0] ?? '') : cut;
      const run = runStream(streamArgs(dialect, provider), [input]);
      expect(run.complete).toBe(false);
      const last = sseEvents(run.output).at(-1);
      expect(last?.event).toBe('error');
      expect(JSON.parse(last?.data ?? '{}')).toMatchObject({ type: 'error', error: { type: 'api_error' } });
      expect(run.usage).toBeDefined();
    }
  });

  test('upstream error event is forwarded once, not doubled', () => {
    const s = 'event: message_start\ndata: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":3,"output_tokens":1}}}\n\nevent: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const pass = runStream(streamArgs('anthropic-messages', 'anthropic'), [bytes(s)]);
    expect(sseEvents(pass.output).filter((e) => e.event === 'error')).toHaveLength(1);
    const translated = runStream(streamArgs('openai-chat', 'anthropic'), [bytes(s)]);
    const r = reassembleOpenAIChat(translated.output);
    expect(r.error).toMatchObject({ code: 'overloaded' });
    expect(r.terminal).toBe(false);
    expect(translated.complete).toBe(false);
  });
});
