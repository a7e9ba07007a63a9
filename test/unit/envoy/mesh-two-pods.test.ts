// The mesh layout for real, on loopback: two "pods" (worker-main as worker 0, each on its own TCP
// port and state directory), a platform Envoy with the snippet merged in whose ext_proc cluster
// lists both (what STRICT_DNS gets from a headless Service), and a simulated provider. Requests go
// through Switchboard only on its entry routes; the upstream filter's stream lands on either pod,
// and when it is not the pod that decided, the context-miss path (mode_override, rebuild from the
// body) still delivers a correct, translated, credentialed request. A handful of requests, no load.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEnvoy, waitEnvoyReady, type EnvoyProcess } from '../../../envoy/launcher.ts';
import { buildSnippet, ROUTER_FILTER } from '../../../envoy/mesh/snippet.ts';
import { loadConfigFile } from '../../../extproc/config/load.ts';
import { createOpenAISimulator, type SimulatedServer } from '../../simulators/index.ts';
import { DEFAULT_ANSWER } from '../../simulators/openai.ts';
import { newVirtualKey, TEST_KEY_HASH_SECRET } from '../../helpers/gateway.ts';
import { freePort } from '../../helpers/ports.ts';
import { clustersOf, hcmOf, platformEnvoy, vhostOf, type Json } from './fixture.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PROVIDER_KEY = 'sk-sim-provider-key';

interface Pod {
  child: ChildProcess;
  grpc: number;
  admin: string;
}

