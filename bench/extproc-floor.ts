// What the ext_proc protocol itself costs, before any Switchboard logic: Envoy alone (a) against
// Envoy + Switchboard's own gRPC server (extproc/server) with a handler that answers every phase
// with an empty CommonResponse (n), in the same processing modes as the router-level filter
// (request headers, buffered request body, response headers, buffered response body), and the
// whole gateway (b: npm start's defaults, one worker). Requests go one at a time, so the figures
// are per request with nothing queued: n - a is the protocol's floor, b - n Switchboard's logic.
//
// Run: node bench/extproc-floor.ts   (env N=600 requests per round, ROUNDS=2)
// Prints p50/p90/p99 latency, and CPU per request of Envoy and of the ext_proc process.
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startEnvoy, waitEnvoyReady } from '../envoy/launcher.ts';
import { envoyAloneBootstrap, staticCluster } from './lib/envoy-alone.ts';
import type { ProcessingRequest, ProcessingResponse } from '../extproc/server/messages.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === '--noop-server') {
  // Child: the project's gRPC server, a handler that changes nothing.
  const { createGrpcServer } = await import('../extproc/server/grpc-server.ts');
  const answer = (m: ProcessingRequest): ProcessingResponse =>
    m.request_headers ? { request_headers: { response: {} } } : m.request_body ? { request_body: { response: {} } } : m.response_headers ? { response_headers: { response: {} } } : { response_body: { response: {} } };
  const server = createGrpcServer({ createStreamHandler: () => ({ handle: answer, close: () => undefined }), onError: () => undefined });
  const [bound] = await server.listen(['127.0.0.1:0']);
  process.send?.({ port: Number(bound!.split(':').pop()) });
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

