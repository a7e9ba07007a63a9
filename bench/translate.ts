// Translation cost per request, in microseconds: the pure provider-adapters work the gateway does
// for one request (parse the ingress body, build the upstream request, translate the answer back),
// JSON and streamed, with no I/O in the measured loop. Upstream answers are captured once from the
// simulated providers (test/simulators), answering the very request the adapters built.
//   ./node_modules/.bin/node bench/translate.ts [iterations]
import os from 'node:os';
import {
  buildUpstreamRequest,
  createStreamTranslator,
  parseIngress,
  signBedrockRequest,
  translateJsonResponse,
  type IngressDialect,
  type ProviderType,
  type WireRequest,
} from '../provider-adapters/index.ts';
import { createAnthropicSimulator, createBedrockSimulator, createGeminiSimulator, createOpenAIToolsSimulator, type SimulatedServer } from '../test/simulators/index.ts';

const ITERATIONS = Number(process.argv[2] ?? 5000);
const WARMUP = Math.min(2000, ITERATIONS);
const AWS = { accessKeyId: 'AKIABENCH', secretAccessKey: 'bench-secret' };
/** A 120-word answer: streamed as 120 text chunks plus framing. */
const ANSWER = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ') + '.';
const enc = new TextEncoder();

const PROMPT = [
  { role: 'system', content: 'You are a concise assistant.' },
  { role: 'user', content: 'Tell me about the history of the telephone switchboard in about one hundred words.' },
];
const INGRESS: Record<string, (stream: boolean) => unknown> = {
  'openai-chat': (stream) => ({ model: 'bench', messages: PROMPT, max_tokens: 512, temperature: 0.2, stream }),
  'anthropic-messages': (stream) => ({ model: 'bench', system: PROMPT[0]!.content, messages: [PROMPT[1]], max_tokens: 512, temperature: 0.2, stream }),
};

interface Pair {
  name: string;
  dialect: IngressDialect;
  provider: ProviderType;
  model: string;
  sim: () => SimulatedServer;
  sign?: boolean;
}

const PAIRS: Pair[] = [
  { name: 'openai-chat -> openai (passthrough)', dialect: 'openai-chat', provider: 'openai', model: 'gpt-4o-mini', sim: () => createOpenAIToolsSimulator() },
  { name: 'openai-chat -> anthropic', dialect: 'openai-chat', provider: 'anthropic', model: 'claude-sonnet-4-5', sim: () => createAnthropicSimulator() },
  { name: 'anthropic-messages -> openai', dialect: 'anthropic-messages', provider: 'openai', model: 'gpt-4o-mini', sim: () => createOpenAIToolsSimulator() },
  { name: 'openai-chat -> gemini', dialect: 'openai-chat', provider: 'gemini', model: 'gemini-2.5-flash', sim: () => createGeminiSimulator() },
  { name: 'openai-chat -> bedrock (+SigV4)', dialect: 'openai-chat', provider: 'bedrock', model: 'anthropic.claude-3-5-sonnet-20240620-v1:0', sim: () => createBedrockSimulator({ credentials: AWS, region: 'us-east-1' }), sign: true },
];

function build(pair: Pair, baseUrl: string, body: Uint8Array): { wire: WireRequest } {
  const parsed = parseIngress(pair.dialect, body);
  if (!parsed.ok) throw new Error(parsed.error.message);
  const built = buildUpstreamRequest({ dialect: pair.dialect, request: parsed.request, raw: parsed.raw, provider: { type: pair.provider, baseUrl, region: 'us-east-1' }, model: pair.model, clientWantsUsage: parsed.clientWantsUsage });
  if (!built.ok) throw new Error(built.error.message);
  return { wire: built.wire };
}

