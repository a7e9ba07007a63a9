// The overhead benchmark: Envoy alone vs Envoy + Switchboard against the same simulated
// provider, open-loop, in one run. `npm run bench` (= node bench/run.ts).
//
//   a  Envoy alone -> simulator (plain bootstrap, one route, same concurrency as the gateway's)
//   b  Envoy + Switchboard (startGateway on a bench gateway.yaml) -> simulator
//   c  ~4 KB non-streamed chat completion: a's ceiling, then a and b at 25/50/75% of it,
//      then the highest rate b sustains within the same p99 target
//   d  streaming: time to first byte, a vs b
//   e  CPU seconds per 1,000 requests per process group, peak RSS
//   peers  the LiteLLM proxy (p-litellm) and the Portkey gateway (p-portkey), installed by
//      bench/peers/install.ts into bench/.peers/ (git-ignored), each started alone after a and b
//      are done, in front of the same simulator: the same request body, load generator, rates
//      (50 rps baseline, b's ladder within the same p99 target, the 25/50/75% fixed rates)
//
// Processes: this orchestrator, the simulator, and one load generator per scenario are separate
// Node processes; the orchestrator samples /proc for each of them, Envoy and the workers when the
// generator marks the start and end of its measured window. Results: bench/out/*.json and a
// markdown summary on stdout (paste into bench/RESULTS.md).
//
// Options (env): BENCH_WORKERS (2; more than 1 starts a redis-server for shared state), BENCH_STEP_SEC (6), BENCH_FIXED_SEC (12), BENCH_STREAM_RATE (40),
// BENCH_RATES (comma list for the ceiling search), BENCH_LATENCY_MS (20), BENCH_NO_OUTPUT_SCAN=1 (default
// guardrail policy without the streaming output scanner, to isolate its cost).
// Peers: `--no-peers` skips them; `--peers-only` runs a's low-rate baseline (for the p99 target)
// and then only the peers (ladder up to the largest BENCH_RATES, no fixed rates), results in
// bench/out/peers-latest.json and summary-peers.md. BENCH_PEERS (litellm,portkey) picks peers,
// BENCH_LITELLM_WORKERS (nproc) sets LiteLLM's worker count, BENCH_PEER_FIXED=0 skips the peers'
// runs at the fixed rates (where they have collapsed long before).
// The plot: a full run writes bench/latency-vs-rate.svg (+ .png) from bench/out/latest.json;
// `node bench/plot.ts [bench/out/latest.json] [--out file.svg]` regenerates it.
// `node bench/run.ts --profile`: only b at one rate with the workers under --cpu-prof, then the
// top self-time functions (`--summarise-profiles` re-reads bench/out/prof).
import { fork, execSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findEnvoy, startEnvoy, waitEnvoyReady, type EnvoyProcess } from '../envoy/launcher.ts';
import type { LoadOptions, LoadResult } from './loadgen.ts';
import { cpuSeconds, machineCpu, peakRssMiB, resetPeakRss } from './procstat.ts';
import { verifyForwarding, type PeerGateway } from './peers/common.ts';
import { chatBody } from './lib/chat-body.ts';
import { envoyAloneBootstrap } from './lib/envoy-alone.ts';
import { simGatewayYaml } from './lib/gateway-yaml.ts';
import { processTree } from './lib/processes.ts';
import { gitChanged, sh } from './lib/shell.ts';
import { ANSWER as SIM_ANSWER } from './sim-provider.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const outDir = path.join(benchDir, 'out');
const env = process.env;
const num = (name: string, d: number) => (env[name] ? Number(env[name]) : d);

// In-memory state (budgets, limits) lives in one process: more workers need state: redis.
// Both cores by default: two workers, which need shared state (a redis-server the bench starts).
const WORKERS = num('BENCH_WORKERS', 2);
const STEP_SEC = num('BENCH_STEP_SEC', 6);
const FIXED_SEC = num('BENCH_FIXED_SEC', 12);
// Low enough that b is not saturated: this measures the added hop, not queueing.
const STREAM_RATE = num('BENCH_STREAM_RATE', 40);
const LATENCY_MS = num('BENCH_LATENCY_MS', 20);
const RATES = (env.BENCH_RATES ?? '250,500,750,1000,1500,2000,2500,3000,4000').split(',').map(Number);
const LOW_RATE = 50;
const P99_FACTOR = 5;
const PROFILE = process.argv.includes('--profile');
const PEERS_ONLY = process.argv.includes('--peers-only');
const NO_PEERS = process.argv.includes('--no-peers');
const PEERS = (env.BENCH_PEERS ?? 'litellm,portkey').split(',').map((s) => s.trim()).filter(Boolean);

const PORTS = { envoyAlone: 28100, envoyAloneAdmin: 28101, gateway: 28110, gatewayEnvoyAdmin: 28111, gatewayAdmin: 28112 };
const MODEL = 'gpt-4o-mini';

// ---- request bodies ---------------------------------------------------------------------------
const JSON_BODY = chatBody({ model: MODEL, targetBytes: 4096 });
const STREAM_BODY = chatBody({ model: MODEL, targetBytes: 4096, stream: true });

// ---- processes ------------------------------------------------------------------------------
interface Proc {
  /** `peer` processes are labelled `<system>#<pid>` and summed per system. */
  group: 'envoy' | 'switchboard' | 'simulator' | 'loadgen' | 'peer';
  label: string;
  pid: number;
}

