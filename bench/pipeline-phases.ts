// CPU cost of Switchboard's own work per request, phase by phase, with no Envoy and no network:
// a fake Envoy drives the router-level and upstream filters with the messages Envoy would send
// (a fake Envoy client is fine for unit-costing phases; the end-to-end figures are bench/run.ts).
//   node bench/pipeline-phases.ts [--guardrails off] [--iterations N]
// Add --cpu-prof to node's flags to profile it.
import { pino } from 'pino';
import { parseConfig } from '../extproc/config/load.ts';
import { Runtime } from '../extproc/runtime/runtime.ts';
import { createMetrics } from '../extproc/telemetry/metrics.ts';
import { createGuardrails } from '../extproc/guardrails/index.ts';
import { generateVirtualKey, hashVirtualKey } from '../extproc/auth/virtual-key.ts';
import type { ProcessingRequest } from '../extproc/server/messages.ts';
import { chainKey } from '../envoy/bootstrap.ts';

const args = process.argv.slice(2);
// --guardrails off | secrets (secrets redacted, nothing else) | default (the shipped default policy)
const guardrailsMode = args.includes('--guardrails') ? args[args.indexOf('--guardrails') + 1] : 'default';
const guardrailsYaml: Record<string, string> = {
  off: 'guardrails: { policies: { default: { actions: { "*": off }, scanOutput: false } } }',
  secrets: 'guardrails: { policies: { default: { actions: { secret: redact } } } }',
  default: '',
};
const iterations = Number(args.includes('--iterations') ? args[args.indexOf('--iterations') + 1] : 3000);
const secret = 'bench-secret-0123456789abcdef0123456789';
const vk = generateVirtualKey();
const config = parseConfig(`
providers:
  openai: { type: openai, baseUrl: http://127.0.0.1:9, keys: [{ id: k, secret: { env: BENCH_KEY } }] }
models:
  gpt-4o-mini: { targets: [{ provider: openai, model: gpt-4o-mini }] }
virtualKeys:
  - { id: bench, name: bench, hash: ${hashVirtualKey(vk, Buffer.from(secret))} }
${guardrailsYaml[guardrailsMode ?? 'default'] ?? ''}
audit: { sink: none }
`);
const metrics = createMetrics();
const runtime = await Runtime.create(config, {
  workerIndex: 0,
  log: pino({ level: 'silent' }),
  metrics,
  clock: { now: () => Date.now() },
  env: { SWITCHBOARD_KEY_HASH_SECRET: secret, BENCH_KEY: 'sk-bench' },
  guardrailsFor: (cfg) => createGuardrails(cfg.guardrails, { metrics: metrics.registry }),
  audit: { append: async () => undefined, room: () => undefined },
});
await runtime.warmUp();

const enc = new TextEncoder();
const hv = (key: string, value: string) => ({ key, raw_value: Buffer.from(value) });
// ~4 KB chat completion, as in bench/run.ts.
const prompt = 'Summarise the following quarterly report for the board, in five bullet points. '.repeat(50);
const reqBody = enc.encode(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are concise.' }, { role: 'user', content: prompt }], max_tokens: 200 }));
const respBody = enc.encode(JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'Revenue grew 12% on subscriptions. '.repeat(8) }, finish_reason: 'stop' }], usage: { prompt_tokens: 900, completion_tokens: 80, total_tokens: 980 } }));
const chainId = (runtime as unknown as { snapshot: { chainIds: Set<string> } }).snapshot.chainIds.values().next().value as string;

const phases = ['request_headers', 'request_body', 'upstream_headers', 'response_headers', 'response_body', 'after_response'] as const;
const totals: Record<string, number> = Object.fromEntries(phases.map((p) => [p, 0]));
const samples: number[] = [];

async function one(i: number): Promise<void> {
  const requestId = `req-${i}`;
  const router = runtime.createStreamHandler('router');
  const upstream = runtime.createStreamHandler('upstream');
  const msgs: [Exclude<typeof phases[number], 'after_response'>, ProcessingRequest, 'router' | 'upstream'][] = [
    ['request_headers', { request_headers: { headers: { headers: [hv(':method', 'POST'), hv(':path', '/v1/chat/completions'), hv('authorization', `Bearer ${vk}`), hv('content-type', 'application/json'), hv('x-request-id', requestId)] }, end_of_stream: false } }, 'router'],
    ['request_body', { request_body: { body: reqBody, end_of_stream: true } }, 'router'],
    ['upstream_headers', { request_headers: { headers: { headers: [hv(':method', 'POST'), hv(':path', '/v1/chat/completions'), hv('x-request-id', requestId), hv('x-sb-chain', chainKey(chainId, 0))] } }, attributes: { 'envoy.filters.http.ext_proc': { fields: { 'xds.upstream_host_metadata': { stringValue: 'filter_metadata { key: "switchboard" value { fields { key: "target" value { string_value: "openai/gpt-4o-mini" } } } }' } } } } }, 'upstream'],
    ['response_headers', { response_headers: { headers: { headers: [hv(':status', '200'), hv('content-type', 'application/json'), hv('x-sb-upstream-target', 'openai/gpt-4o-mini')] } } }, 'router'],
    ['response_body', { response_body: { body: respBody, end_of_stream: true } }, 'router'],
  ];
  let total = 0;
  for (const [phase, msg, role] of msgs) {
    const t = performance.now();
    const res = await (role === 'router' ? router : upstream).handle(msg);
    const dt = performance.now() - t;
    if (!res || 'immediate_response' in res) throw new Error(`phase ${phase} answered ${JSON.stringify(res).slice(0, 300)}`);
    totals[phase]! += dt;
    total += dt;
  }
  router.close(false);
  // Settling and the audit record run after the answer has left; their CPU counts all the same.
  const t = performance.now();
  await runtime.afterResponse.idle();
  const dt = performance.now() - t;
  totals.after_response! += dt;
  samples.push(total + dt);
}

for (let i = 0; i < 300; i++) await one(-i - 1); // warm-up
samples.length = 0;
for (const p of phases) totals[p] = 0;
for (let i = 0; i < iterations; i++) await one(i);
samples.sort((a, b) => a - b);
const q = (f: number) => samples[Math.min(samples.length - 1, Math.floor(f * samples.length))]!;
console.log(`pipeline CPU per request, ${iterations} requests, guardrails ${guardrailsMode}, ~4 KB prompt`);
for (const p of phases) console.log(`  ${p.padEnd(17)} ${((totals[p]! / iterations) * 1000).toFixed(1).padStart(7)} µs`);
console.log(`  total p50 ${(q(0.5) * 1000).toFixed(0)} µs, p99 ${(q(0.99) * 1000).toFixed(0)} µs`);
await runtime.close();
process.exit(0);