/** Splits a captured stream where the provider's events end, as they arrive off the wire. */
function chunksOf(bytes: Uint8Array, eventStream: boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (eventStream) {
    for (let i = 0; i < bytes.length; ) {
      const len = new DataView(bytes.buffer, bytes.byteOffset + i, 4).getUint32(0);
      out.push(bytes.subarray(i, i + len));
      i += len;
    }
    return out;
  }
  const text = new TextDecoder().decode(bytes);
  for (const m of text.matchAll(/[\s\S]*?(\r?\n\r?\n)/g)) out.push(enc.encode(m[0]));
  return out;
}

async function capture(pair: Pair, stream: boolean): Promise<{ status: number; body: Uint8Array; chunks: Uint8Array[] }> {
  const sim = await pair.sim().start();
  try {
    sim.enqueue({ text: ANSWER });
    let { wire } = build(pair, sim.url, enc.encode(JSON.stringify(INGRESS[pair.dialect]!(stream))));
    if (pair.sign) wire = await signBedrockRequest(wire, AWS, 'us-east-1', new Date());
    const headers = Object.fromEntries(Object.entries(wire.headers).filter(([k]) => k !== 'host'));
    const res = await fetch(`${sim.url}${wire.path}`, { method: 'POST', headers, body: wire.body });
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`${pair.name}: simulator answered ${res.status} ${new TextDecoder().decode(body)}`);
    return { status: res.status, body, chunks: stream ? chunksOf(body, pair.provider === 'bedrock') : [] };
  } finally {
    await sim.stop();
  }
}

async function measure(fn: () => unknown | Promise<unknown>): Promise<{ mean: number; p50: number; p99: number }> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const samples = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const t = performance.now();
    await fn();
    samples[i] = (performance.now() - t) * 1000;
  }
  const sorted = Array.from(samples).sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { mean, p50: sorted[Math.floor(sorted.length * 0.5)]!, p99: sorted[Math.floor(sorted.length * 0.99)]! };
}

const rows: string[][] = [];
for (const pair of PAIRS) {
  for (const stream of [false, true]) {
    const upstream = await capture(pair, stream);
    const ingress = enc.encode(JSON.stringify(INGRESS[pair.dialect]!(stream)));
    const base = 'http://127.0.0.1:9';
    // Request side: parse + build (+ sign for Bedrock).
    const req = await measure(async () => {
      const { wire } = build(pair, base, ingress);
      if (pair.sign) await signBedrockRequest({ ...wire, headers: { ...wire.headers, host: '127.0.0.1:9' } }, AWS, 'us-east-1', new Date(0));
    });
    // Response side: the JSON answer, or every chunk of the stream plus its end.
    const res = await measure(() => {
      if (!stream) {
        const out = translateJsonResponse({ dialect: pair.dialect, providerType: pair.provider, model: 'bench', status: 200, body: upstream.body, requestId: 'r', created: 0 });
        if (out.status !== 200) throw new Error(`${pair.name}: translated to ${out.status}`);
        return;
      }
      const t = createStreamTranslator({ dialect: pair.dialect, providerType: pair.provider, model: 'bench', requestId: 'r', created: 0, clientWantsUsage: true });
      for (const c of upstream.chunks) t.push(c);
      if (!t.end().complete) throw new Error(`${pair.name}: stream incomplete`);
    });
    rows.push([
      pair.name,
      stream ? `stream (${upstream.chunks.length} chunks)` : 'JSON',
      req.mean.toFixed(1),
      res.mean.toFixed(1),
      `${res.p50.toFixed(1)} / ${res.p99.toFixed(1)}`,
      stream ? (res.mean / upstream.chunks.length).toFixed(2) : '',
      (req.mean + res.mean).toFixed(1),
    ]);
  }
}

const header = ['pair', 'answer', 'request µs', 'response µs', 'response p50 / p99 µs', 'µs per chunk', 'total µs'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(`translation cost per request, ${ITERATIONS} iterations after ${WARMUP} warm-up; ${ANSWER.split(' ').length}-word answer; no output guardrails`);
console.log(`${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, node ${process.version}`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