function forkReady(file: string, args: string[], childEnv: NodeJS.ProcessEnv = env): Promise<{ child: ChildProcess; msg: Record<string, unknown> }> {
  const child = fork(file, args, { env: childEnv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${path.basename(file)} exited during start-up (${code})`)));
    child.once('message', (msg: Record<string, unknown>) => resolve({ child, msg }));
  });
}

function gatewayYaml(stateDir: string, simUrl: string, keyHash: string, redisUrl?: string): string {
  const extra = `${redisUrl ? `state: { type: redis, url: ${redisUrl} }\n` : ''}${env.BENCH_NO_OUTPUT_SCAN ? 'guardrails: { policies: { default: { actions: { secret: redact, injection: monitor }, scanOutput: false } } }\n' : ''}`;
  return simGatewayYaml({ ports: PORTS, workers: WORKERS, stateDir, simUrl, model: MODEL, keyHash, extra });
}

// ---- one scenario ---------------------------------------------------------------------------
/** a, b, or a peer's system name (p-litellm, p-portkey). */
type System = string;

interface ScenarioResult {
  scenario: string;
  system: System;
  load: LoadResult;
  cpuSec: Record<string, number>;
  cpuSecPer1k: Record<string, number>;
  peakRssMiB: Record<string, number>;
  /** CPU used on the machine by processes outside this benchmark during the window (cores). */
  foreignCores: number;
  windowSec: number;
}

const procs: Proc[] = [];
/** Stops whatever was started, also when a step fails half-way (Envoy would outlive us). */
const cleanups: (() => Promise<void> | void)[] = [];
async function cleanup() {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
}
const results: ScenarioResult[] = [];
/** The peer gateway running now (at most one at a time): its process tree is measured as ours. */
let activePeer: PeerGateway | undefined;

/** Our long-lived processes now, the active peer's whole process tree included (its workers may restart). */
function ourProcs(): Proc[] {
  if (!activePeer) return procs;
  const peer = activePeer;
  return [...procs, ...processTree(peer.rootPid).map((pid) => ({ group: 'peer' as const, label: `${peer.system}#${pid}`, pid }))];
}

/** Waits (up to 20 s) until our processes are idle: an overloaded run must not leak into the next. */
async function quiesce(): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline) {
    const ps = ourProcs();
    const c0 = ps.reduce((s, p) => s + cpuSeconds(p.pid), 0);
    await new Promise((r) => setTimeout(r, 500));
    const c1 = ps.reduce((s, p) => s + cpuSeconds(p.pid), 0);
    if (c1 - c0 < 0.05) return; // < 10% of a core over 0.5 s
  }
}

