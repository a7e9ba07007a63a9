// The conformance matrix through the real Envoy: every ingress dialect (spoken by its official
// SDK) against every provider type (a simulator speaking that provider's wire format), one
// gateway for all of it. Each cell is a jest test and a line in test/conformance/results.json;
// `node test/conformance/render-matrix.ts` turns that file into docs/CONFORMANCE.md.
import { readFileSync, writeFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import OpenAI from 'openai';
import { newVirtualKey, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import {
  createAnthropicSimulator,
  createBedrockSimulator,
  createGeminiSimulator,
  createOpenAIToolsSimulator,
  DEFAULT_ANSWER,
  imageAnswer,
  reportedUsage,
  WEATHER_ARGS,
  WEATHER_TOOL,
  type ReportedUsage,
  type SimulatedServer,
} from '../simulators/index.ts';
import { CASES, DIALECTS, PROVIDERS, RESULTS_FILE, type Case, type Cell, type Dialect, type Provider } from '../conformance/matrix.ts';

const vk = newVirtualKey();
const KEYS = { openai: 'sk-sim-openai-1', azure: 'azure-sim-key-1', groq: 'gsk_sim_1', anthropic: 'sk-ant-sim-1', gemini: 'AIza-sim-1' };
const AWS = { accessKeyId: 'AKIASIMULATED0001', secretAccessKey: 'sim/secret+access/key0001' };
const REGION = 'us-east-1';
/** Stream chunks are paced so each crosses Envoy on its own (and a cut lands mid-answer, after the headers). */
const PACE_MS = 3;

/** What each provider's target model is, and how the upstream names it. */
const TARGET_MODEL: Record<Provider, string> = {
  openai: 'gpt-4o-mini',
  'azure-openai': 'gpt-4o-mini',
  groq: 'llama-3.3-70b-versatile',
  anthropic: 'claude-sonnet-4-5',
  gemini: 'gemini-2.5-flash',
  bedrock: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
};
const AZURE_DEPLOYMENTS = { 'gpt-4o-mini': 'sb-mini', 'text-embedding-3-small': 'sb-embed' };
const EMBED_MODEL: Record<Provider, string> = {
  openai: 'text-embedding-3-small',
  'azure-openai': 'text-embedding-3-small',
  groq: 'nomic-embed-text-v1.5',
  anthropic: 'claude-sonnet-4-5',
  gemini: 'gemini-embedding-001',
  bedrock: 'amazon.titan-embed-text-v2:0',
};
const alias = (p: Provider) => `m-${p}`;
const embedAlias = (p: Provider) => `e-${p}`;

/** Cells the gateway is expected to refuse (with a 4xx naming why), and the reason shown. */
const EXPECTED_UNSUPPORTED: Partial<Record<string, string>> = {
  'openai-embeddings|anthropic|embeddings': 'Anthropic has no embeddings API; the gateway answers 400',
};

const sims = {} as Record<Provider, SimulatedServer>;
let gw: TestGateway;
const cells: Cell[] = [];

beforeAll(async () => {
  sims.openai = await createOpenAIToolsSimulator({ flavour: 'openai', apiKey: KEYS.openai, paceMs: PACE_MS }).start();
  sims['azure-openai'] = await createOpenAIToolsSimulator({ flavour: 'azure', apiKey: KEYS.azure, deployments: Object.values(AZURE_DEPLOYMENTS), paceMs: PACE_MS }).start();
  sims.groq = await createOpenAIToolsSimulator({ flavour: 'compatible', apiKey: KEYS.groq, paceMs: PACE_MS }).start();
  sims.anthropic = await createAnthropicSimulator({ apiKey: KEYS.anthropic, paceMs: PACE_MS }).start();
  sims.gemini = await createGeminiSimulator({ apiKey: KEYS.gemini, paceMs: PACE_MS }).start();
  sims.bedrock = await createBedrockSimulator({ credentials: AWS, region: REGION, paceMs: PACE_MS }).start();
  const models = PROVIDERS.flatMap((p) => [
    `  ${alias(p)}: { targets: [{ provider: ${p}, model: "${TARGET_MODEL[p]}" }] }`,
    `  ${embedAlias(p)}: { targets: [{ provider: ${p}, model: "${EMBED_MODEL[p]}" }] }`,
  ]).join('\n');
  gw = await startTestGateway(
    `
providers:
  openai: { type: openai, baseUrl: ${sims.openai.url}, keys: [{ id: k1, secret: { env: SIM_OPENAI_KEY } }] }
  azure-openai:
    type: azure-openai
    baseUrl: ${sims['azure-openai'].url}
    apiVersion: "2024-10-21"
    deployments: ${JSON.stringify(AZURE_DEPLOYMENTS)}
    keys: [{ id: k1, secret: { env: SIM_AZURE_KEY } }]
  groq: { type: groq, baseUrl: ${sims.groq.url}/openai/v1, keys: [{ id: k1, secret: { env: SIM_GROQ_KEY } }] }
  anthropic: { type: anthropic, baseUrl: ${sims.anthropic.url}, keys: [{ id: k1, secret: { env: SIM_ANTHROPIC_KEY } }] }
  gemini: { type: gemini, baseUrl: ${sims.gemini.url}, keys: [{ id: k1, secret: { env: SIM_GEMINI_KEY } }] }
  bedrock:
    type: bedrock
    baseUrl: ${sims.bedrock.url}
    region: ${REGION}
    keys: [{ id: k1, accessKeyId: { env: SIM_AWS_ACCESS_KEY_ID }, secretAccessKey: { env: SIM_AWS_SECRET_ACCESS_KEY } }]
  bedrock-wrong-secret:
    type: bedrock
    baseUrl: ${sims.bedrock.url}
    region: ${REGION}
    keys: [{ id: k1, accessKeyId: { env: SIM_AWS_ACCESS_KEY_ID }, secretAccessKey: { env: SIM_AWS_WRONG_SECRET } }]
models:
${models}
  m-bedrock-wrong-secret: { targets: [{ provider: bedrock-wrong-secret, model: "${TARGET_MODEL.bedrock}" }] }
virtualKeys:
  - { id: conformance, name: conformance, hash: ${vk.hash} }
pricing: { unknownPricePolicy: allow-at-zero }
`,
    {
      env: {
        SIM_OPENAI_KEY: KEYS.openai,
        SIM_AZURE_KEY: KEYS.azure,
        SIM_GROQ_KEY: KEYS.groq,
        SIM_ANTHROPIC_KEY: KEYS.anthropic,
        SIM_GEMINI_KEY: KEYS.gemini,
        SIM_AWS_ACCESS_KEY_ID: AWS.accessKeyId,
        SIM_AWS_SECRET_ACCESS_KEY: AWS.secretAccessKey,
        SIM_AWS_WRONG_SECRET: `${AWS.secretAccessKey}-not`,
      },
    },
  );
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all(Object.values(sims).map((s) => s.stop()));
  const version = (pkg: string) => (JSON.parse(readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  const results = {
    generatedAt: new Date().toISOString(),
    environment: { node: process.version, openai: version('openai'), '@anthropic-ai/sdk': version('@anthropic-ai/sdk'), '@google/genai': version('@google/genai') },
    cells,
  };
  if (cells.length > 0) writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
});

beforeEach(() => {
  for (const s of Object.values(sims)) s.reset();
});

// ------------------------------------------------------------------ the clients, one per dialect

const WEATHER_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city'],
};
const WEATHER_PROMPT = 'What is the weather in Paris right now?';
const TEXT_PROMPT = 'Say hello to the conformance suite';
/** A 2x2 PNG. */
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR4nGP8z8DwnwEJMDGgAcIcAE8YAgHpgJ0XAAAAAElFTkSuQmCC';
const PNG_BYTES = Buffer.from(PNG_B64, 'base64').length;

interface TextResult { text: string; usage?: ReportedUsage }
interface ToolResult { name: string; args: unknown }

interface DialectClient {
  text(model: string, stream: boolean): Promise<TextResult>;
  tool(model: string, stream: boolean): Promise<ToolResult>;
  image(model: string): Promise<TextResult>;
  /** Consumes a stream to its end, adding the text it sees to `seen` (throws when the SDK reports an error). */
  drain(model: string, seen: { text: string }): Promise<void>;
}

const openai = () => new OpenAI({ apiKey: vk.key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
const anthropic = () => new Anthropic({ apiKey: vk.key, baseURL: gw.url, maxRetries: 0 });
// The genai SDK gives Node's fetch a dispatcher that looks up undici's global dispatcher on
// globalThis, which jest's VM context does not have ("fetch failed"); handing it fetch itself
// makes it skip that (outside jest the SDK works as is).
const gemini = () => new GoogleGenAI({ apiKey: vk.key, httpOptions: { baseUrl: gw.url, retryOptions: { attempts: 1 }, fetch: (input, init) => fetch(input, init) } });

const openaiChat: DialectClient = {
  async text(model, stream) {
    const messages = [{ role: 'user' as const, content: TEXT_PROMPT }];
    if (!stream) {
      const r = await openai().chat.completions.create({ model, messages });
      return { text: r.choices[0]?.message.content ?? '', ...(r.usage ? { usage: { inputTokens: r.usage.prompt_tokens, outputTokens: r.usage.completion_tokens } } : {}) };
    }
    const s = await openai().chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: ReportedUsage | undefined;
    for await (const c of s) {
      text += c.choices[0]?.delta?.content ?? '';
      if (c.usage) usage = { inputTokens: c.usage.prompt_tokens, outputTokens: c.usage.completion_tokens };
    }
    return { text, ...(usage ? { usage } : {}) };
  },
  async tool(model, stream) {
    const tools = [{ type: 'function' as const, function: { name: WEATHER_TOOL, description: 'Current weather', parameters: WEATHER_SCHEMA } }];
    const messages = [{ role: 'user' as const, content: WEATHER_PROMPT }];
    if (!stream) {
      const r = await openai().chat.completions.create({ model, messages, tools });
      expect(r.choices[0]?.finish_reason).toBe('tool_calls');
      const call = r.choices[0]?.message.tool_calls?.[0];
      if (!call || call.type !== 'function') throw new Error(`no function tool call in ${JSON.stringify(r.choices[0]?.message)}`);
      return { name: call.function.name, args: JSON.parse(call.function.arguments) };
    }
    const s = await openai().chat.completions.create({ model, messages, tools, stream: true });
    let name = '';
    let args = '';
    let finish: string | null | undefined;
    for await (const c of s) {
      for (const tc of c.choices[0]?.delta?.tool_calls ?? []) {
        name += tc.function?.name ?? '';
        args += tc.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    return { name, args: JSON.parse(args) };
  },
  async image(model) {
    const r = await openai().chat.completions.create({
      model,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe this image' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } }] }],
    });
    return { text: r.choices[0]?.message.content ?? '' };
  },
  async drain(model, seen) {
    const s = await openai().chat.completions.create({ model, messages: [{ role: 'user', content: TEXT_PROMPT }], stream: true });
    for await (const c of s) seen.text += c.choices[0]?.delta?.content ?? '';
  },
};

const openaiResponses: DialectClient = {
  async text(model, stream) {
    if (!stream) {
      const r = await openai().responses.create({ model, input: TEXT_PROMPT });
      return { text: r.output_text, ...(r.usage ? { usage: { inputTokens: r.usage.input_tokens, outputTokens: r.usage.output_tokens } } : {}) };
    }
    const s = await openai().responses.create({ model, input: TEXT_PROMPT, stream: true });
    let text = '';
    let usage: ReportedUsage | undefined;
    let completed = false;
    for await (const ev of s) {
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') {
        completed = true;
        if (ev.response.usage) usage = { inputTokens: ev.response.usage.input_tokens, outputTokens: ev.response.usage.output_tokens };
      }
      if (ev.type === 'error' || ev.type === 'response.failed') throw new Error(`stream error event: ${JSON.stringify(ev)}`);
    }
    if (!completed) throw new Error('stream ended without response.completed');
    return { text, ...(usage ? { usage } : {}) };
  },
  async tool(model, stream) {
    const tools = [{ type: 'function' as const, name: WEATHER_TOOL, description: 'Current weather', parameters: WEATHER_SCHEMA, strict: false }];
    if (!stream) {
      const r = await openai().responses.create({ model, input: WEATHER_PROMPT, tools });
      const call = r.output.find((o) => o.type === 'function_call');
      if (!call || call.type !== 'function_call') throw new Error(`no function_call item in ${JSON.stringify(r.output)}`);
      return { name: call.name, args: JSON.parse(call.arguments) };
    }
    const s = await openai().responses.create({ model, input: WEATHER_PROMPT, tools, stream: true });
    let name = '';
    let args = '';
    let done: string | undefined;
    for await (const ev of s) {
      if (ev.type === 'response.output_item.added' && ev.item.type === 'function_call') name = ev.item.name;
      if (ev.type === 'response.function_call_arguments.delta') args += ev.delta;
      if (ev.type === 'response.function_call_arguments.done') done = ev.arguments;
    }
    expect(done).toBe(args);
    return { name, args: JSON.parse(args) };
  },
  async image(model) {
    const r = await openai().responses.create({
      model,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Describe this image' }, { type: 'input_image', image_url: `data:image/png;base64,${PNG_B64}`, detail: 'auto' }] }],
    });
    return { text: r.output_text };
  },
  async drain(model, seen) {
    const s = await openai().responses.create({ model, input: TEXT_PROMPT, stream: true });
    for await (const ev of s) {
      if (ev.type === 'response.output_text.delta') seen.text += ev.delta;
      if (ev.type === 'error' || ev.type === 'response.failed') throw new Error(`stream error event: ${JSON.stringify(ev)}`);
    }
  },
};

const anthropicMessages: DialectClient = {
  async text(model, stream) {
    const params = { model, max_tokens: 256, messages: [{ role: 'user' as const, content: TEXT_PROMPT }] };
    const m = stream ? await anthropic().messages.stream(params).finalMessage() : await anthropic().messages.create(params);
    const text = m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    return { text, usage: { inputTokens: m.usage.input_tokens + (m.usage.cache_read_input_tokens ?? 0) + (m.usage.cache_creation_input_tokens ?? 0), outputTokens: m.usage.output_tokens } };
  },
  async tool(model, stream) {
    const params = {
      model,
      max_tokens: 256,
      tools: [{ name: WEATHER_TOOL, description: 'Current weather', input_schema: WEATHER_SCHEMA as Anthropic.Tool.InputSchema }],
      messages: [{ role: 'user' as const, content: WEATHER_PROMPT }],
    };
    const m = stream ? await anthropic().messages.stream(params).finalMessage() : await anthropic().messages.create(params);
    expect(m.stop_reason).toBe('tool_use');
    const block = m.content.find((b) => b.type === 'tool_use');
    if (!block || block.type !== 'tool_use') throw new Error(`no tool_use block in ${JSON.stringify(m.content)}`);
    return { name: block.name, args: block.input };
  },
  async image(model) {
    const m = await anthropic().messages.create({
      model,
      max_tokens: 256,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe this image' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } }] }],
    });
    return { text: m.content.map((b) => (b.type === 'text' ? b.text : '')).join('') };
  },
  async drain(model, seen) {
    const s = await anthropic().messages.create({ model, max_tokens: 256, messages: [{ role: 'user', content: TEXT_PROMPT }], stream: true });
    for await (const ev of s) if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') seen.text += ev.delta.text;
  },
};

function geminiUsage(r: GenerateContentResponse | undefined): ReportedUsage | undefined {
  const u = r?.usageMetadata;
  return u ? { inputTokens: u.promptTokenCount ?? 0, outputTokens: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0) } : undefined;
}

const geminiGenerate: DialectClient = {
  async text(model, stream) {
    const req = { model, contents: [{ role: 'user', parts: [{ text: TEXT_PROMPT }] }] };
    if (!stream) {
      const r = await gemini().models.generateContent(req);
      const usage = geminiUsage(r);
      return { text: r.text ?? '', ...(usage ? { usage } : {}) };
    }
    let text = '';
    let last: GenerateContentResponse | undefined;
    for await (const c of await gemini().models.generateContentStream(req)) {
      text += c.text ?? '';
      last = c;
    }
    const usage = geminiUsage(last);
    return { text, ...(usage ? { usage } : {}) };
  },
  async tool(model, stream) {
    const req = {
      model,
      contents: [{ role: 'user', parts: [{ text: WEATHER_PROMPT }] }],
      config: { tools: [{ functionDeclarations: [{ name: WEATHER_TOOL, description: 'Current weather', parametersJsonSchema: WEATHER_SCHEMA }] }] },
    };
    if (!stream) {
      const call = (await gemini().models.generateContent(req)).functionCalls?.[0];
      if (!call) throw new Error('no functionCall part');
      return { name: call.name ?? '', args: call.args };
    }
    const calls = [];
    for await (const c of await gemini().models.generateContentStream(req)) calls.push(...(c.functionCalls ?? []));
    if (calls.length !== 1) throw new Error(`expected one functionCall, got ${JSON.stringify(calls)}`);
    return { name: calls[0]!.name ?? '', args: calls[0]!.args };
  },
  async image(model) {
    const r = await gemini().models.generateContent({ model, contents: [{ role: 'user', parts: [{ text: 'Describe this image' }, { inlineData: { mimeType: 'image/png', data: PNG_B64 } }] }] });
    return { text: r.text ?? '' };
  },
  async drain(model, seen) {
    for await (const c of await gemini().models.generateContentStream({ model, contents: [{ role: 'user', parts: [{ text: TEXT_PROMPT }] }] })) seen.text += c.text ?? '';
  },
};

const CLIENTS: Record<Dialect, DialectClient> = {
  'openai-chat': openaiChat,
  'openai-responses': openaiResponses,
  'anthropic-messages': anthropicMessages,
  'gemini-generate': geminiGenerate,
};

// ------------------------------------------------------------------ the cells

/** What the upstream must have received: one request, for the target model, with that provider's credential. */
function expectOneUpstreamCall(provider: Provider, stream: boolean) {
  const sim = sims[provider];
  expect(sim.requests).toHaveLength(1);
  const seen = sim.requests[0]!;
  expect(JSON.stringify(seen.headers)).not.toContain(vk.key);
  expect(seen.body).not.toContain(vk.key);
  switch (provider) {
    case 'gemini':
      expect(seen.path).toBe(`/v1beta/models/${TARGET_MODEL.gemini}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`);
      break;
    case 'bedrock':
      expect(seen.path).toBe(`/model/${encodeURIComponent(TARGET_MODEL.bedrock)}/${stream ? 'converse-stream' : 'converse'}`);
      break;
    case 'azure-openai':
      expect((seen.json as { model?: string }).model ?? AZURE_DEPLOYMENTS['gpt-4o-mini']).toMatch(/^(sb-mini|gpt-4o-mini)$/);
      break;
    default:
      expect((seen.json as { model?: string }).model).toBe(TARGET_MODEL[provider]);
  }
  return seen;
}

function expectUsageFromUpstream(provider: Provider, got: ReportedUsage | undefined) {
  const upstream = reportedUsage(sims[provider].requests[0]);
  expect(upstream).toBeDefined();
  expect(got).toEqual(upstream);
}

async function runCase(dialect: Dialect, provider: Provider, c: Case): Promise<string | undefined> {
  const client = CLIENTS[dialect];
  const model = alias(provider);
  switch (c) {
    case 'text':
    case 'text-stream': {
      const r = await client.text(model, c === 'text-stream');
      expect(r.text).toBe(DEFAULT_ANSWER);
      expectOneUpstreamCall(provider, c === 'text-stream');
      return undefined;
    }
    case 'usage':
    case 'usage-stream': {
      const r = await client.text(model, c === 'usage-stream');
      expectOneUpstreamCall(provider, c === 'usage-stream');
      expectUsageFromUpstream(provider, r.usage);
      return undefined;
    }
    case 'tool':
    case 'tool-stream': {
      const r = await client.tool(model, c === 'tool-stream');
      expect(r.name).toBe(WEATHER_TOOL);
      expect(r.args).toEqual(WEATHER_ARGS);
      expectOneUpstreamCall(provider, c === 'tool-stream');
      return undefined;
    }
    case 'image': {
      const r = await client.image(model);
      expect(r.text).toBe(imageAnswer([{ format: 'png', bytes: PNG_BYTES }]));
      return undefined;
    }
    case 'stream-cut': {
      // The upstream sends its headers and the first chunks, then drops the connection.
      sims[provider].enqueue({ cutAfterChunks: 3 });
      const seen = { text: '' };
      let error: unknown;
      try {
        await client.drain(model, seen);
      } catch (e) {
        error = e;
      }
      expect(sims[provider].requests).toHaveLength(1);
      if (error === undefined) throw new Error(`the cut stream reached the client as a complete answer: ${JSON.stringify(seen.text)}`);
      const detail = `after ${JSON.stringify(seen.text)}: ${causeOf(error).slice(0, 160)}`;
      // Whatever text arrived is a strict prefix of the answer. (With the default output
      // guardrails it is usually none: the stream scanner holds back its longest rule's reach.)
      if (!(DEFAULT_ANSWER.startsWith(seen.text) && seen.text !== DEFAULT_ANSWER)) throw new Error(`expected at most part of the answer before the error; got ${detail}`);
      return detail;
    }
  }
}

function causeOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // jest's messages carry ANSI colour codes: drop them for the results file.
  const esc = String.fromCharCode(27);
  return msg.split(esc).map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, ''))).join('').replace(/\s+/g, ' ').trim().slice(0, 300);
}

describe.each(DIALECTS.map((d) => [d]))('%s', (dialect) => {
  test.each(PROVIDERS.flatMap((p) => CASES.map((c) => [p, c] as const)))(`${dialect} -> %s: %s`, async (provider, c) => {
    try {
      const detail = await runCase(dialect, provider, c);
      cells.push({ dialect, provider, case: c, status: 'pass', ...(detail ? { detail } : {}) });
    } catch (e) {
      cells.push({ dialect, provider, case: c, status: 'fail', detail: causeOf(e) });
      throw e;
    }
  });
});

describe('openai-embeddings', () => {
  test.each(PROVIDERS.map((p) => [p]))('openai SDK embeddings -> %s', async (provider) => {
    const key = `openai-embeddings|${provider}|embeddings`;
    const unsupported = EXPECTED_UNSUPPORTED[key];
    try {
      if (unsupported) {
        await expect(openai().embeddings.create({ model: embedAlias(provider), input: 'hello there' })).rejects.toMatchObject({ status: 400 });
        expect(sims[provider].requests).toHaveLength(0);
        cells.push({ dialect: 'openai-embeddings', provider, case: 'embeddings', status: 'unsupported', detail: unsupported });
        return;
      }
      // One input: Bedrock's Titan embeds one text per call (PARAMETERS.md), the rest take arrays too.
      const r = await openai().embeddings.create({ model: embedAlias(provider), input: 'hello there', encoding_format: 'float' });
      expect(r.data.map((d) => d.index)).toEqual([0]);
      expect(r.data[0]!.embedding).toHaveLength(3);
      expect(r.data[0]!.embedding[1]).toBeCloseTo(0.5);
      const seen = sims[provider].requests;
      expect(seen.length).toBeGreaterThanOrEqual(1);
      cells.push({ dialect: 'openai-embeddings', provider, case: 'embeddings', status: 'pass' });
    } catch (e) {
      cells.push({ dialect: 'openai-embeddings', provider, case: 'embeddings', status: 'fail', detail: causeOf(e) });
      throw e;
    }
  });
});

test('the Bedrock simulator verifies SigV4: a request signed with another secret gets AWS 403, mapped for the client', async () => {
  const err = await openai().chat.completions.create({ model: 'm-bedrock-wrong-secret', messages: [{ role: 'user', content: TEXT_PROMPT }] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpenAI.APIError);
  expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
  expect(sims.bedrock.requests).toHaveLength(1);
  expect(reportedUsage(sims.bedrock.requests[0])).toBeUndefined();
});
