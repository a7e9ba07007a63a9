// The foundation path through the real Envoy binary: the official OpenAI SDK -> Envoy ->
// Switchboard (router-level + upstream ext_proc filters) -> a simulated OpenAI upstream.
import OpenAI from 'openai';
import { createOpenAISimulator, DEFAULT_ANSWER } from '../simulators/openai.ts';
import type { SimulatedServer } from '../simulators/recorder.ts';
import { newVirtualKey, startTestGateway, type TestGateway } from '../helpers/gateway.ts';


const PROVIDER_KEY = 'sk-provider-canary-7f3a9c';
let sim: SimulatedServer;
let gw: TestGateway;
const fullKey = newVirtualKey();
const limitedKey = newVirtualKey();

beforeAll(async () => {
  sim = await createOpenAISimulator().start();
  gw = await startTestGateway(
    `
providers:
  openai: { type: openai, baseUrl: ${sim.url}, keys: [{ id: main, secret: { env: SIM_OPENAI_KEY } }] }
models:
  gpt-4o-mini: { targets: [{ provider: openai, model: gpt-4o-mini }] }
  gpt-4o: { targets: [{ provider: openai, model: gpt-4o }] }
virtualKeys:
  - { id: full, name: Full access, hash: ${fullKey.hash} }
  - { id: limited, name: Mini only, hash: ${limitedKey.hash}, models: [gpt-4o-mini] }
`,
    { env: { SIM_OPENAI_KEY: PROVIDER_KEY } },
  );
});

afterAll(async () => {
  await gw?.stop();
  await sim?.stop();
});

beforeEach(() => sim.reset());

const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });

test('a JSON completion returns the upstream content; the provider key replaces the virtual key', async () => {
  const res = await client(fullKey.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });
  expect(res.choices[0]?.message.content).toBe(DEFAULT_ANSWER);
  expect(res.usage).toEqual({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
  expect(sim.requests).toHaveLength(1);
  const seen = sim.requests[0]!;
  expect(seen.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
  expect(JSON.stringify(seen.headers)).not.toContain(fullKey.key);
  expect(seen.body).not.toContain(fullKey.key);
  expect(Object.keys(seen.headers).filter((h) => h.startsWith('x-sb-'))).toEqual([]);
  expect((seen.json as { model: string }).model).toBe('gpt-4o-mini');
});

test('a streamed completion arrives intact; usage is reported only when asked for', async () => {
  const stream = await client(fullKey.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }], stream: true });
  let text = '';
  let usageChunks = 0;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usageChunks++;
  }
  expect(text).toBe(DEFAULT_ANSWER);
  expect(usageChunks).toBe(0);
  // The gateway asked the provider for usage anyway, to account for the stream.
  expect((sim.requests[0]!.json as { stream_options?: { include_usage?: boolean } }).stream_options?.include_usage).toBe(true);

  const withUsage = await client(fullKey.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }], stream: true, stream_options: { include_usage: true } });
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of withUsage) if (chunk.usage) usage = chunk.usage;
  expect(usage).toEqual({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
});

test('GET /v1/models lists only the models the key may use', async () => {
  const all = await client(fullKey.key).models.list();
  expect(all.data.map((m) => m.id).sort()).toEqual(['gpt-4o', 'gpt-4o-mini']);
  const limited = await client(limitedKey.key).models.list();
  expect(limited.data.map((m) => m.id)).toEqual(['gpt-4o-mini']);
});

async function expectOpenAIError(p: Promise<unknown>, status: number, code: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(status);
    expect(e.code).toBe(code);
    expect(typeof (e.error as { message?: unknown }).message).toBe('string');
    return;
  }
  throw new Error(`expected HTTP ${status} ${code}`);
}

test.each([
  ['unknown key', 'sk-sb-doesnotexist', 'gpt-4o-mini', 401, 'invalid_api_key'],
  ['model not allowed for the key', 'limited', 'gpt-4o', 403, 'model_not_allowed'],
  ['unknown model', 'full', 'no-such-model', 404, 'model_not_found'],
])('%s -> %i in the OpenAI envelope, nothing reaches the provider', async (_name, who, model, status, code) => {
  const key = who === 'full' ? fullKey.key : who === 'limited' ? limitedKey.key : who;
  await expectOpenAIError(client(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }), status, code);
  expect(sim.requests).toHaveLength(0);
});

test('missing key -> 401 invalid_api_key, nothing reaches the provider', async () => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) });
  expect(res.status).toBe(401);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  expect(sim.requests).toHaveLength(0);
});

test('malformed JSON -> 400 invalid_body, nothing reaches the provider', async () => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${fullKey.key}`, 'content-type': 'application/json' }, body: '{"model": "gpt-4o-mini", "messages": [' });
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: { type: string; code: string; message: string } };
  expect(body.error.type).toBe('invalid_request_error');
  expect(body.error.code).toBe('invalid_body');
  expect(sim.requests).toHaveLength(0);
});

test('a client cannot smuggle internal headers: its x-sb-chain is ignored', async () => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-sb-doesnotexist', 'content-type': 'application/json', 'x-sb-chain': 'anything.w0' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status).toBe(401);
  expect(sim.requests).toHaveLength(0);
});