async function scenario(name: string, system: System, opts: Omit<LoadOptions, 'url'> & { url: string }): Promise<ScenarioResult> {
  await quiesce();
  const { child } = await forkReady(path.join(benchDir, 'loadgen.ts'), []);
  // Every process of ours is sampled (so "foreign" is really someone else's); the tables pick
  // the system under test's own Envoy and workers.
  const all: Proc[] = [...ourProcs().filter((p) => p.group !== 'loadgen'), { group: 'loadgen', label: 'loadgen', pid: child.pid as number }];
  let before: number[] = [];
  let after: number[] = [];
  let m0 = machineCpu();
  let m1 = m0;
  let t0 = 0;
  let t1 = 0;
  const result = await new Promise<LoadResult>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: load generator did not finish`)), ((opts.warmupSec ?? 0) + opts.durationSec) * 1000 + 30_000);
    child.on('message', (msg: { type: string; phase?: string; result?: LoadResult }) => {
      if (msg.type === 'measure' && msg.phase === 'start') {
        for (const p of all) resetPeakRss(p.pid);
        before = all.map((p) => cpuSeconds(p.pid));
        m0 = machineCpu();
        t0 = performance.now();
      } else if (msg.type === 'measure' && msg.phase === 'end') {
        after = all.map((p) => cpuSeconds(p.pid));
        m1 = machineCpu();
        t1 = performance.now();
      } else if (msg.type === 'result' && msg.result) {
        clearTimeout(timer);
        resolve(msg.result);
      }
    });
    child.once('exit', (code) => code && reject(new Error(`${name}: load generator exited ${code}`)));
    child.send(opts);
  });
  const cpuSec: Record<string, number> = {};
  const peak: Record<string, number> = {};
  all.forEach((p, i) => {
    cpuSec[p.label] = (after[i] ?? 0) - (before[i] ?? 0);
    peak[p.label] = peakRssMiB(p.pid);
  });
  for (const g of ['envoy', 'switchboard', 'simulator', 'loadgen'] as const) {
    const members = all.filter((p) => p.group === g);
    if (members.length > 1) {
      cpuSec[`${g} (all)`] = members.reduce((s, p) => s + (cpuSec[p.label] ?? 0), 0);
      peak[`${g} (all)`] = members.reduce((s, p) => s + (peak[p.label] ?? 0), 0);
    }
  }
  // A peer's whole process tree (LiteLLM: the Uvicorn supervisor and its workers): `<system> (all)`.
  const peerMembers = all.filter((p) => p.group === 'peer');
  if (peerMembers.length && activePeer) {
    cpuSec[`${activePeer.system} (all)`] = peerMembers.reduce((s, p) => s + (cpuSec[p.label] ?? 0), 0);
    peak[`${activePeer.system} (all)`] = peerMembers.reduce((s, p) => s + (peak[p.label] ?? 0), 0);
  }
  await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  const ours = Object.entries(cpuSec).filter(([k]) => !k.endsWith('(all)')).reduce((s, [, v]) => s + v, 0);
  const windowSec = (t1 - t0) / 1000;
  const r: ScenarioResult = {
    scenario: name,
    system,
    load: result,
    cpuSec: round(cpuSec, 3),
    cpuSecPer1k: round(Object.fromEntries(Object.entries(cpuSec).map(([k, v]) => [k, result.ok ? (v / result.ok) * 1000 : NaN])), 3),
    peakRssMiB: peak,
    foreignCores: Math.round(((m1.busy - m0.busy - ours) / Math.max(windowSec, 0.001)) * 100) / 100,
    windowSec: Math.round(windowSec * 100) / 100,
  };
  results.push(r);
  const l = result.latency;
  console.error(
    `  ${name.padEnd(28)} ${system.padEnd(9)} ${String(opts.rate).padStart(5)} rps  ok ${result.ok}/${result.sent} err ${result.errors} non2xx ${result.non2xx}  ` +
      `p50 ${fx(l.p50)} p90 ${fx(l.p90)} p99 ${fx(l.p99)} max ${fx(l.max)} ms  ttfb p50 ${fx(result.ttfb.p50)}  ` +
      `lag p99 ${fx(result.sendLag.p99)}  gen cpu ${result.generatorCpuShare}  foreign ${r.foreignCores} cores`,
  );
  return r;
}

/** Percentiles of an empty set arrive as null (NaN does not survive the IPC channel's JSON). */
const fx = (v: number | null) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(1) : '-');

function round(o: Record<string, number>, digits: number): Record<string, number> {
  const f = 10 ** digits;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * f) / f]));
}

const passes = (r: ScenarioResult, p99Target: number) => r.load.errors === 0 && r.load.non2xx === 0 && r.load.latency.p99 <= p99Target && r.load.achievedRate >= 0.95 * r.load.rate;

// ---- main -----------------------------------------------------------------------------------
async function main() {
  mkdirSync(outDir, { recursive: true });
  if (process.argv.includes('--summarise-profiles')) return summariseProfiles(path.join(outDir, 'prof'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-'));
  const machine = {
    date: new Date().toISOString(),
    nproc: sh('nproc'),
    cpuModel: /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '?',
    free: sh('free -h'),
    envoy: sh(`${findEnvoy()} --version`).replace(/^.*version:\s*/, ''),
    node: process.version,
    commit: sh(`git -C ${repoRoot} rev-parse --short HEAD`),
    // Others edit the same checkout: the files that differed from HEAD when this run started.
    uncommitted: gitChanged(repoRoot),
    loadavgAtStart: os.loadavg(),
    workers: WORKERS,
    simulatorLatencyMs: LATENCY_MS,
  };
  console.error(`bench: ${machine.cpuModel}, ${machine.nproc} cores, envoy ${machine.envoy}, node ${machine.node}, load avg ${machine.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}`);

  const { child: simChild, msg } = await forkReady(path.join(benchDir, 'sim-provider.ts'), ['--latency-ms', String(LATENCY_MS), '--chunks', '20', '--chunk-interval-ms', '5']);
  const simPort = Number(msg.port);
  const simUrl = `http://127.0.0.1:${simPort}`;
  procs.push({ group: 'simulator', label: 'simulator', pid: simChild.pid as number });
  cleanups.push(() => void simChild.kill('SIGTERM'), () => rmSync(tmp, { recursive: true, force: true }));

  // a: Envoy alone
  const envoyAlone: EnvoyProcess = startEnvoy({ bootstrap: envoyAloneBootstrap({ nodeId: 'bench-envoy-alone', listenPort: PORTS.envoyAlone, adminPort: PORTS.envoyAloneAdmin, simPort }), stateDir: path.join(tmp, 'envoy-alone'), adminPort: PORTS.envoyAloneAdmin, concurrency: 2, logLevel: 'error', stdio: 'ignore' });
  cleanups.push(() => envoyAlone.stop());
  await waitEnvoyReady(envoyAlone);

  // Peers are installed before anything is measured (pip and npm are CPU-heavy); a peer that
  // cannot be installed is reported and skipped, the rest of the bench still runs.
  const runPeersHere = !NO_PEERS && !PROFILE && !process.argv.includes('--stream-only');
  const peerInstallErrors = new Map<string, string>();
  if (runPeersHere) {
    const inst = await import('./peers/install.ts');
    for (const name of PEERS) {
      try {
        if (name === 'litellm') inst.installLiteLLM();
        else if (name === 'portkey') inst.installPortkey();
        else throw new Error(`unknown peer ${name} (BENCH_PEERS: litellm, portkey)`);
      } catch (err) {
        const e = err as Error & { stderr?: string };
        peerInstallErrors.set(name, `install failed: ${e.message}${e.stderr ? ` ${e.stderr.slice(-1500)}` : ''}`);
        console.error(`peers: ${name}: ${peerInstallErrors.get(name)}`);
      }
    }
  }

  const A = { url: `http://127.0.0.1:${PORTS.envoyAlone}`, path: '/v1/chat/completions' };
  procs.push({ group: 'envoy', label: 'envoy (a)', pid: envoyAlone.child.pid as number });
  const profDir = path.join(outDir, 'prof');
  let B = { url: '', path: '/v1/chat/completions' };
  let vk = '';
  let gw: { stop(): Promise<void> } | undefined;
  if (!PEERS_ONLY) {
    // b: Envoy + Switchboard. Imported lazily so a missing module (work in progress) names itself.
    const { startGateway } = await import('../extproc/runtime/supervisor.ts');
    const { hashVirtualKey, generateVirtualKey } = await import('../extproc/auth/virtual-key.ts');
    const secret = 'bench-'.padEnd(48, 'x');
    vk = generateVirtualKey();
    const configFile = path.join(tmp, 'gateway.yaml');
    // In-memory state is per process: more than one worker shares budgets and limits through Redis.
    let redisUrl: string | undefined;
    if (WORKERS > 1) {
      const { startRedis } = await import('../test/helpers/redis.ts');
      const redis = await startRedis();
      cleanups.push(() => void redis.stop());
      redisUrl = redis.url;
      const redisPid = Number(execSync(`pgrep -f "redis-server 127.0.0.1:${redis.port}" | head -1`).toString().trim());
      if (redisPid) procs.push({ group: 'switchboard', label: 'redis', pid: redisPid });
    }
    writeFileSync(configFile, gatewayYaml(path.join(tmp, 'state'), simUrl, hashVirtualKey(vk, Buffer.from(secret)), redisUrl));
    if (PROFILE) rmSync(profDir, { recursive: true, force: true });
    const gwEnv: NodeJS.ProcessEnv = {
      ...env,
      SWITCHBOARD_KEY_HASH_SECRET: secret,
      BENCH_SIM_KEY: 'sk-sim-bench',
      ...(PROFILE ? { NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profDir}`.trim() } : {}),
    };
    const started = await startGateway({ configFile, env: gwEnv, quiet: true, envoyLogLevel: 'error' });
    gw = started;
    cleanups.push(() => started.stop());
    procs.push({ group: 'envoy', label: 'envoy (b)', pid: started.envoy.child.pid as number });
    started.workers.forEach((w, i) => procs.push({ group: 'switchboard', label: `worker ${i}`, pid: w.pid as number }));
    B = { url: started.url, path: '/v1/chat/completions' };
  }

  const headers = { 'content-type': 'application/json', authorization: `Bearer ${vk}`, 'user-agent': 'switchboard-bench' };
  const run = (name: string, sys: 'a' | 'b', rate: number, durationSec: number, stream = false) =>
    scenario(name, sys, { ...(sys === 'a' ? A : B), headers, body: stream ? STREAM_BODY : JSON_BODY, rate, durationSec, warmupSec: Math.min(2, durationSec / 3), stream, timeoutMs: 10_000 });

  // Both paths answer before anything is measured.
  for (const [sys, t] of (PEERS_ONLY ? [['a', A]] : [['a', A], ['b', B]]) as ['a' | 'b', typeof A][]) {
    const r = await fetch(`${t.url}${t.path}`, { method: 'POST', headers, body: JSON_BODY });
    const text = await r.text();
    if (r.status !== 200) {
      throw new Error(`system ${sys} answered ${r.status}: ${text.slice(0, 400)}`);
    }
  }

  try {
    if (process.argv.includes('--stream-only')) {
      await run('warm-up', 'a', 40, 3, true);
      await run('warm-up', 'b', 40, 3, true);
      const streamA = await run('stream TTFB', 'a', STREAM_RATE, 10, true);
      const streamB = await run('stream TTFB', 'b', STREAM_RATE, 10, true);
      const md = streamTable({ machine, streamA, streamB });
      writeFileSync(path.join(outDir, 'stream.json'), JSON.stringify({ machine, streamA, streamB }, null, 1));
      console.log(md);
      return;
    }
    if (PROFILE) {
      const rate = num('BENCH_PROFILE_RATE', 300);
      await run('profile (workers --cpu-prof)', 'b', rate, 15);
      await run('profile stream', 'b', STREAM_RATE, 8, true);
      await gw?.stop();
      summariseProfiles(profDir);
      return;
    }
    // Other load on the machine only ever adds latency, so a failed step gets one more try.
    const stepFor = (p99Target: number, runAt: (name: string, rate: number, durationSec: number) => Promise<ScenarioResult>) => async (rate: number) => {
      const r = await runAt('ceiling search', rate, STEP_SEC);
      return passes(r, p99Target) || passes(await runAt('ceiling search (retry)', rate, STEP_SEC), p99Target);
    };

    if (PEERS_ONLY) {
      console.error('--peers-only: a\'s warm-up and low-rate baseline (the p99 target), then the peers');
      await run('warm-up', 'a', 100, 3);
      const baseA = await run('baseline (low rate)', 'a', LOW_RATE, 8);
      const p99Target = P99_FACTOR * baseA.load.latency.p99;
      const peers = await runPeers({ simUrl, tmp, p99Target, ladderMax: Math.max(...RATES), fixedRates: [], installErrors: peerInstallErrors });
      const summary = { machine: { ...machine, loadavgAtEnd: os.loadavg() }, peersOnly: true, p99Target, baseA, peers, all: results };
      const stamp = machine.date.replace(/[:.]/g, '-');
      writeFileSync(path.join(outDir, `peers-${stamp}.json`), JSON.stringify(summary, null, 1));
      writeFileSync(path.join(outDir, 'peers-latest.json'), JSON.stringify(summary, null, 1));
      // Not the committed plot (that one is a full run's): bench/out/latency-vs-rate-peers.svg.
      const { writePlot } = await import('./plot.ts');
      console.error(`plot: ${writePlot(path.join(outDir, 'peers-latest.json'), path.join(outDir, 'latency-vs-rate-peers.svg')).map((f) => path.relative(repoRoot, f)).join(', ')}`);
      const md = peersMarkdown(summary);
      writeFileSync(path.join(outDir, 'summary-peers.md'), md);
      console.log(md);
      return;
    }

    console.error('warm-up and low-rate baselines');
    await run('warm-up', 'a', 100, 3);
    await run('warm-up', 'b', 100, 3);
    const baseA = await run('baseline (low rate)', 'a', LOW_RATE, 8);
    const baseB = await run('baseline (low rate)', 'b', LOW_RATE, 8);
    const p99Target = P99_FACTOR * baseA.load.latency.p99;
    console.error(`a's ceiling: step up until p99 > ${p99Target.toFixed(1)} ms (${P99_FACTOR}x a's low-rate p99), errors, or < 95% of the offered rate`);
    let ceilingA = 0;
    const stepA = stepFor(p99Target, (name, rate, d) => run(name, 'a', rate, d));
    for (const rate of RATES) {
      if (!(await stepA(rate))) break;
      ceilingA = rate;
    }
    if (!ceilingA) ceilingA = LOW_RATE;
    console.error(`a's ceiling ${ceilingA} rps; a and b at 25/50/75% of it`);
    const fixed: { frac: number; rate: number; a: ScenarioResult; b: ScenarioResult }[] = [];
    for (const frac of [0.25, 0.5, 0.75]) {
      const rate = Math.round((ceilingA * frac) / 10) * 10;
      const a = await run(`fixed ${frac * 100}%`, 'a', rate, FIXED_SEC);
      const b = await run(`fixed ${frac * 100}%`, 'b', rate, FIXED_SEC);
      fixed.push({ frac, rate, a, b });
    }
    console.error(`b's highest rate within the same p99 target (${p99Target.toFixed(1)} ms)`);
    const bAt = new Map<number, ScenarioResult>([[LOW_RATE, baseB], ...fixed.map((f) => [f.rate, f.b] as [number, ScenarioResult])]);
    const ceilingB = await climbLadder(ladderUpTo(ceilingA, fixed.map((f) => f.rate)), bAt, p99Target, stepFor(p99Target, (name, rate, d) => run(name, 'b', rate, d)));
    console.error('streaming');
    const streamA = await run('stream TTFB', 'a', STREAM_RATE, 10, true);
    const streamB = await run('stream TTFB', 'b', STREAM_RATE, 10, true);
    // Peers last, one at a time, with a and b idle: nothing of theirs runs during a's or b's windows.
    const peers = runPeersHere ? await runPeers({ simUrl, tmp, p99Target, ladderMax: ceilingA, fixedRates: fixed.map((f) => f.rate), installErrors: peerInstallErrors }) : [];
    const summary = { machine: { ...machine, loadavgAtEnd: os.loadavg() }, p99Target, baseA, baseB, ceilingA, ceilingB, fixed, streamA, streamB, peers, all: results };
    const stamp = machine.date.replace(/[:.]/g, '-');
    writeFileSync(path.join(outDir, `run-${stamp}.json`), JSON.stringify(summary, null, 1));
    writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(summary, null, 1));
    const { writePlot, DEFAULT_PLOT } = await import('./plot.ts');
    console.error(`plot: ${writePlot(path.join(outDir, 'latest.json'), DEFAULT_PLOT).map((f) => path.relative(repoRoot, f)).join(', ')}`);
    const md = markdown(summary);
    writeFileSync(path.join(outDir, 'summary.md'), md);
    console.log(md);
  } finally {
    await cleanup();
  }
}

