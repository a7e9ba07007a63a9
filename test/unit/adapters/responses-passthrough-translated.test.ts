// openai-responses requests pass through to OpenAI and Azure untouched, so those upstreams answer
// in Responses format. When the answer must still be translated (output guardrails give it a text
// filter), it has to be read as Responses, not as chat completions; and Azure's Responses API needs
// a preview api-version and the deployment as the model.
import { buildUpstreamRequest, createStreamTranslator, parseIngress, translateJsonResponse, type TextFilter } from '../../../provider-adapters/index.ts';
import { bytes, text } from './helpers.ts';

/** A filter that redacts the word "secret", so the test sees that the text went through it. */
function redactingFilter(): TextFilter {
  return { push: (t) => ({ text: t.replace(/secret/g, '[redacted]') }), flush: () => ({ text: '' }) };
}

const responseJson = {
  id: 'resp_1', object: 'response', created_at: 1, status: 'completed', model: 'gpt-4o-mini',
  output: [
    { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'the secret is out', annotations: [] }] },
    { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
  ],
  usage: { input_tokens: 11, input_tokens_details: { cached_tokens: 0 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 18 },
};

function sse(events: Record<string, unknown>[]): string {
  return events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('');
}

const streamEvents = [
  { type: 'response.created', sequence_number: 0, response: { id: 'resp_1', status: 'in_progress', model: 'gpt-4o-mini', output: [] } },
  { type: 'response.output_item.added', sequence_number: 1, output_index: 0, item: { type: 'message', id: 'msg_1', role: 'assistant', content: [] } },
  { type: 'response.output_text.delta', sequence_number: 2, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'the secret ' },
  { type: 'response.output_text.delta', sequence_number: 3, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'is out' },
  { type: 'response.output_item.done', sequence_number: 4, output_index: 0, item: { type: 'message', id: 'msg_1' } },
  { type: 'response.output_item.added', sequence_number: 5, output_index: 1, item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '' } },
  { type: 'response.function_call_arguments.delta', sequence_number: 6, item_id: 'fc_1', output_index: 1, delta: '{"city":' },
  { type: 'response.function_call_arguments.delta', sequence_number: 7, item_id: 'fc_1', output_index: 1, delta: '"Paris"}' },
  { type: 'response.output_item.done', sequence_number: 8, output_index: 1, item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' } },
  { type: 'response.completed', sequence_number: 9, response: responseJson },
];

describe.each(['openai', 'azure-openai'] as const)('openai-responses -> %s with an output text filter', (providerType) => {
  test('a JSON answer is read as Responses: text filtered, function call and usage kept', () => {
    const out = translateJsonResponse({ dialect: 'openai-responses', providerType, model: 'm', status: 200, body: bytes(JSON.stringify(responseJson)), requestId: 'r', created: 1, textFilter: redactingFilter() });
    expect(out.status).toBe(200);
    const body = JSON.parse(text(out.body)) as { output: { type: string; name?: string; arguments?: string; content?: { text: string }[] }[] };
    expect(body.output.find((o) => o.type === 'message')?.content?.[0]?.text).toBe('the [redacted] is out');
    const call = body.output.find((o) => o.type === 'function_call');
    expect(call?.name).toBe('get_weather');
    expect(JSON.parse(call?.arguments ?? '')).toEqual({ city: 'Paris' });
    expect(out.usage).toMatchObject({ inputTokens: 11, outputTokens: 7 });
  });

  test('a stream is read as Responses: complete, text filtered, function call and usage kept', () => {
    const t = createStreamTranslator({ dialect: 'openai-responses', providerType, model: 'm', requestId: 'r', created: 1, clientWantsUsage: true, textFilter: redactingFilter() });
    let out = '';
    for (const e of streamEvents) out += text(t.push(bytes(sse([e]))));
    const end = t.end();
    out += text(end.tail);
    expect(end.complete).toBe(true);
    expect(end.usage).toMatchObject({ inputTokens: 11, outputTokens: 7 });
    expect(out).not.toContain('stream_interrupted');
    const events = out.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { type: string; delta?: string; item?: { name?: string } });
    expect(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('')).toBe('the [redacted] is out');
    expect(events.find((e) => e.type === 'response.output_item.added' && e.item?.name)?.item?.name).toBe('get_weather');
    expect(events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('')).toBe('{"city":"Paris"}');
    expect(events.at(-1)?.type).toBe('response.completed');
  });
});

describe('azure-openai Responses API routing', () => {
  const build = (apiVersion: string | undefined) => {
    const p = parseIngress('openai-responses', bytes(JSON.stringify({ model: 'alias', input: 'hi' })));
    if (!p.ok) throw new Error('parse failed');
    const r = buildUpstreamRequest({ dialect: 'openai-responses', request: p.request, raw: p.raw, provider: { type: 'azure-openai', baseUrl: 'https://res.openai.azure.com', deployment: 'prod-mini', ...(apiVersion ? { apiVersion } : {}) }, model: 'gpt-4o-mini' });
    if (!r.ok) throw new Error(r.error.message);
    return { path: r.wire.path, body: JSON.parse(text(r.wire.body)) as { model: string } };
  };

  test('a pinned GA api-version (required by the config for chat) is not used for Responses', () => {
    expect(build('2024-10-21').path).toBe('/openai/responses?api-version=2025-04-01-preview');
  });
  test('a pinned preview api-version that serves Responses is kept', () => {
    expect(build('2025-05-01-preview').path).toBe('/openai/responses?api-version=2025-05-01-preview');
    expect(build('2024-12-01-preview').path).toBe('/openai/responses?api-version=2025-04-01-preview');
  });
  test('the body names the deployment, as Azure expects', () => {
    expect(build(undefined).body.model).toBe('prod-mini');
  });
});
