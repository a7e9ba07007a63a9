// What a fallback costs: the same request answered by the primary directly, and answered by the
// fallback after the primary failed (500 after D ms). Target: the failed attempt's own time plus
// at most 1 ms. Closed loop, one request at a time, interleaved, so both see the same machine.
//   node bench/fallback.ts [--requests N] [--delay-ms D]
import { createOpenAISimulator } from '../test/simulators/openai.ts';
import { newVirtualKey, startTestGateway } from '../test/helpers/gateway.ts';

const args = process.argv.slice(2);
const arg = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const N = arg('--requests', 400);
const D = arg('--delay-ms', 20);

const failing = await createOpenAISimulator().start();
const healthy = await createOpenAISimulator().start();
failing.defaultBehaviour = { status: 500, delayMs: D };
healthy.defaultBehaviour = { delayMs: D };
const vk = newVirtualKey();
const gw = await startTestGateway(
  `
providers:
  alpha: { type: openai, baseUrl: ${failing.url}, keys: [{ id: a, secret: { env: KEY_A } }] }
  beta: { type: openai, baseUrl: ${healthy.url}, keys: [{ id: b, secret: { env: KEY_B } }] }
models:
  direct: { targets: [{ provider: beta, model: m }] }
  fallback: { targets: [{ provider: alpha, model: m }], fallbacks: [{ provider: beta, model: m }] }
virtualKeys:
  - { id: bench, name: bench, hash: ${vk.hash} }
pricing: { unknownPricePolicy: allow-at-zero }
audit: { sink: none }
`,
  { env: { KEY_A: 'sk-a', KEY_B: 'sk-b' } },
);

const body = JSON.stringify({ model: '', messages: [{ role: 'user', content: 'Say hello in five words.' }] });
async function once(model: string): Promise<number> {
  const t = performance.now();
  const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${vk.key}`, 'content-type': 'application/json' }, body: body.replace('"model":""', `"model":"${model}"`) });
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`${model}: HTTP ${r.status}`);
  return performance.now() - t;
}

for (let i = 0; i < 50; i++) {
  await once('direct');
  await once('fallback');
}
const direct: number[] = [];
const fallback: number[] = [];
for (let i = 0; i < N; i++) {
  direct.push(await once('direct'));
  fallback.push(await once('fallback'));
}
const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(f * xs.length))]!;
const row = (name: string, xs: number[]) => `| ${name} | ${q(xs, 0.5).toFixed(2)} | ${q(xs, 0.9).toFixed(2)} | ${q(xs, 0.99).toFixed(2)} |`;
console.log(`fallback cost, ${N} requests each, interleaved, provider latency ${D} ms, failing primary answers 500 after ${D} ms`);
console.log('| path | p50 ms | p90 ms | p99 ms |\n|---|---:|---:|---:|');
console.log(row('primary answers', direct));
console.log(row('primary fails, fallback answers', fallback));
const extra50 = q(fallback, 0.5) - q(direct, 0.5) - D;
console.log(`\nadded by the fallback beyond the failed attempt's own ${D} ms: p50 ${extra50.toFixed(2)} ms (target <= 1 ms)`);
console.log(`failing primary saw ${failing.requests.length} requests, healthy fallback ${healthy.requests.length}`);
await gw.stop();
await failing.stop();
await healthy.stop();
process.exit(0);