/** b's ladder (and the peers'): 50, 75, 100, 125, 150, 200, the search rates and the fixed rates, up to `max`. */
function ladderUpTo(max: number, fixedRates: number[]): number[] {
  return [...new Set([LOW_RATE, 75, 100, 125, 150, 200, ...RATES, ...fixedRates])].sort((x, y) => x - y).filter((r) => r <= max);
}

/** Upward from the low-rate baseline, reusing passing runs done already; stops at the first miss. */
async function climbLadder(ladder: number[], earlier: Map<number, ScenarioResult>, p99Target: number, step: (rate: number) => Promise<boolean>): Promise<number> {
  let ceiling = 0;
  for (const rate of ladder) {
    const done = earlier.get(rate);
    if (!(done && passes(done, p99Target)) && !(await step(rate))) break;
    ceiling = rate;
  }
  return ceiling;
}

// ---- peers ----------------------------------------------------------------------------------
interface PeerSummary {
  system: string;
  label: string;
  version: string;
  settings: Record<string, unknown>;
  /** Why this peer has no (or incomplete) figures. */
  error?: string;
  base?: ScenarioResult;
  /** Highest rate within the same p99 target as b (0: not even the 50 rps baseline). */
  ceiling?: number;
  fixed: { rate: number; r: ScenarioResult }[];
  startupSec?: number;
}

