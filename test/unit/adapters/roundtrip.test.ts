// Every (dialect, provider) pair: parse the dialect fixture, build the provider request, then run a
// provider response (JSON and stream) back into the dialect. Proves the N + M wiring end to end.
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import {
  buildUpstreamRequest, countInputTokens, estimateInputTokens, IMAGE_TOKEN_ESTIMATE, parseIngress, translateJsonResponse,
} from '../../../provider-adapters/index.ts';
import type { IngressDialect, ProviderType } from '../../../provider-adapters/index.ts';
import { bytes, fixtureBytes, fixtureJson, reassembleAnthropic, reassembleOpenAIChat, runStream, sseEvents, streamArgs, text } from './helpers.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const codec = new EventStreamCodec(toUtf8, fromUtf8);

// Image-free variants so URL/base64 rules do not mask the wiring under test.
const DIALECT_BODIES: Record<'openai-chat' | 'anthropic-messages' | 'gemini-generate' | 'openai-responses', { body: Json; opts: { pathModel?: string; stream?: boolean } }> = {
  'openai-chat': { body: fixtureJson('openai', 'chat-request.json'), opts: {} },
  'anthropic-messages': { body: fixtureJson('anthropic', 'messages-request.json'), opts: {} },
  'gemini-generate': { body: fixtureJson('gemini', 'generate-request.json'), opts: { pathModel: 'gemini-2.5-flash', stream: true } },
  'openai-responses': { body: fixtureJson('openai-responses', 'request.json'), opts: {} },
};