async function main(): Promise<void> {
  const N = Number(process.env.N ?? 600);
  const ROUNDS = Number(process.env.ROUNDS ?? 2);
  const ready = (child: ReturnType<typeof fork>) => new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`child exited during start-up (${code})`)));
  });
  const sim = fork(path.join(here, 'sim-provider.ts'), ['--latency-ms', '0'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const xp = fork(fileURLToPath(import.meta.url), ['--noop-server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sb-floor-'));
  const stops: (() => void)[] = [() => sim.kill(), () => xp.kill(), () => rmSync(tmp, { recursive: true, force: true })];
  try {
    const [simPort, xpPort] = await Promise.all([ready(sim), ready(xp)]);
    // Envoy's defaults (requests go one at a time); both Envoys have the xp cluster, only n uses it.
    const extProcFilter = {
      name: 'envoy.filters.http.ext_proc',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
        grpc_service: { envoy_grpc: { cluster_name: 'xp' }, timeout: '5s' },
        failure_mode_allow: false,
        message_timeout: '5s',
        processing_mode: { request_header_mode: 'SEND', request_body_mode: 'BUFFERED', response_header_mode: 'SEND', response_body_mode: 'BUFFERED', request_trailer_mode: 'SKIP', response_trailer_mode: 'SKIP' },
      },
    };
    const bootstrap = (port: number, admin: number, extProc: boolean) =>
      envoyAloneBootstrap({ listenPort: port, adminPort: admin, simPort, gatewaySettings: false, httpFilters: extProc ? [extProcFilter] : [], clusters: [staticCluster('xp', xpPort, { http2: true })] });
    const alone = startEnvoy({ bootstrap: bootstrap(28410, 28411, false), stateDir: path.join(tmp, 'a'), adminPort: 28411, concurrency: 2, logLevel: 'error', stdio: 'ignore' });
    stops.unshift(() => alone.stop());
    const withXp = startEnvoy({ bootstrap: bootstrap(28420, 28421, true), stateDir: path.join(tmp, 'n'), adminPort: 28421, concurrency: 2, logLevel: 'error', stdio: 'ignore' });
    stops.unshift(() => withXp.stop());
    await Promise.all([waitEnvoyReady(alone), waitEnvoyReady(withXp)]);

    // b: the whole gateway, defaults (guardrails, audit file, in-memory state), one worker.
    const { startGateway } = await import('../extproc/runtime/supervisor.ts');
    const { hashVirtualKey, generateVirtualKey } = await import('../extproc/auth/virtual-key.ts');
    const secret = 'bench-'.padEnd(48, 'x');
    const vk = generateVirtualKey();
    const configFile = path.join(tmp, 'gateway.yaml');
    writeFileSync(configFile, `server:
  listener: { host: 127.0.0.1, port: 28430 }
  admin: { host: 127.0.0.1, port: 28432 }
  envoyAdmin: { host: 127.0.0.1, port: 28431 }
  stateDir: ${path.join(tmp, 'state')}
providers:
  sim: { type: openai, baseUrl: http://127.0.0.1:${simPort}/v1, keys: [{ id: k1, secret: { env: BENCH_SIM_KEY } }] }
models:
  gpt-4o-mini: { targets: [{ provider: sim, model: gpt-4o-mini }] }
virtualKeys:
  - { id: vk-bench, name: bench, hash: ${hashVirtualKey(vk, Buffer.from(secret))} }
pricing: { unknownPricePolicy: allow-at-zero }
`);
    const gw = await startGateway({ configFile, env: { ...process.env, SWITCHBOARD_KEY_HASH_SECRET: secret, BENCH_SIM_KEY: 'sk-sim-bench' }, quiet: true, envoyLogLevel: 'error' });
    stops.unshift(() => void gw.stop());
    const workerPid = gw.workers[0]!.pid as number;

    const cpuMs = (pid: number) => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
    };
    let user = '';
    while (user.length < 3800) user += 'Summarise the following incident report for the on-call channel. ';
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: user }] });
    const measure = async (label: string, url: string, envoyPid?: number, nodePid = xp.pid!) => {
      const t: number[] = [];
      const x0 = cpuMs(nodePid);
      const e0 = envoyPid ? cpuMs(envoyPid) : 0;
      for (let i = 0; i < N + 50; i++) {
        const t0 = performance.now();
        const r = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${vk}` }, body });
        await r.body.text();
        if (r.statusCode !== 200) throw new Error(`${label}: status ${r.statusCode}`);
        if (i >= 50) t.push(performance.now() - t0); // the first 50 warm up
      }
      t.sort((a, b) => a - b);
      const q = (p: number) => t[Math.floor(p * t.length)]!;
      return { label, p50: q(0.5), p90: q(0.9), p99: q(0.99), envoyCpuMs: envoyPid ? (cpuMs(envoyPid) - e0) / (N + 50) : 0, extProcCpuMs: (cpuMs(nodePid) - x0) / (N + 50) };
    };
    console.log(`extproc floor: ${N} sequential ~4 KB chat requests per system and round; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    for (let round = 1; round <= ROUNDS; round++) {
      const rows = [
        await measure('simulator direct', `http://127.0.0.1:${simPort}/v1/chat/completions`),
        await measure('a Envoy alone', 'http://127.0.0.1:28410/v1/chat/completions', alone.child.pid),
        await measure('n Envoy + no-op ext_proc', 'http://127.0.0.1:28420/v1/chat/completions', withXp.child.pid),
        await measure('b Envoy + Switchboard', `${gw.url}/v1/chat/completions`, gw.envoy.child.pid, workerPid),
      ];
      for (const r of rows) {
        console.log(`round ${round}  ${r.label.padEnd(26)} p50 ${r.p50.toFixed(2)}  p90 ${r.p90.toFixed(2)}  p99 ${r.p99.toFixed(2)} ms   Envoy CPU ${r.envoyCpuMs.toFixed(2)} ms/req   ext_proc process (b: worker) CPU ${r.extProcCpuMs.toFixed(2)} ms/req`);
      }
      const [, a, n, b] = rows as [unknown, (typeof rows)[number], (typeof rows)[number], (typeof rows)[number]];
      console.log(`round ${round}  protocol floor (n - a): p50 +${(n.p50 - a.p50).toFixed(2)} ms, p99 +${(n.p99 - a.p99).toFixed(2)} ms, Node CPU ${n.extProcCpuMs.toFixed(2)} ms/req`);
      console.log(`round ${round}  Switchboard's logic (b - n): p50 +${(b.p50 - n.p50).toFixed(2)} ms, p99 +${(b.p99 - n.p99).toFixed(2)} ms, Node CPU +${(b.extProcCpuMs - n.extProcCpuMs).toFixed(2)} ms/req`);
    }
  } finally {
    for (const stop of stops) {
      try {
        stop();
      } catch {
        // already gone
      }
    }
  }
}