/**
 * Each peer alone, in front of the same simulator: start, check it forwards (a 200 carrying the
 * simulator's completion), warm up, 50 rps baseline, b's ladder within the same p99 target, then
 * the fixed rates (BENCH_PEER_FIXED=0 skips them); stopped (its whole process group) before the
 * next one starts.
 */
async function runPeers(o: { simUrl: string; tmp: string; p99Target: number; ladderMax: number; fixedRates: number[]; installErrors: Map<string, string> }): Promise<PeerSummary[]> {
  const out: PeerSummary[] = [];
  const { LITELLM_VERSION, PORTKEY_VERSION } = await import('./peers/install.ts');
  for (const name of PEERS) {
    const system = `p-${name}`;
    const version = name === 'litellm' ? LITELLM_VERSION : name === 'portkey' ? PORTKEY_VERSION : '?';
    const summary: PeerSummary = { system, label: `${name === 'litellm' ? 'LiteLLM' : name === 'portkey' ? 'Portkey' : name} ${version}`, version, settings: {}, fixed: [] };
    out.push(summary);
    const installError = o.installErrors.get(name);
    if (installError) {
      summary.error = installError;
      continue;
    }
    let peer: PeerGateway | undefined;
    try {
      await quiesce();
      console.error(`peer ${system}: starting`);
      const t0 = performance.now();
      if (name === 'litellm') {
        const { startLiteLLM } = await import('./peers/litellm.ts');
        peer = await startLiteLLM({ simUrl: o.simUrl, model: MODEL, workDir: path.join(o.tmp, 'litellm') });
      } else {
        const { startPortkey } = await import('./peers/portkey.ts');
        peer = await startPortkey({ simUrl: o.simUrl });
      }
      const started = peer;
      cleanups.push(() => started.stop());
      summary.startupSec = Math.round((performance.now() - t0) / 100) / 10;
      summary.label = peer.label;
      summary.settings = peer.settings;
      await verifyForwarding(peer, JSON_BODY, SIM_ANSWER);
      activePeer = peer;
      const target = { url: peer.url, path: peer.path };
      const headers = { 'content-type': 'application/json', 'user-agent': 'switchboard-bench', ...peer.headers };
      const runP = (scn: string, rate: number, durationSec: number) =>
        scenario(scn, system, { ...target, headers, body: JSON_BODY, rate, durationSec, warmupSec: Math.min(2, durationSec / 3), stream: false, timeoutMs: 10_000 });
      console.error(`peer ${system} (${peer.label}, up in ${summary.startupSec} s): warm-up, baseline, ladder, fixed rates`);
      // A gentler warm-up than a's and b's 100 rps: LiteLLM's first request on each worker takes
      // seconds (lazy initialisation), and a saturated warm-up would leave a backlog in the baseline.
      await runP('warm-up', 20, 3);
      summary.base = await runP('baseline (low rate)', LOW_RATE, 8);
      // The ladder before the fixed rates (unlike b): a peer's collapse at the fixed rates must
      // not leak into its ceiling steps.
      summary.ceiling = await climbLadder(ladderUpTo(o.ladderMax, o.fixedRates), new Map([[LOW_RATE, summary.base]]), o.p99Target, async (rate) => {
        const r = await runP('ceiling search', rate, STEP_SEC);
        return passes(r, o.p99Target) || passes(await runP('ceiling search (retry)', rate, STEP_SEC), o.p99Target);
      });
      console.error(`peer ${system}: highest rate within ${o.p99Target.toFixed(1)} ms p99: ${summary.ceiling} rps`);
      if (env.BENCH_PEER_FIXED !== '0') {
        for (const rate of o.fixedRates) {
          const frac = o.fixedRates.length === 3 ? ` ${[25, 50, 75][o.fixedRates.indexOf(rate)]}%` : '';
          summary.fixed.push({ rate, r: await runP(`fixed${frac}`, rate, FIXED_SEC) });
        }
      }
    } catch (err) {
      summary.error = (err as Error).message.slice(0, 2000);
      console.error(`peer ${system}: ${summary.error}`);
    } finally {
      activePeer = undefined;
      await peer?.stop();
    }
  }
  return out;
}

// ---- reporting ------------------------------------------------------------------------------
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');

