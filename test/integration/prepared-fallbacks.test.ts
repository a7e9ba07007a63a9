// Fallbacks prepared up front: the router-level filter translates the next chain steps with
// attempt 1, and Envoy's Lua upstream filter applies one on a retry without a round trip to
// Switchboard. Steps past the configured limit still go through the upstream ext_proc filter.
// Counted with Envoy's own ext_proc stream counters, through the real Envoy binary.
import OpenAI from 'openai';
import { createOpenAISimulator, DEFAULT_ANSWER } from '../simulators/openai.ts';
import { createAnthropicSimulator } from '../simulators/anthropic.ts';
import type { SimulatedServer } from '../simulators/recorder.ts';
import { newVirtualKey, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

let alpha: SimulatedServer;
let beta: SimulatedServer;
let gamma: SimulatedServer;
let prepared: TestGateway; // preparedFallbacks.steps: 2
let oneStep: TestGateway; // the default, one step prepared: the third step goes through ext_proc
const vk = newVirtualKey();

const config = () => `
providers:
  alpha: { type: openai, baseUrl: ${alpha.url}, keys: [{ id: a1, secret: { env: KEY_A1 } }] }
  beta: { type: anthropic, baseUrl: ${beta.url}, keys: [{ id: b1, secret: { env: KEY_B1 } }] }
  gamma: { type: openai, baseUrl: ${gamma.url}, keys: [{ id: g1, secret: { env: KEY_G1 } }] }
routing:
  defaults: { perAttemptTimeoutMs: 1500 }
models:
  chat:
    targets: [{ provider: alpha, model: gpt-4o-mini }]
    fallbacks: [{ provider: beta, model: claude-sonnet-4-5 }, { provider: gamma, model: gpt-4o }]
virtualKeys:
  - { id: k, name: k, hash: ${vk.hash} }
pricing: { unknownPricePolicy: allow-at-zero }
`;
const env = { KEY_A1: 'sk-a1', KEY_B1: 'sk-ant-b1', KEY_G1: 'sk-g1' };

beforeAll(async () => {
  alpha = await createOpenAISimulator().start();
  beta = await createAnthropicSimulator({ apiKey: 'sk-ant-b1' }).start();
  gamma = await createOpenAISimulator().start();
  [prepared, oneStep] = await Promise.all([startTestGateway(config(), { env, server: 'preparedFallbacks: { steps: 2 }' }), startTestGateway(config(), { env })]);
});

afterAll(async () => {
  await prepared?.stop();
  await oneStep?.stop();
  await alpha?.stop();
  await beta?.stop();
  await gamma?.stop();
});

beforeEach(() => {
  alpha.reset();
  beta.reset();
  gamma.reset();
});

/** Streams Envoy opened to the upstream ext_proc filter (the chain clusters' ext_proc stats). */
async function upstreamFilterStreams(gw: TestGateway): Promise<number> {
  const res = await fetch(`${gw.envoyAdminUrl}/stats?format=json&filter=${encodeURIComponent('^cluster\\..*ext_proc\\.streams_started$')}`);
  const json = (await res.json()) as { stats?: { value?: number }[] };
  return (json.stats ?? []).reduce((n, s) => n + (s.value ?? 0), 0);
}

const ask = (gw: TestGateway) =>
  new OpenAI({ apiKey: vk.key, baseURL: `${gw.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).withResponse();

test('a prepared fallback is applied by Envoy alone, translated for its provider', async () => {
  const before = await upstreamFilterStreams(prepared);
  alpha.enqueue({ status: 500 });
  const { data, response } = await ask(prepared);
  expect(data.object).toBe('chat.completion');
  expect(data.choices[0]?.message.content).toBe(DEFAULT_ANSWER);
  expect(response.headers.get('x-sb-provider')).toBe('beta');
  expect(response.headers.get('x-sb-attempts')).toMatch(/^alpha\/gpt-4o-mini:(failed|500),beta\/claude-sonnet-4-5:200$/);
  expect(await upstreamFilterStreams(prepared)).toBe(before);
  // Anthropic's wire format, its own credential, and nothing of attempt 1's provider left over.
  const sent = beta.requests[0]!;
  expect(sent.path).toBe('/v1/messages');
  expect(sent.headers['x-api-key']).toBe('sk-ant-b1');
  expect(sent.headers['anthropic-version']).toBeTruthy();
  expect(sent.headers.authorization).toBeUndefined();
  expect(Object.keys(sent.headers).filter((h) => h.startsWith('x-sb-'))).toEqual([]);
  expect((sent.json as { model: string }).model).toBe('claude-sonnet-4-5');
});

test('two prepared fallbacks in a row: the third step answers, every attempt listed', async () => {
  const before = await upstreamFilterStreams(prepared);
  alpha.enqueue({ status: 503 });
  beta.enqueue({ status: 529 });
  const { data, response } = await ask(prepared);
  expect(data.choices[0]?.message.content).toBe(DEFAULT_ANSWER);
  expect(response.headers.get('x-sb-attempts')).toMatch(/^alpha\/gpt-4o-mini:(failed|503),beta\/claude-sonnet-4-5:(failed|529),gamma\/gpt-4o:200$/);
  expect(await upstreamFilterStreams(prepared)).toBe(before);
  const sent = gamma.requests[0]!;
  expect(sent.headers.authorization).toBe('Bearer sk-g1');
  expect(sent.headers['x-api-key']).toBeUndefined();
  expect(sent.headers['anthropic-version']).toBeUndefined();
  expect((sent.json as { model: string }).model).toBe('gpt-4o');
});

test('a step past the limit goes through the upstream ext_proc filter, after a prepared one', async () => {
  const before = await upstreamFilterStreams(oneStep);
  alpha.enqueue({ status: 500 });
  beta.enqueue({ status: 500 });
  const { data, response } = await ask(oneStep);
  expect(data.choices[0]?.message.content).toBe(DEFAULT_ANSWER);
  expect(response.headers.get('x-sb-attempts')).toMatch(/^alpha\/gpt-4o-mini:(failed|500),beta\/claude-sonnet-4-5:(failed|500),gamma\/gpt-4o:200$/);
  expect(await upstreamFilterStreams(oneStep)).toBe(before + 1);
  const sent = gamma.requests[0]!;
  expect(sent.headers.authorization).toBe('Bearer sk-g1');
  expect(sent.headers['x-api-key']).toBeUndefined();
  expect(Object.keys(sent.headers).filter((h) => h.startsWith('x-sb-'))).toEqual([]);
  expect((sent.json as { model: string }).model).toBe('gpt-4o');
});

test("a prepared attempt's 429 reaches the key pool through Envoy's access log", async () => {
  alpha.enqueue({ status: 500 });
  beta.enqueue({ status: 429, headers: { 'retry-after': '3' } });
  const first = await ask(prepared);
  expect(first.response.headers.get('x-sb-provider')).toBe('gamma');
  await new Promise((r) => setTimeout(r, 600)); // the access log flush (0.2 s) reaches the worker
  beta.reset();
  alpha.enqueue({ status: 500 });
  const second = await ask(prepared);
  // beta's only key cools down: its step is not attempted at all, gamma answers.
  expect(second.response.headers.get('x-sb-provider')).toBe('gamma');
  expect(beta.requests).toHaveLength(0);
  await new Promise((r) => setTimeout(r, 3000)); // let the cooldown expire for the other tests
});

test('a streamed request fails over to a prepared fallback before its first byte', async () => {
  alpha.enqueue({ status: 502 });
  const stream = await new OpenAI({ apiKey: vk.key, baseURL: `${prepared.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  expect(text).toBe(DEFAULT_ANSWER);
  expect(beta.requests).toHaveLength(1);
  expect((beta.requests[0]!.json as { stream?: boolean }).stream).toBe(true);
});