function startPod(configFile: string, grpc: number): Promise<Pod> {
  const child = spawn(process.execPath, [path.join(repo, 'extproc/runtime/worker-main.ts'), '--config', configFile, '--worker', '0', '--tcp', `127.0.0.1:${grpc}`], {
    env: { ...process.env, SWITCHBOARD_KEY_HASH_SECRET: TEST_KEY_HASH_SECRET, OPENAI_API_KEY: PROVIDER_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let listening = false;
    const timer = setTimeout(() => reject(new Error(`pod did not start:\n${out}`)), 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      listening ||= out.includes('ext_proc worker listening');
      const admin = /"address":"(127\.0\.0\.1:\d+)","msg":"admin API/.exec(out)?.[1];
      if (listening && admin) {
        clearTimeout(timer);
        resolve({ child, grpc, admin });
      }
    });
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pod exited (${code}):\n${out}`));
    });
  });
}

async function contextMisses(pod: Pod): Promise<number> {
  const text = await (await fetch(`http://${pod.admin}/metrics`)).text();
  const m = /switchboard_rejections_total\{code="context_miss"\} (\d+)/.exec(text);
  return Number(m?.[1] ?? 0);
}

async function waitHealthy(adminUrl: string, cluster: string, hosts: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${adminUrl}/clusters`)).text();
    const healthy = text.split('\n').filter((l) => l.startsWith(`${cluster}::`) && l.endsWith('health_flags::healthy')).length;
    if (healthy === hosts) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${cluster}: not every host healthy`);
}

describe('mesh layout: two Switchboard pods behind one platform Envoy', () => {
  let dir = '';
  let sim: SimulatedServer;
  let pods: Pod[] = [];
  let envoy: EnvoyProcess | undefined;
  let url = '';
  const vk = newVirtualKey();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sb-mesh-pods-'));
    sim = await createOpenAISimulator().start();
    const grpcPorts = [await freePort(), await freePort()];
    const configs = grpcPorts.map((_, i) => {
      const file = path.join(dir, `pod${i}.yaml`);
      mkdirSync(path.join(dir, `pod${i}`), { recursive: true });
      writeFileSync(
        file,
        `server:\n  admin: { host: 127.0.0.1, port: 0 }\n  stateDir: ${path.join(dir, `pod${i}`)}\n  drainTimeoutMs: 1000\n  upstreamAffinity: false\n` +
          `providers:\n  openai: { type: openai, baseUrl: '${sim.url}/v1', keys: [{ id: default, secret: { env: OPENAI_API_KEY } }] }\n` +
          `models:\n  gpt-4o-mini:\n    targets: [{ provider: openai, model: gpt-4o-mini }]\n` +
          `virtualKeys:\n  - { id: vk-mesh, name: mesh test, hash: '${vk.hash}' }\n` +
          `state: { type: memory }\naudit: { sink: none }\n`,
      );
      return file;
    });
    pods = await Promise.all(configs.map((f, i) => startPod(f, grpcPorts[i] as number)));

    const snippet = buildSnippet(loadConfigFile(configs[0] as string), { extprocAddress: `127.0.0.1:${grpcPorts[0]}` });
    // What STRICT_DNS resolves a headless Service to: every pod.
    const extproc = snippet.clusters[0] as Json;
    extproc.load_assignment = {
      cluster_name: extproc.name,
      endpoints: [{ lb_endpoints: grpcPorts.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }],
    };
    const config = platformEnvoy();
    const [listen, adminPort] = [await freePort(), await freePort()];
    ((config.static_resources as Json).listeners as Json[])[0]!.address = { socket_address: { address: '127.0.0.1', port_value: listen } };
    config.admin = { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } };
    const hcm = hcmOf(config);
    const filters = hcm.http_filters as Json[];
    filters.splice(filters.findIndex((f) => f.name === ROUTER_FILTER), 0, snippet.httpFilter);
    const vhost = vhostOf(config);
    Object.assign(vhost, snippet.virtualHost);
    // The platform's own catch-all answers by itself here (no app to run).
    vhost.routes = [...snippet.routes, { name: 'app', match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'platform app' } } }];
    clustersOf(config).splice(0, 1, ...snippet.clusters);
    envoy = startEnvoy({ bootstrap: config, stateDir: path.join(dir, 'envoy'), adminPort, stdio: 'ignore' });
    await waitEnvoyReady(envoy);
    await waitHealthy(envoy.adminUrl, snippet.names.extprocCluster, 2);
    url = `http://127.0.0.1:${listen}`;
  }, 90_000);

  afterAll(async () => {
    await envoy?.stop();
    for (const p of pods) p.child.kill('SIGTERM');
    await Promise.all(pods.map((p) => (p.child.exitCode === null ? new Promise((r) => p.child.once('exit', r)) : undefined)));
    await sim?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('traffic outside the entry routes never reaches Switchboard', async () => {
    const res = await fetch(`${url}/dashboard`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('platform app');
    expect(res.headers.get('x-sb-request-id')).toBeNull();
  });

  test('an entry route without a virtual key is rejected by Switchboard', async () => {
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o-mini","messages":[]}' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });

  test('requests succeed whichever pod the upstream filter lands on (context misses included)', async () => {
    const before = (await Promise.all(pods.map(contextMisses))).reduce((a, b) => a + b, 0);
    sim.requests.length = 0;
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${vk.key}` },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hello ${i}` }] }),
      });
      const body = (await res.json()) as { choices?: { message: { content: string } }[] };
      expect(res.status).toBe(200);
      expect(body.choices?.[0]?.message.content).toBe(DEFAULT_ANSWER);
    }
    expect(sim.requests).toHaveLength(6);
    for (const [i, r] of sim.requests.entries()) {
      expect(r.path).toBe('/v1/chat/completions');
      expect(r.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
      expect(r.headers['x-sb-chain']).toBeUndefined();
      expect((r.json as { messages: { content: string }[] }).messages[0]?.content).toBe(`hello ${i}`);
    }
    const after = (await Promise.all(pods.map(contextMisses))).reduce((a, b) => a + b, 0);
    // Round robin over two pods: the two streams of a request rarely share a pod.
    expect(after - before).toBeGreaterThan(0);
  });

  test('a stream comes back translated through the same layout', async () => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${vk.key}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream please' }] }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const content = text
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => (JSON.parse(l.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content ?? '')
      .join('');
    expect(content).toBe(DEFAULT_ANSWER);
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
  });
});
