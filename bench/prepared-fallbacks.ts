// What preparing fallbacks costs every request (the price of cheap fallbacks, see README "Fallbacks
// are prepared with attempt 1"): the router-level filter's extra work for a chain OpenAI ->
// Anthropic -> OpenAI, measured in-process on the real code: translating the prepared steps
// (prepareFallbacks) and encoding the body answer with and without their dynamic metadata
// (protobufjs, envoy.service.ext_proc.v3.ProcessingResponse). Microseconds per request.
//   ./node_modules/.bin/node bench/prepared-fallbacks.ts [iterations]
import os from 'node:os';
import * as adapters from '../provider-adapters/index.ts';
import { prepareAttempt, type AttemptDeps } from '../extproc/pipeline/attempt.ts';
import { prepareFallbacks } from '../extproc/pipeline/prepared-fallbacks.ts';
import type { RequestContext } from '../extproc/pipeline/request-context.ts';
import { providersSchema } from '../extproc/config/providers-schema.ts';
import { KeyPool } from '../extproc/routing/key-pool.ts';
import { loadEnvoyProtos } from '../extproc/server/protos.ts';
import { setHeaders } from '../extproc/server/messages.ts';
import { chatBody } from './lib/chat-body.ts';

const ITERATIONS = Number(process.argv[2] ?? 20_000);
const providers = providersSchema.parse({
  pri: { type: 'openai', baseUrl: 'https://pri.example/v1', keys: [{ id: 'k1', secret: { env: 'K' } }, { id: 'k2', secret: { env: 'K' } }] },
  fba: { type: 'anthropic', baseUrl: 'https://fba.example', keys: [{ id: 'k1', secret: { env: 'K' } }] },
  fbo: { type: 'openai', baseUrl: 'https://fbo.example/v1', keys: [{ id: 'k1', secret: { env: 'K' } }] },
});
const pools = new KeyPool(Object.fromEntries(Object.entries(providers).map(([n, p]) => [n, p.keys.map((k) => ({ id: k.id }))])), { random: Math.random });
const deps: AttemptDeps = { providers: () => providers, keyPools: () => pools, credentials: { apiKey: (p, k) => `sk-${p}-${k}-0123456789abcdef`, aws: () => ({ accessKeyId: '', secretAccessKey: '' }) } };
const body = new TextEncoder().encode(chatBody({ model: 'bench', targetBytes: 4096 }));
const parsed = adapters.parseIngress('openai-chat', body);
if (!parsed.ok) throw new Error('chat body does not parse');
const ProcessingResponse = loadEnvoyProtos().lookupType('envoy.service.ext_proc.v3.ProcessingResponse');

function context(): RequestContext {
  return {
    requestId: 'bench', startedAt: 0, dialect: 'openai-chat', stream: false, clientWantsUsage: false,
    request: parsed.ok ? parsed.request : undefined, raw: parsed.ok ? parsed.raw : undefined, requestedModel: 'bench', promptTokens: 0,
    principal: { keyId: 'vk' }, rule: 'bench',
    chain: [{ provider: 'pri', model: 'gpt-4o-mini' }, { provider: 'fba', model: 'claude-sonnet-4-5' }, { provider: 'fbo', model: 'gpt-4o' }],
    attempts: [], headersSetUpstream: [], droppedParams: [], findings: [], governanceHeaders: {}, reserved: true, settled: false,
  };
}

async function once(steps: number): Promise<number> {
  const ctx = context();
  const t0 = performance.now();
  const first = await prepareAttempt(deps, ctx, 'pri/gpt-4o-mini', 0, []);
  if (!first.ok) throw new Error('attempt 1');
  const fb = await prepareFallbacks(deps, ctx, { provider: 'pri', keyId: first.keyId, set: first.set }, 0, { steps, maxBodyBytes: 1 << 20, signedRequests: true });
  const answer = {
    request_body: { response: { header_mutation: { set_headers: setHeaders(first.set), remove_headers: first.remove }, body_mutation: { body: first.body }, clear_route_cache: true } },
    ...(fb.metadata ? { dynamic_metadata: fb.metadata } : {}),
  };
  ProcessingResponse.encode(answer as never).finish(); // as the gRPC server does
  return performance.now() - t0;
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
console.log(`prepared fallbacks: ${os.cpus()[0]?.model ?? '?'}, ${os.cpus().length} cores, node ${process.version}, ${body.length} B chat body, ${ITERATIONS} iterations per row (interleaved), ${new Date().toISOString()}`);
const rows: Record<number, number[]> = { 0: [], 1: [], 2: [] };
for (let i = 0; i < 3000; i++) for (const s of [0, 1, 2]) await once(s);
for (let i = 0; i < ITERATIONS; i++) for (const s of [0, 1, 2]) rows[s]!.push(await once(s));
console.log('| steps prepared | attempt 1 + prepared steps + encode, µs p50 | p90 | p99 | extra over 0 steps, p50 |');
console.log('|---:|---:|---:|---:|---:|');
const base = pct(rows[0]!.sort((a, b) => a - b), 50);
for (const s of [0, 1, 2]) {
  const xs = rows[s]!.sort((a, b) => a - b);
  const us = (x: number) => (x * 1000).toFixed(1);
  console.log(`| ${s} | ${us(pct(xs, 50))} | ${us(pct(xs, 90))} | ${us(pct(xs, 99))} | ${us(pct(xs, 50) - base)} |`);
}
