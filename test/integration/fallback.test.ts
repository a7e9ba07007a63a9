// Fallback chains walked by Envoy (priorities + retry policy), re-translated per attempt by the
// upstream filter; key cooldowns learned from Envoy's per-attempt access log.
import OpenAI from 'openai';
import { createOpenAISimulator, DEFAULT_ANSWER } from '../simulators/openai.ts';
import type { SimulatedServer } from '../simulators/recorder.ts';
import { newVirtualKey, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

let primary: SimulatedServer;
let secondary: SimulatedServer;
let gw: TestGateway;
const vk = newVirtualKey();

beforeAll(async () => {
  primary = await createOpenAISimulator().start();
  secondary = await createOpenAISimulator().start();
  gw = await startTestGateway(
    `
providers:
  alpha: { type: openai, baseUrl: ${primary.url}, keys: [{ id: a1, secret: { env: KEY_A1 } }, { id: a2, secret: { env: KEY_A2 } }] }
  beta: { type: openai, baseUrl: ${secondary.url}, keys: [{ id: b1, secret: { env: KEY_B1 } }] }
routing:
  defaults: { perAttemptTimeoutMs: 1500 }
models:
  chat:
    targets: [{ provider: alpha, model: gpt-4o-mini }]
    fallbacks: [{ provider: beta, model: gpt-4o }]
virtualKeys:
  - { id: k, name: k, hash: ${vk.hash} }
pricing: { unknownPricePolicy: allow-at-zero }
`,
    { env: { KEY_A1: 'sk-a1', KEY_A2: 'sk-a2', KEY_B1: 'sk-b1' } },
  );
});

afterAll(async () => {
  await gw?.stop();
  await primary?.stop();
  await secondary?.stop();
});

beforeEach(() => {
  primary.reset();
  secondary.reset();
});

const client = () => new OpenAI({ apiKey: vk.key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
const ask = () => client().chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).withResponse();

test.each([
  ['500', { status: 500 }],
  ['503', { status: 503 }],
  ['429', { status: 429, headers: { 'retry-after': '1' } }],
  ['connection reset', { reset: true }],
  ['per-attempt timeout', { delayMs: 3000 }],
])('primary fails with %s -> the fallback answers in OpenAI format', async (_name, behaviour) => {
  primary.enqueue(behaviour);
  const { data, response } = await ask();
  expect(data.choices[0]?.message.content).toBe(DEFAULT_ANSWER);
  expect(data.object).toBe('chat.completion');
  expect(response.headers.get('x-sb-provider')).toBe('beta');
  expect(response.headers.get('x-sb-model')).toBe('gpt-4o');
  expect(response.headers.get('x-sb-attempts')).toMatch(/^alpha\/gpt-4o-mini:(failed|5\d\d|429),beta\/gpt-4o:200$/);
  expect(primary.requests).toHaveLength(1);
  expect(secondary.requests).toHaveLength(1);
  // Each attempt was translated for its own target, with its own provider's key.
  expect((secondary.requests[0]!.json as { model: string }).model).toBe('gpt-4o');
  expect(secondary.requests[0]!.headers.authorization).toBe('Bearer sk-b1');
  await new Promise((r) => setTimeout(r, 1200)); // let a 429 cooldown (Retry-After: 1) expire
});

test('a streamed request fails over before its first byte', async () => {
  primary.enqueue({ status: 502 });
  const stream = await client().chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  expect(text).toBe(DEFAULT_ANSWER);
  expect(secondary.requests).toHaveLength(1);
});

test('no fallback on a 400: the client gets the provider error in its dialect', async () => {
  primary.enqueue({ status: 400, body: { error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: null } } });
  await expect(ask()).rejects.toMatchObject({ status: 400 });
  expect(secondary.requests).toHaveLength(0);
});

test('every target fails -> the last error, with the attempts listed', async () => {
  primary.enqueue({ status: 500 });
  secondary.enqueue({ status: 503 });
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${vk.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }) });
  expect(res.status).toBe(503);
  expect(res.headers.get('x-sb-attempts')).toMatch(/^alpha\/gpt-4o-mini:(failed|5\d\d|429),beta\/gpt-4o:503$/);
  const body = (await res.json()) as { error: { message: string } };
  expect(typeof body.error.message).toBe('string');
});

test('a key that got 429 cools down and the pool rotates to the other key; the cooldown expires', async () => {
  // Both keys of alpha answer 429 once with Retry-After: 2 (the pool picks by weight, so drive both).
  primary.enqueue({ status: 429, headers: { 'retry-after': '2' } }, { status: 429, headers: { 'retry-after': '2' } });
  await ask();
  await ask();
  const keysHit = new Set(primary.requests.map((r) => r.headers.authorization));
  await new Promise((r) => setTimeout(r, 500)); // access log flush (0.2 s) reaches the worker
  primary.reset();
  if (keysHit.size === 2) {
    // Both keys cool down: the chain moves on without calling alpha at all.
    const { response } = await ask();
    expect(response.headers.get('x-sb-provider')).toBe('beta');
    expect(primary.requests).toHaveLength(0);
  } else {
    // One key cooled down: every request now uses the other one.
    for (let i = 0; i < 5; i++) await ask();
    const used = new Set(primary.requests.map((r) => r.headers.authorization));
    expect(used.size).toBe(1);
    expect(keysHit.has([...used][0]!)).toBe(false);
  }
  await new Promise((r) => setTimeout(r, 2200));
  primary.reset();
  for (let i = 0; i < 12; i++) await ask();
  expect(new Set(primary.requests.map((r) => r.headers.authorization)).size).toBe(2);
});