type MachineInfo = Record<string, unknown> & { simulatorLatencyMs: number; date: string; nproc: string; cpuModel: string; free: string; envoy: string; node: string; commit: string; uncommitted: string[]; workers: number; loadavgAtStart: number[]; loadavgAtEnd: number[] };

function runHeader(m: MachineInfo): string[] {
  const L: string[] = [];
  L.push(`Run ${m.date}, commit ${m.commit}; ${m.nproc} cores (${m.cpuModel}); Envoy ${m.envoy}; Node ${m.node}; Switchboard workers: ${m.workers}; load average at start ${m.loadavgAtStart.map(f2).join(' ')}, at end ${m.loadavgAtEnd.map(f2).join(' ')}.`);
  if (m.uncommitted.length) L.push(`Working tree differed from ${m.commit} in: ${m.uncommitted.join(', ')}.`);
  L.push('');
  L.push('```');
  L.push(m.free);
  L.push('```');
  return L;
}

function markdown(s: {
  machine: MachineInfo;
  p99Target: number;
  baseA: ScenarioResult;
  baseB: ScenarioResult;
  ceilingA: number;
  ceilingB: number;
  fixed: { frac: number; rate: number; a: ScenarioResult; b: ScenarioResult }[];
  streamA: ScenarioResult;
  streamB: ScenarioResult;
  peers: PeerSummary[];
  all: ScenarioResult[];
}): string {
  const m = s.machine;
  const L: string[] = runHeader(m);
  L.push('');
  L.push(`### Non-streamed ~4 KB chat completion (simulator latency ${m.simulatorLatencyMs} ms)`);
  L.push('');
  L.push(`Envoy alone's ceiling: **${s.ceilingA} rps** (p99 target ${f1(s.p99Target)} ms = ${P99_FACTOR}x its low-rate p99 ${f1(s.baseA.load.latency.p99)} ms, no errors, >= 95% of offered rate).`);
  L.push(`Highest rate Envoy + Switchboard sustains within the same target: **${s.ceilingB || `< ${LOW_RATE}`} rps** (ladder ${LOW_RATE}, 75, 100, 125, 150, 200, then the search rates).`);
  L.push('');
  L.push('| rate (rps) | system | achieved | errors | p50 ms | p90 ms | p99 ms | max ms | added p50 / p90 / p99 (b-a) ms | p99 ratio b/a |');
  L.push('|---:|---|---:|---:|---:|---:|---:|---:|---|---:|');
  const rows: [number, ScenarioResult, ScenarioResult][] = [[LOW_RATE, s.baseA, s.baseB], ...s.fixed.map((f) => [f.rate, f.a, f.b] as [number, ScenarioResult, ScenarioResult])];
  for (const [rate, a, b] of rows) {
    const la = a.load.latency;
    const lb = b.load.latency;
    L.push(`| ${rate} | a Envoy | ${a.load.achievedRate} | ${a.load.errors + a.load.non2xx} | ${f1(la.p50)} | ${f1(la.p90)} | ${f1(la.p99)} | ${f1(la.max)} | | |`);
    L.push(`| ${rate} | b +Switchboard | ${b.load.achievedRate} | ${b.load.errors + b.load.non2xx} | ${f1(lb.p50)} | ${f1(lb.p90)} | ${f1(lb.p99)} | ${f1(lb.max)} | ${f1(lb.p50 - la.p50)} / ${f1(lb.p90 - la.p90)} / ${f1(lb.p99 - la.p99)} | ${f2(lb.p99 / la.p99)} |`);
  }
  const failed = s.all.filter((r) => r.load.errors + r.load.non2xx > 0);
  if (failed.length) {
    L.push('');
    L.push('Errors by run: ' + failed.map((r) => `${r.scenario} ${r.system} @${r.load.rate}: statuses ${JSON.stringify(r.load.statusCounts)}${r.load.errorSamples.length ? ` (${r.load.errorSamples.at(-1)})` : ''}`).join('; ') + '.');
  }
  L.push('');
  L.push('Ceiling searches (each step ' + STEP_SEC + ' s after a short warm-up):');
  L.push('');
  L.push('| system | rate | achieved | errors | p50 | p99 | max | generator send-lag p99 | generator CPU (cores) | foreign CPU (cores) |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of s.all.filter((x) => x.scenario.startsWith('ceiling search'))) {
    L.push(`| ${r.system}${r.scenario.includes('retry') ? ' (retry)' : ''} | ${r.load.rate} | ${r.load.achievedRate} | ${r.load.errors + r.load.non2xx} | ${f1(r.load.latency.p50)} | ${f1(r.load.latency.p99)} | ${f1(r.load.latency.max)} | ${f1(r.load.sendLag.p99)} | ${r.load.generatorCpuShare} | ${r.foreignCores} |`);
  }
  L.push('');
  if (s.peers.length) {
    L.push(peerSection({ ...s, fixedRates: s.fixed.map((f) => ({ rate: f.rate, a: f.a, b: f.b })) }));
    L.push('');
  }
  L.push(streamTable(s));
  L.push('');
  L.push('### CPU seconds per 1,000 requests and peak RSS (VmHWM over the window)');
  L.push('');
  L.push('| scenario | system | rate | Envoy CPU s/1k | Switchboard workers CPU s/1k | simulator CPU s/1k | generator CPU s/1k | Envoy peak RSS MiB | workers peak RSS MiB | foreign CPU (cores) |');
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const pick = (o: Record<string, number>, keys: string[]) => keys.map((k) => o[k]).find((v) => v !== undefined) ?? NaN;
  for (const r of [s.baseA, s.baseB, ...s.fixed.flatMap((f) => [f.a, f.b]), s.streamA, s.streamB]) {
    const envoyKey = r.system === 'a' ? ['envoy (a)'] : ['envoy (b)'];
    const wk = ['switchboard (all)', 'worker 0'];
    L.push(
      `| ${r.scenario} | ${r.system} | ${r.load.rate} | ${f2(pick(r.cpuSecPer1k, envoyKey))} | ${r.system === 'b' ? f2(pick(r.cpuSecPer1k, wk)) : '-'} | ${f2(pick(r.cpuSecPer1k, ['simulator']))} | ${f2(pick(r.cpuSecPer1k, ['loadgen']))} | ${f1(pick(r.peakRssMiB, envoyKey))} | ${r.system === 'b' ? f1(pick(r.peakRssMiB, wk)) : '-'} | ${r.foreignCores} |`,
    );
  }
  return L.join('\n');
}