const PROVIDERS: Array<{ type: ProviderType; baseUrl: string; region?: string; deployment?: string }> = [
  { type: 'openai', baseUrl: 'https://api.openai.com' },
  { type: 'azure-openai', baseUrl: 'https://res.openai.azure.com', deployment: 'prod-4o' },
  { type: 'anthropic', baseUrl: 'https://api.anthropic.com' },
  { type: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com' },
  { type: 'bedrock', baseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com', region: 'us-east-1' },
  { type: 'groq', baseUrl: '' },
  { type: 'mistral', baseUrl: '' },
  { type: 'vllm', baseUrl: 'http://vllm:8000' },
  { type: 'ollama', baseUrl: '' },
  { type: 'openai-compatible', baseUrl: 'http://llm.internal/v1' },
];

const STREAMS: Record<string, () => Uint8Array> = {
  openai: () => fixtureBytes('openai', 'chat-stream.sse'),
  anthropic: () => fixtureBytes('anthropic', 'messages-stream.sse'),
  gemini: () => fixtureBytes('gemini', 'generate-stream.sse'),
  bedrock: () =>
    Buffer.concat(
      fixtureJson<Array<{ eventType: string; payload: unknown }>>('bedrock', 'converse-stream.events.json').map((e) =>
        codec.encode({ headers: { ':event-type': { type: 'string', value: e.eventType }, ':message-type': { type: 'string', value: 'event' } }, body: fromUtf8(JSON.stringify(e.payload)) }),
      ),
    ),
};
const JSON_RESPONSES: Record<string, () => Uint8Array> = {
  openai: () => fixtureBytes('openai', 'chat-response.json'),
  anthropic: () => fixtureBytes('anthropic', 'messages-response.json'),
  gemini: () => fixtureBytes('gemini', 'generate-response.json'),
  bedrock: () => fixtureBytes('bedrock', 'converse-response.json'),
};
const FORMAT: Record<ProviderType, string> = {
  openai: 'openai', 'azure-openai': 'openai', groq: 'openai', mistral: 'openai', vllm: 'openai', ollama: 'openai', 'openai-compatible': 'openai',
  anthropic: 'anthropic', gemini: 'gemini', bedrock: 'bedrock',
};

/** Strips what a provider may legitimately refuse, so each pair exercises the translation itself. */
function portable(dialect: string, body: Json, provider: ProviderType): Json {
  const b = structuredClone(body);
  const strict = !['openai', 'azure-openai', 'vllm', 'openai-compatible'].includes(provider);
  if (dialect === 'openai-chat' && strict) {
    delete b.seed;
    delete b.user;
    if (provider === 'ollama') delete b.tool_choice;
  }
  if (dialect === 'anthropic-messages' && FORMAT[provider] === 'openai' && !['vllm'].includes(provider)) delete b.top_k;
  if (dialect === 'anthropic-messages' && provider === 'ollama') delete b.tool_choice;
  if (dialect === 'gemini-generate' && FORMAT[provider] === 'openai' && provider !== 'vllm') delete b.generationConfig.topK;
  if (dialect === 'gemini-generate' && provider === 'ollama') delete b.toolConfig;
  if (dialect === 'gemini-generate' && (provider === 'bedrock' || provider === 'anthropic')) delete b.generationConfig.thinkingConfig; // 256 max tokens cannot fit a 2048 budget
  if (dialect === 'gemini-generate' && (provider === 'groq' || provider === 'mistral' || provider === 'ollama')) delete b.generationConfig.thinkingConfig;
  if (dialect === 'openai-responses' && provider === 'ollama') delete b.tool_choice;
  return b;
}

const pairs = (Object.keys(DIALECT_BODIES) as Array<keyof typeof DIALECT_BODIES>).flatMap((d) => PROVIDERS.map((p) => [d, p] as const));

describe.each(pairs)('%s -> %o', (dialect, provider) => {
  const fx = DIALECT_BODIES[dialect];
  const parsed = parseIngress(dialect, bytes(JSON.stringify(portable(dialect, fx.body, provider.type))), fx.opts);
  if (!parsed.ok) throw new Error(parsed.error.message);

  test('request builds for the provider', () => {
    const r = buildUpstreamRequest({ dialect, request: parsed.request, raw: parsed.raw, provider, model: 'target-model' });
    if (!r.ok) throw new Error(`${r.error.param}: ${r.error.message}`);
    const body = JSON.parse(text(r.wire.body));
    expect(r.wire.method).toBe('POST');
    expect(r.wire.headers.host).toBeTruthy();
    const format = FORMAT[provider.type];
    if (format === 'openai' && dialect === 'openai-responses' && (provider.type === 'openai' || provider.type === 'azure-openai')) expect(body.input).toBeDefined();
    else if (format === 'openai') expect(body.messages.length).toBeGreaterThan(0);
    if (format === 'anthropic') expect(body.messages[0].role).toBe('user');
    if (format === 'gemini') expect(r.wire.path).toContain('target-model:streamGenerateContent?alt=sse');
    if (format === 'bedrock') expect(r.wire.path).toBe('/model/target-model/converse-stream');
    // The tool definition survives every hop.
    expect(text(r.wire.body)).toContain('get_weather');
  });

  const format = FORMAT[provider.type];
  const native = format === 'openai' ? 'openai' : format;
  const nativeDialect: Record<string, IngressDialect> = { openai: 'openai-chat', anthropic: 'anthropic-messages', gemini: 'gemini-generate' };
  const passthroughResponses = dialect === 'openai-responses' && (provider.type === 'openai' || provider.type === 'azure-openai');

  test('JSON response comes back in the dialect', () => {
    if (passthroughResponses) return; // covered in responses.test.ts with a Responses fixture
    const body = (JSON_RESPONSES[native] as () => Uint8Array)();
    const r = translateJsonResponse({ dialect, providerType: provider.type, model: 'client-model', status: 200, body, requestId: 'r1', created: 1 });
    expect(r.status).toBe(200);
    expect(r.usage?.inputTokens).toBeGreaterThan(0);
    const out = JSON.parse(text(r.body));
    const calls = dialect === 'openai-chat' ? out.choices[0].message.tool_calls
      : dialect === 'anthropic-messages' ? out.content.filter((c: Json) => c.type === 'tool_use')
      : dialect === 'gemini-generate' ? out.candidates[0].content.parts.filter((p: Json) => p.functionCall)
      : out.output.filter((o: Json) => o.type === 'function_call');
    expect(calls).toHaveLength(1);
    if (nativeDialect[native] === dialect) expect(r.body).toBe(body);
  });

  test('stream comes back in the dialect with a proper ending', () => {
    if (passthroughResponses) return;
    const run = runStream(streamArgs(dialect, provider.type), [(STREAMS[native] as () => Uint8Array)()]);
    expect(run.complete).toBe(true);
    expect(run.usage?.outputTokens).toBeGreaterThan(0);
    expect(run.outputText.length).toBeGreaterThan(0);
    if (dialect === 'openai-chat') expect(reassembleOpenAIChat(run.output).terminal).toBe(true);
    if (dialect === 'anthropic-messages') expect(reassembleAnthropic(run.output).terminal).toBe(true);
    if (dialect === 'gemini-generate') expect(sseEvents(run.output).some((e) => JSON.parse(e.data).candidates?.[0]?.finishReason)).toBe(true);
    if (dialect === 'openai-responses') expect(sseEvents(run.output).at(-1)?.event).toBe('response.completed');
  });
});

describe('input token counts', () => {
  const parsed = (content: unknown) => {
    const p = parseIngress('openai-chat', bytes(JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] })), {});
    if (!p.ok) throw new Error(p.error.message);
    return p.request;
  };

  test('countInputTokens counts text with o200k and images flat', () => {
    const request = parsed([{ type: 'text', text: 'hello world' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }]);
    expect(countInputTokens(request)).toBe(2 + IMAGE_TOKEN_ESTIMATE + 3);
  });

  test('estimateInputTokens: ASCII text at 3 characters per token; other text letters/digits at 4, the rest one each', () => {
    // 'hello, world' = 12 ASCII chars -> 4; 'né, 你好' -> 'n' (1 letter -> 1) + 'é', ',', '你', '好' -> 4; image flat; 3 framing.
    expect(estimateInputTokens(parsed([{ type: 'text', text: 'hello, world' }, { type: 'text', text: 'né, 你好' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }]))).toBe(4 + 5 + IMAGE_TOKEN_ESTIMATE + 3);
  });

  test.each([
    ['English prose', 'The quarterly report shows revenue growth driven by subscriptions and services. '.repeat(40)],
    ['code', 'function add(a: number, b: number): number {\n  return a + b;\n}\n'.repeat(40)],
    ['Chinese', '这是一个关于季度收入增长的报告，主要由订阅和服务推动。'.repeat(40)],
  ])('the estimate does not fall below the exact count by more than 10%% (%s)', (_name, text) => {
    const request = parsed(text);
    expect(estimateInputTokens(request)).toBeGreaterThanOrEqual(countInputTokens(request) * 0.9);
  });

  test('count_tokens: forwarded to Anthropic, answered locally elsewhere', () => {
    const body = { model: 'claude', messages: [{ role: 'user', content: 'hello world' }] };
    const p = parseIngress('anthropic-count-tokens', bytes(JSON.stringify(body)), {});
    if (!p.ok) throw new Error(p.error.message);
    const fwd = buildUpstreamRequest({ dialect: 'anthropic-count-tokens', request: p.request, raw: p.raw, provider: { type: 'anthropic', baseUrl: 'https://api.anthropic.com' }, model: 'claude-x' });
    expect(fwd.ok && fwd.wire.path).toBe('/v1/messages/count_tokens');
    expect(fwd.ok && fwd.localResponse).toBeUndefined();
    const local = buildUpstreamRequest({ dialect: 'anthropic-count-tokens', request: p.request, raw: p.raw, provider: { type: 'openai', baseUrl: 'https://api.openai.com' }, model: 'gpt' });
    expect(local.ok && local.localResponse && JSON.parse(text(local.localResponse.body))).toEqual({ input_tokens: 5 });
  });
});