const SYSTEM_LABEL: Record<string, string> = { a: 'a Envoy', b: 'b +Switchboard' };
const sysLabel = (system: string, peers: PeerSummary[]) => SYSTEM_LABEL[system] ?? peers.find((p) => p.system === system)?.label ?? system;

/** CPU s/1k and peak RSS of the system under test: a = its Envoy; b = its Envoy + workers; a peer = its process tree. */
function gatewayCost(r: ScenarioResult): { cpu: number; rss: number; processes: number } {
  const get = (o: Record<string, number>, keys: string[]) => keys.map((k) => o[k]).find((v) => v !== undefined) ?? NaN;
  if (r.system === 'a') return { cpu: get(r.cpuSecPer1k, ['envoy (a)']), rss: get(r.peakRssMiB, ['envoy (a)']), processes: 1 };
  if (r.system === 'b') {
    const wk = ['switchboard (all)', 'worker 0'];
    const workers = Object.keys(r.cpuSec).filter((k) => k.startsWith('worker ')).length;
    return { cpu: get(r.cpuSecPer1k, ['envoy (b)']) + get(r.cpuSecPer1k, wk), rss: get(r.peakRssMiB, ['envoy (b)']) + get(r.peakRssMiB, wk), processes: 1 + workers };
  }
  return { cpu: get(r.cpuSecPer1k, [`${r.system} (all)`]), rss: get(r.peakRssMiB, [`${r.system} (all)`]), processes: Object.keys(r.cpuSec).filter((k) => k.startsWith(`${r.system}#`)).length };
}

/** The peers beside a and b: same rates, same p99 target, added latency against a at the same rate. */
function peerSection(s: { p99Target: number; baseA: ScenarioResult; baseB?: ScenarioResult; ceilingA?: number; ceilingB?: number; fixedRates: { rate: number; a: ScenarioResult; b?: ScenarioResult }[]; peers: PeerSummary[] }): string {
  const L: string[] = [];
  const label = (sys: string) => sysLabel(sys, s.peers);
  L.push('### Peers: LiteLLM proxy and Portkey gateway, same simulator, same request and load generator');
  L.push('');
  for (const p of s.peers) {
    L.push(`- **${p.label}** (${p.system})${p.startupSec !== undefined ? `, up in ${p.startupSec} s` : ''}: ${Object.entries(p.settings).map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ') || '-'}${p.error ? `. **Not (fully) measured**: ${p.error.replace(/\s+/g, ' ').slice(0, 600)}` : ''}`);
  }
  L.push('');
  const ceilings = [
    ...(s.ceilingA !== undefined ? [`a Envoy ${s.ceilingA} rps (its own ceiling)`] : []),
    ...(s.ceilingB !== undefined ? [`b +Switchboard ${s.ceilingB || `< ${LOW_RATE}`} rps`] : []),
    ...s.peers.map((p) => `${p.label} ${p.ceiling === undefined ? 'not measured' : `${p.ceiling || `< ${LOW_RATE}`} rps`}`),
  ];
  L.push(`Highest rate sustained within the same p99 target (${f1(s.p99Target)} ms, no errors, >= 95% of offered): ${ceilings.join('; ')}.`);
  L.push('');
  L.push('| rate (rps) | system | achieved | errors | p50 ms | p90 ms | p99 ms | max ms | added p50 / p99 vs a (ms) | p99 ratio vs a | gateway CPU s/1k | gateway peak RSS MiB |');
  L.push('|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|');
  const rows: { rate: number; a: ScenarioResult; others: ScenarioResult[] }[] = [
    { rate: LOW_RATE, a: s.baseA, others: [...(s.baseB ? [s.baseB] : []), ...s.peers.flatMap((p) => (p.base ? [p.base] : []))] },
    ...s.fixedRates.map((f) => ({ rate: f.rate, a: f.a, others: [...(f.b ? [f.b] : []), ...s.peers.flatMap((p) => p.fixed.filter((x) => x.rate === f.rate).map((x) => x.r))] })),
  ];
  for (const { rate, a, others } of rows) {
    const la = a.load.latency;
    for (const r of [a, ...others]) {
      const l = r.load.latency;
      const c = gatewayCost(r);
      const added = r === a ? ' | ' : `${f1(l.p50 - la.p50)} / ${f1(l.p99 - la.p99)} | ${f2(l.p99 / la.p99)}`;
      L.push(`| ${rate} | ${label(r.system)} | ${r.load.achievedRate} | ${r.load.errors + r.load.non2xx} | ${f1(l.p50)} | ${f1(l.p90)} | ${f1(l.p99)} | ${f1(l.max)} | ${added} | ${f2(c.cpu)} | ${f1(c.rss)} |`);
    }
  }
  L.push('');
  L.push('Gateway CPU and RSS: a = its Envoy; b = its Envoy + Switchboard workers; a peer = its whole process tree (LiteLLM: the Uvicorn supervisor and its workers). Peak RSS sums VmHWM over those processes.');
  L.push('');
  L.push('CPU seconds per 1,000 requests and peak RSS of every peer run:');
  L.push('');
  L.push('| scenario | system | rate | achieved | errors | p50 | p99 | gateway CPU s/1k | processes | simulator CPU s/1k | generator CPU s/1k | gateway peak RSS MiB | generator send-lag p99 | foreign CPU (cores) |');
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const peerSystems = new Set(s.peers.map((p) => p.system));
  for (const r of runsOf(s.peers, peerSystems)) {
    const c = gatewayCost(r);
    L.push(`| ${r.scenario} | ${label(r.system)} | ${r.load.rate} | ${r.load.achievedRate} | ${r.load.errors + r.load.non2xx} | ${f1(r.load.latency.p50)} | ${f1(r.load.latency.p99)} | ${f2(c.cpu)} | ${c.processes} | ${f2(r.cpuSecPer1k.simulator ?? NaN)} | ${f2(r.cpuSecPer1k.loadgen ?? NaN)} | ${f1(c.rss)} | ${f1(r.load.sendLag.p99)} | ${r.foreignCores} |`);
  }
  return L.join('\n');
}

/** The peers' measured runs (warm-ups left out), in run order. */
function runsOf(peers: PeerSummary[], systems: Set<string>): ScenarioResult[] {
  return peers.length ? results.filter((r) => systems.has(r.system) && r.scenario !== 'warm-up') : [];
}

function peersMarkdown(s: { machine: MachineInfo; p99Target: number; baseA: ScenarioResult; peers: PeerSummary[]; all: ScenarioResult[] }): string {
  const L = runHeader(s.machine);
  L.push('');
  L.push(`--peers-only: a's low-rate baseline (p99 ${f1(s.baseA.load.latency.p99)} ms; target ${P99_FACTOR}x = ${f1(s.p99Target)} ms), then each peer's baseline and ladder up to ${Math.max(...RATES)} rps (no fixed rates, no b).`);
  L.push('');
  L.push(peerSection({ p99Target: s.p99Target, baseA: s.baseA, fixedRates: [], peers: s.peers }));
  const failed = s.all.filter((r) => r.load.errors + r.load.non2xx > 0);
  if (failed.length) {
    L.push('');
    L.push('Errors by run: ' + failed.map((r) => `${r.scenario} ${r.system} @${r.load.rate}: statuses ${JSON.stringify(r.load.statusCounts)}${r.load.errorSamples.length ? ` (${r.load.errorSamples.at(-1)})` : ''}`).join('; ') + '.');
  }
  return L.join('\n');
}

function streamTable(s: { machine: { simulatorLatencyMs: number }; streamA: ScenarioResult; streamB: ScenarioResult }): string {
  const L: string[] = [];
  L.push(`### Streaming (20 chunks, 5 ms apart, after ${s.machine.simulatorLatencyMs} ms), ${STREAM_RATE} rps`);
  L.push('');
  L.push('TTFB = first body byte (the role event); TTFT = first event with non-empty text (first token).');
  L.push('');
  L.push('| system | errors | TTFB p50 | TTFB p90 | TTFB p99 | TTFT p50 | TTFT p90 | TTFT p99 | total p50 | total p99 |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of [s.streamA, s.streamB]) {
    const t = r.load.ttft ?? { p50: NaN, p90: NaN, p99: NaN };
    L.push(`| ${r.system === 'a' ? 'a Envoy' : 'b +Switchboard'} | ${r.load.errors + r.load.non2xx} | ${f1(r.load.ttfb.p50)} | ${f1(r.load.ttfb.p90)} | ${f1(r.load.ttfb.p99)} | ${f1(t.p50)} | ${f1(t.p90)} | ${f1(t.p99)} | ${f1(r.load.latency.p50)} | ${f1(r.load.latency.p99)} |`);
  }
  const a = s.streamA.load;
  const b = s.streamB.load;
  L.push('');
  L.push(`Added (b-a): TTFB p50 ${f1(b.ttfb.p50 - a.ttfb.p50)} ms, p99 ${f1(b.ttfb.p99 - a.ttfb.p99)} ms; TTFT p50 ${f1(b.ttft.p50 - a.ttft.p50)} ms, p99 ${f1(b.ttft.p99 - a.ttft.p99)} ms.`);
  return L.join('\n');
}

// ---- profile summary ------------------------------------------------------------------------
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function in the workers' profiles, start-up (module load, Runtime build) left out. */
function summariseProfiles(dir: string) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const self = new Map<string, number>();
  const nearest = new Map<string, number>();
  let steadyUs = 0;
  let idleUs = 0;
  let startupUs = 0;
  const label = (cf: CpuProfile['nodes'][number]['callFrame']) =>
    `${cf.functionName || '(anonymous)'}\t${cf.url ? `${cf.url.replace(`file://${repoRoot}/`, '').replace(/^.*node_modules\//, 'node_modules/')}:${cf.lineNumber + 1}` : ''}`.trim();
  for (const file of files) {
    const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    prof.samples.forEach((id, i) => {
      const dt = prof.timeDeltas[i] ?? 0;
      const stack: string[] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const n = byId.get(cur);
        if (n) stack.push(label(n.callFrame));
      }
      if (stack.some((k) => /^(runWorker|Runtime|compileSourceTextModule|evaluate)(\t|$)/.test(k))) {
        startupUs += dt;
        return;
      }
      steadyUs += dt;
      const leaf = stack[0] ?? '?';
      if (leaf.startsWith('(idle)')) {
        idleUs += dt;
        return;
      }
      self.set(leaf, (self.get(leaf) ?? 0) + dt);
      const own = stack.find((k) => /\t(extproc|provider-adapters|envoy)\//.test(k)) ?? (stack.some((k) => k.includes('node_modules/@grpc/')) ? '(grpc-js, no project frame)' : '(node/http2/other, no project frame)');
      nearest.set(own, (nearest.get(own) ?? 0) + dt);
    });
  }
  const busy = steadyUs - idleUs;
  const pct = (us: number) => ((us / busy) * 100).toFixed(1);
  const table = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => {
        const [fn, where] = k.split('\t');
        return `| ${pct(us)} | ${fn} | ${where ?? ''} |`;
      });
  const lines = [
    `Profiles: ${files.length} worker(s); start-up ${(startupUs / 1e6).toFixed(1)} s CPU (left out); steady state ${(steadyUs / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / steadyUs) * 100).toFixed(0)}%).`,
    '',
    'Top self time, % of busy:',
    '',
    '| self % | function | where |',
    '|---:|---|---|',
    ...table(self, 25),
    '',
    'Busy time by the nearest project frame on the stack (what project code the time is spent for):',
    '',
    '| % | function | where |',
    '|---:|---|---|',
    ...table(nearest, 25),
  ];
  const md = lines.join('\n');
  writeFileSync(path.join(outDir, 'profile.md'), md);
  console.log(md);
}

process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));
main().then(
  () => process.exit(0),
  async (err: unknown) => {
    console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
    await cleanup();
    process.exit(1);
  },
);
