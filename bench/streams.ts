// Concurrent open streams: how many long-lived SSE chat-completion streams Envoy alone (a) and
// Envoy + Switchboard (b) hold at once, with what errors, Envoy overflow / timeout counters and
// memory. `npm run bench:streams` (= node bench/streams.ts); run it under `timeout`.
//
// Per system (a, then b, each against its own fresh simulator) and per level (1,000, then 10,000):
//   ramp    open streams at BENCH_STREAMS_RAMP per second until the level is reached
//   settle  wait until every stream has its first chunk (bounded)
//   hold    BENCH_STREAMS_HOLD_SEC seconds: open streams sampled each second at the client, the
//           simulator and Envoy; VmRSS / VmHWM of Envoy and the workers, the workers' heap
//   drain   no new streams; each one ends by itself ([DONE]) and is counted as a completion
// A stream lasts ramp + settle + hold + a margin (the simulator's hold mode), one content chunk
// every max(1 s, level / BENCH_STREAMS_CHUNK_RATE s): 1 s at 1,000, 10 s at 10,000 streams, so
// both levels send ~1,000 chunks/s in total (10,000 chunks/s would be a throughput test of a
// 2-core box, not of open streams).
//
// Client: HTTP/2 (h2c, prior knowledge) to Envoy's listener over BENCH_STREAMS_CONNECTIONS
// connections (default 20), streams spread round-robin. Why: 10,000 HTTP/1.1 client connections
// plus Envoy's 10,000 upstream connections to the simulator would need 20,000+ descriptors in
// Envoy, and the hard limit here is 20,000. Envoy -> simulator is HTTP/1.1, one connection per
// open stream (as with real providers over HTTP/1.1). BENCH_STREAMS_CLIENT=h1 uses one HTTP/1.1
// connection per stream instead (fits up to ~9,000 streams here).
//
// Processes: a wrapper (this file) starts the orchestrator in a new process group and kills the
// whole group when it ends, fails, is signalled, or runs over BENCH_STREAMS_MAX_SEC; the
// orchestrator forks the simulator and the client (this file again, --role sim / client) and
// starts Envoy (a) or the gateway (b, startGateway as in bench/run.ts).
//
// Options (env): BENCH_STREAMS_LEVELS (1000,10000), BENCH_STREAMS_SYSTEMS (a,b), BENCH_STREAMS_RAMP
// (150 streams/s), BENCH_STREAMS_HOLD_SEC (20), BENCH_STREAMS_CHUNK_RATE (1000 chunks/s at a
// level), BENCH_STREAMS_CONNECTIONS (20), BENCH_STREAMS_CLIENT (h2 | h1), BENCH_STREAMS_BODY_BYTES
// (1024), BENCH_WORKERS (1), BENCH_STREAMS_MAX_SEC (1500), BENCH_STREAMS_HEAPSNAPSHOT=1 (a heap
// snapshot of each worker at the end of each hold, into bench/out/heap; pauses the worker).
// Results: bench/out/streams-<date>.json, bench/out/streams.md, and the markdown on stdout.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, peakRssMiB, resetPeakRss, rssMiB } from './procstat.ts';
import { chatBody } from './lib/chat-body.ts';
import { envoyAloneBootstrap } from './lib/envoy-alone.ts';
import { simGatewayYaml } from './lib/gateway-yaml.ts';
import { signalGroup } from './lib/processes.ts';
import { sh } from './lib/shell.ts';

const thisFile = fileURLToPath(import.meta.url);
const benchDir = path.dirname(thisFile);
const repoRoot = path.resolve(benchDir, '..');
const outDir = path.join(benchDir, 'out');
const env = process.env;
const num = (name: string, d: number) => (env[name] ? Number(env[name]) : d);
const argRole = (() => {
  const i = process.argv.indexOf('--role');
  return i >= 0 ? process.argv[i + 1] : 'main';
})();

const LEVELS = (env.BENCH_STREAMS_LEVELS ?? '1000,10000').split(',').map(Number);
const SYSTEMS = (env.BENCH_STREAMS_SYSTEMS ?? 'a,b').split(',') as ('a' | 'b')[];
const RAMP = num('BENCH_STREAMS_RAMP', 150);
const HOLD_SEC = num('BENCH_STREAMS_HOLD_SEC', 20);
const CHUNK_RATE = num('BENCH_STREAMS_CHUNK_RATE', 1000);
const CONNECTIONS = num('BENCH_STREAMS_CONNECTIONS', 20);
const CLIENT = env.BENCH_STREAMS_CLIENT === 'h1' ? 'h1' : 'h2';
const BODY_BYTES = num('BENCH_STREAMS_BODY_BYTES', 1024);
const WORKERS = num('BENCH_WORKERS', 1);
const MAX_SEC = num('BENCH_STREAMS_MAX_SEC', 1500);
const HEAPSNAPSHOT = env.BENCH_STREAMS_HEAPSNAPSHOT === '1';
const SETTLE_MAX_SEC = 60;
const FIRST_CHUNK_TIMEOUT_MS = 60_000;
const MODEL = 'gpt-4o-mini';
// Apart from bench/run.ts's 281xx, so both can run on one host.
const PORTS = { envoyAlone: 28400, envoyAloneAdmin: 28401, gateway: 28410, gatewayEnvoyAdmin: 28411, gatewayAdmin: 28412 };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (msg: string) => console.error(`[streams ${new Date().toISOString().slice(11, 19)}] ${msg}`);

// ============================================================================================
// wrapper: the orchestrator in its own process group; the group dies with us, whatever happens
// ============================================================================================
function runWrapper(): void {
  const child = spawn(process.execPath, [...process.execArgv, thisFile, '--role', 'orchestrator'], { detached: true, stdio: 'inherit', env });
  const pgid = child.pid as number;
  const killGroup = (sig: NodeJS.Signals) => signalGroup(pgid, sig);
  const deadline = setTimeout(() => {
    log(`over BENCH_STREAMS_MAX_SEC=${MAX_SEC}: killing the process group`);
    killGroup('SIGKILL');
    process.exit(124);
  }, MAX_SEC * 1000);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      log(`${sig}: stopping (the orchestrator cleans up, then the group is killed)`);
      killGroup('SIGTERM');
      setTimeout(() => {
        killGroup('SIGKILL');
        process.exit(130);
      }, 10_000).unref();
    });
  }
  process.on('exit', () => killGroup('SIGKILL'));
  child.on('exit', (code, signal) => {
    clearTimeout(deadline);
    killGroup('SIGKILL'); // anything the orchestrator left behind
    process.exit(code ?? (signal ? 1 : 0));
  });
}

// ============================================================================================
// simulator role: bench/sim-provider.ts in hold mode, stats and reconfiguration over IPC
// ============================================================================================
async function runSim(): Promise<void> {
  const { startSimProvider } = await import('./sim-provider.ts');
  const sim = await startSimProvider({ port: 0, latencyMs: 20, holdMs: 60_000, chunkIntervalMs: 1000 });
  process.on('message', (m: { type: string; holdMs?: number; chunkIntervalMs?: number }) => {
    if (m.type === 'configure') sim.configureHold(m);
    else if (m.type === 'stats') process.send?.({ type: 'stats', stats: sim.holdStats() });
  });
  process.on('disconnect', () => void sim.stop().then(() => process.exit(0)));
  process.send?.({ type: 'ready', port: sim.port });
}

// ============================================================================================
// client role: keeps up to `target` streams in flight, counts what happens to each
// ============================================================================================
interface ClientConfig {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  client: 'h1' | 'h2';
}

export interface ClientCounters {
  started: number;
  /** received response headers */
  responded: number;
  /** 200 and the first SSE event */
  firstChunk: number;
  /** first chunk received and not yet ended */
  open: number;
  /** started and not yet ended (any stage) */
  inFlight: number;
  /** ended normally after `data: [DONE]` */
  completed: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  /** ms from send to first chunk, of streams that got one since the last reset */
  firstChunkMs: { p50: number; p99: number; max: number; n: number };
}

function runClient(): void {
  let cfg: ClientConfig | undefined;
  let target = 0;
  let rampPerSec = 0;
  const c = { started: 0, responded: 0, firstChunk: 0, open: 0, inFlight: 0, completed: 0, statuses: {} as Record<string, number>, errors: {} as Record<string, number> };
  let firstMs: number[] = [];
  const sessions: http2.ClientHttp2Session[] = [];
  let rr = 0;
  let agent: http.Agent | undefined;
  const live = new Set<{ cancel(): void }>();
  const err = (kind: string) => (c.errors[kind] = (c.errors[kind] ?? 0) + 1);

  const session = (i: number): http2.ClientHttp2Session => {
    const s = sessions[i];
    if (s && !s.closed && !s.destroyed) return s;
    const fresh = http2.connect((cfg as ClientConfig).url, { maxSessionMemory: 1024, peerMaxConcurrentStreams: 100_000, settings: { initialWindowSize: 1024 * 1024 } });
    fresh.on('error', (e: NodeJS.ErrnoException) => err(`session_error:${e.code ?? e.message}`));
    fresh.on('goaway', (code: number) => err(`goaway:${code}`));
    sessions[i] = fresh;
    return fresh;
  };

  /** One stream's life: the shared bookkeeping for both client protocols. */
  const track = () => {
    const t0 = performance.now();
    let status = 0;
    let gotFirst = false;
    let sawDone = false;
    let tail = '';
    let ended = false;
    c.started++;
    c.inFlight++;
    const timer = setTimeout(() => finish('first_chunk_timeout'), FIRST_CHUNK_TIMEOUT_MS);
    const finish = (why?: string) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      c.inFlight--;
      if (gotFirst) c.open--;
      if (why) err(why);
      else if (status !== 200) err(`status_${status}`);
      else if (sawDone) c.completed++;
      else err(gotFirst ? 'ended_without_done' : 'ended_before_first_chunk');
      handle.cancel = () => undefined;
      live.delete(handle);
      if (why) cancelIo();
    };
    let cancelIo = () => undefined as void;
    const handle = { cancel: () => finish('cancelled_at_end') };
    live.add(handle);
    return {
      setCancel(f: () => void) {
        cancelIo = f;
      },
      onStatus(s: number) {
        status = s;
        c.responded++;
        c.statuses[s] = (c.statuses[s] ?? 0) + 1;
      },
      onData(chunk: Buffer) {
        if (status === 200 && !gotFirst) {
          gotFirst = true;
          clearTimeout(timer);
          c.firstChunk++;
          c.open++;
          firstMs.push(performance.now() - t0);
        }
        const s = tail + chunk.toString('latin1');
        if (s.includes('data: [DONE]')) sawDone = true;
        tail = s.slice(-16);
      },
      finish,
    };
  };

  const openStream = () => {
    const conf = cfg as ClientConfig;
    const t = track();
    if (conf.client === 'h2') {
      let req: http2.ClientHttp2Stream;
      try {
        req = session(rr++ % conf.connections).request({ ':method': 'POST', ':path': conf.path, ...conf.headers });
      } catch (e) {
        t.finish(`request_throw:${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        return;
      }
      t.setCancel(() => req.close(http2.constants.NGHTTP2_CANCEL));
      req.on('response', (h) => t.onStatus(Number(h[':status'])));
      req.on('data', (d: Buffer) => t.onData(d));
      req.on('end', () => t.finish());
      req.on('error', (e: NodeJS.ErrnoException) => t.finish(`stream_error:${e.code ?? e.message}`));
      req.on('close', () => t.finish(req.rstCode ? `rst_${req.rstCode}` : undefined));
      req.end(conf.body);
    } else {
      const u = new URL(conf.url);
      const req = http.request({ host: u.hostname, port: u.port, path: conf.path, method: 'POST', headers: conf.headers, agent });
      t.setCancel(() => req.destroy());
      req.on('response', (res) => {
        t.onStatus(res.statusCode ?? 0);
        res.on('data', (d: Buffer) => t.onData(d));
        res.on('end', () => t.finish());
        res.on('error', (e: NodeJS.ErrnoException) => t.finish(`response_error:${e.code ?? e.message}`));
        res.on('aborted', () => t.finish('response_aborted'));
      });
      req.on('error', (e: NodeJS.ErrnoException) => t.finish(`request_error:${e.code ?? e.message}`));
      req.end(conf.body);
    }
  };

  // Ramp: a token bucket at rampPerSec, never above `target` in flight.
  let credit = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    credit = Math.min(credit + ((now - last) / 1000) * rampPerSec, Math.max(1, rampPerSec / 5));
    last = now;
    while (credit >= 1 && c.inFlight < target) {
      credit--;
      openStream();
    }
  }, 10);

  const pct = (xs: number[], p: number) => {
    if (!xs.length) return NaN;
    const s = [...xs].sort((x, y) => x - y);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
  };
  const snapshot = (reset: boolean): ClientCounters => {
    const out = { ...c, statuses: { ...c.statuses }, errors: { ...c.errors }, firstChunkMs: { p50: pct(firstMs, 50), p99: pct(firstMs, 99), max: firstMs.length ? Math.max(...firstMs) : NaN, n: firstMs.length } };
    if (reset) firstMs = [];
    return out;
  };

  process.on('message', (m: { type: string; cfg?: ClientConfig; target?: number; rampPerSec?: number; reset?: boolean }) => {
    if (m.type === 'config' && m.cfg) {
      cfg = m.cfg;
      if (cfg.client === 'h1') agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
      process.send?.({ type: 'configured' });
    } else if (m.type === 'target') {
      target = m.target ?? 0;
      rampPerSec = m.rampPerSec ?? rampPerSec;
    } else if (m.type === 'snapshot') {
      process.send?.({ type: 'snapshot', counters: snapshot(m.reset ?? false) });
    } else if (m.type === 'stop') {
      clearInterval(tick);
      target = 0;
      for (const h of [...live]) h.cancel();
      for (const s of sessions) s?.destroy();
      agent?.destroy();
      process.send?.({ type: 'stopped', counters: snapshot(false) }, () => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ============================================================================================
// orchestrator
// ============================================================================================
interface Child {
  child: ChildProcess;
  ask<T>(msg: object, reply: string, timeoutMs?: number): Promise<T>;
}

function forkRole(role: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ c: Child; ready: Record<string, unknown> }> {
  // The client and the simulator hold ~10,000 sockets each: a larger young generation is not
  // what they need, the default heap limit is fine; nothing here is ours to measure.
  const child = fork(thisFile, ['--role', role], { env: { ...env, ...extraEnv, NODE_OPTIONS: '' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = <T>(msg: object, reply: string, timeoutMs = 30_000) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${role}: no '${reply}' within ${timeoutMs} ms`)), timeoutMs);
      const on = (m: { type: string }) => {
        if (m.type !== reply) return;
        clearTimeout(timer);
        child.off('message', on);
        resolve(m as T);
      };
      child.on('message', on);
      child.send(msg);
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} exited during start-up (${code})`)));
    if (role === 'client') return resolve({ c: { child, ask }, ready: {} });
    child.once('message', (m: Record<string, unknown>) => resolve({ c: { child, ask }, ready: m }));
  });
}

/** Envoy admin /stats as name -> value (counters and gauges). */
async function envoyStats(adminUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${adminUrl}/stats?filter=${encodeURIComponent('(ext_proc|overflow|timeout|_active|_reset|cx_connect_fail|_5xx|overload|rq_total|downstream_cx_total|streams_|message_)')}`);
  const out: Record<string, number> = {};
  for (const line of (await res.text()).split('\n')) {
    const m = /^([^:]+): (\d+)$/.exec(line.trim());
    if (m) out[m[1] as string] = Number(m[2]);
  }
  return out;
}

/** The figures the issue asks about, summed over clusters / filters of the same kind. */
function keyStats(s: Record<string, number>): Record<string, number> {
  const sum = (re: RegExp) => Object.entries(s).filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0);
  const upstream = /^cluster\.(sim|sb_chain_[^.]+)\./;
  const extproc = /^cluster\.switchboard_extproc[^.]*\./;
  const pick = (re: RegExp, stat: string) => sum(new RegExp(`${re.source}${stat}$`));
  return {
    'provider upstream_rq_active': pick(upstream, 'upstream_rq_active'),
    'provider upstream_cx_active': pick(upstream, 'upstream_cx_active'),
    'provider upstream_rq_pending_overflow': pick(upstream, 'upstream_rq_pending_overflow'),
    'provider upstream_cx_overflow': pick(upstream, 'upstream_cx_overflow'),
    'provider upstream_rq_timeout': pick(upstream, 'upstream_rq_timeout'),
    'provider upstream_rq_per_try_timeout': pick(upstream, 'upstream_rq_per_try_timeout'),
    'provider upstream_cx_connect_fail': pick(upstream, 'upstream_cx_connect_fail'),
    'provider upstream_rq_rx_reset': pick(upstream, 'upstream_rq_rx_reset'),
    'provider upstream_rq_tx_reset': pick(upstream, 'upstream_rq_tx_reset'),
    'ext_proc cluster upstream_rq_active': pick(extproc, 'upstream_rq_active'),
    'ext_proc cluster upstream_cx_active': pick(extproc, 'upstream_cx_active'),
    'ext_proc cluster upstream_rq_pending_overflow': pick(extproc, 'upstream_rq_pending_overflow'),
    'ext_proc cluster upstream_cx_overflow': pick(extproc, 'upstream_cx_overflow'),
    'ext_proc cluster upstream_rq_timeout': pick(extproc, 'upstream_rq_timeout'),
    'ext_proc cluster upstream_rq_rx_reset': pick(extproc, 'upstream_rq_rx_reset'),
    'ext_proc cluster upstream_rq_tx_reset': pick(extproc, 'upstream_rq_tx_reset'),
    'ext_proc streams_started': sum(/ext_proc\.streams_started$/),
    'ext_proc streams_closed': sum(/ext_proc\.streams_closed$/),
    'ext_proc streams_failed': sum(/ext_proc\.streams_failed$/),
    'ext_proc message_timeouts': sum(/ext_proc\.message_timeouts$/),
    'ext_proc failure_mode_allowed': sum(/ext_proc\.failure_mode_allowed$/),
    'ext_proc spurious_msgs_received': sum(/ext_proc\.spurious_msgs_received$/),
    'ext_proc http_not_ok_resp_received': sum(/ext_proc\.http_not_ok_resp_received$/),
    'downstream_rq_active': sum(/^http\.(plain|switchboard)\.downstream_rq_active$/),
    'downstream_rq_5xx': sum(/^http\.(plain|switchboard)\.downstream_rq_5xx$/),
    'downstream_rq_timeout': sum(/^http\.(plain|switchboard)\.downstream_rq_timeout$/),
    'downstream_rq_idle_timeout': sum(/^http\.(plain|switchboard)\.downstream_rq_idle_timeout$/),
    'downstream_rq_overload_close': sum(/^http\.(plain|switchboard)\.downstream_rq_overload_close$/),
    'overload downstream_cx_overflow': sum(/downstream_cx_overflow$/),
  };
}

const GAUGES = new Set(['provider upstream_rq_active', 'provider upstream_cx_active', 'ext_proc cluster upstream_rq_active', 'ext_proc cluster upstream_cx_active', 'downstream_rq_active']);

interface ProcRef {
  label: string;
  pid: number;
}

interface MemProbe {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  spacesKiB: Record<string, number>;
}

function readProbe(dir: string, pid: number): MemProbe | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, `mem-${pid}.json`), 'utf8')) as MemProbe;
  } catch {
    return undefined;
  }
}

const MiB = (b: number) => Math.round((b / 1048576) * 10) / 10;

interface LevelResult {
  system: 'a' | 'b';
  level: number;
  chunkIntervalMs: number;
  streamMs: number;
  rampSec: number;
  settleSec: number;
  /** streams with a first chunk and still open, sampled each second of the hold */
  openAtClient: { min: number; max: number };
  openAtSimulator: { min: number; max: number };
  envoyDownstreamActive: { min: number; max: number };
  envoyProviderRqActive: { min: number; max: number };
  extprocRqActive: { min: number; max: number };
  /** the whole level (ramp, hold, drain) */
  client: ClientCounters;
  clientAtHoldEnd: ClientCounters;
  completedInLevel: number;
  errorsInLevel: Record<string, number>;
  /** ramp, settle and hold only (the drain's are errorsInLevel minus these) */
  errorsToHoldEnd: Record<string, number>;
  /** counter deltas from the level's start to the end of its hold */
  envoyToHoldEnd: Record<string, number>;
  firstChunkMs: ClientCounters['firstChunkMs'];
  /** counter deltas over the level; gauges at the end of the hold */
  envoy: Record<string, number>;
  /** non-zero deltas of every scraped counter whose name says overflow, timeout, failed or reset */
  envoyTrouble: Record<string, number>;
  rssMiB: Record<string, { peakHWM: number; maxVmRSS: number }>;
  /** VmRSS of each process after start-up, before any stream */
  idleRssMiB: Record<string, number>;
  workerHeapMiB: Record<string, { maxHeapUsed: number; maxHeapTotal: number; maxExternal: number; maxArrayBuffers: number; atHoldEnd?: MemProbe }>;
  cpuSec: Record<string, number>;
  simulator: { started: number; completed: number; aborted: number };
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) out[k] = GAUGES.has(k) ? v : v - (before[k] ?? 0);
  return out;
}

function diffCounts(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}

async function runSystem(system: 'a' | 'b', tmp: string, cleanups: (() => Promise<void> | void)[]): Promise<LevelResult[]> {
  const { c: sim, ready } = await forkRole('sim');
  cleanups.push(() => void sim.child.kill('SIGTERM'));
  const simPort = Number(ready.port);
  const simUrl = `http://127.0.0.1:${simPort}`;
  const procs: ProcRef[] = [{ label: 'simulator', pid: sim.child.pid as number }];
  const probeDir = path.join(tmp, `probe-${system}`);
  mkdirSync(probeDir, { recursive: true });
  let adminUrl: string;
  let url: string;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'switchboard-bench-streams' };
  const { startEnvoy, waitEnvoyReady } = await import('../envoy/launcher.ts');
  if (system === 'a') {
    const envoy = startEnvoy({ bootstrap: envoyAloneBootstrap({ nodeId: 'bench-streams-envoy-alone', listenPort: PORTS.envoyAlone, adminPort: PORTS.envoyAloneAdmin, simPort }), stateDir: path.join(tmp, 'envoy-alone'), adminPort: PORTS.envoyAloneAdmin, concurrency: 2, logLevel: 'error', stdio: 'ignore' });
    cleanups.push(() => envoy.stop());
    await waitEnvoyReady(envoy);
    procs.push({ label: 'envoy', pid: envoy.child.pid as number });
    adminUrl = envoy.adminUrl;
    url = `http://127.0.0.1:${PORTS.envoyAlone}`;
  } else {
    const { startGateway } = await import('../extproc/runtime/supervisor.ts');
    const { hashVirtualKey, generateVirtualKey } = await import('../extproc/auth/virtual-key.ts');
    const secret = 'bench-'.padEnd(48, 'x');
    const vk = generateVirtualKey();
    const stateDir = path.join(tmp, 'state');
    mkdirSync(stateDir, { recursive: true });
    const configFile = path.join(tmp, 'gateway.yaml');
    writeFileSync(configFile, simGatewayYaml({ ports: PORTS, workers: WORKERS, stateDir, simUrl, model: MODEL, keyHash: hashVirtualKey(vk, Buffer.from(secret)) }));
    const heapDir = path.join(outDir, 'heap');
    if (HEAPSNAPSHOT) mkdirSync(heapDir, { recursive: true });
    const nodeOptions = [env.NODE_OPTIONS ?? '', `--import=${path.join(benchDir, 'mem-probe.ts')}`, ...(HEAPSNAPSHOT ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapDir}`] : [])].join(' ').trim();
    const gw = await startGateway({ configFile, env: { ...env, SWITCHBOARD_KEY_HASH_SECRET: secret, BENCH_SIM_KEY: 'sk-sim-bench', BENCH_MEM_PROBE_DIR: probeDir, NODE_OPTIONS: nodeOptions }, quiet: true, envoyLogLevel: 'error' });
    cleanups.push(() => gw.stop());
    procs.push({ label: 'envoy', pid: gw.envoy.child.pid as number });
    gw.workers.forEach((w, i) => procs.push({ label: `worker ${i}`, pid: w.pid as number }));
    adminUrl = gw.envoy.adminUrl;
    url = gw.url;
    headers.authorization = `Bearer ${vk}`;
  }
  const workers = procs.filter((p) => p.label.startsWith('worker'));
  if (HEAPSNAPSHOT) {
    await sleep(3000);
    for (const w of workers) process.kill(w.pid, 'SIGUSR2');
    await sleep(5000);
  }
  const idle: Record<string, number> = {};
  for (const p of procs) idle[p.label] = rssMiB(p.pid);
  for (const w of workers) {
    const m = readProbe(probeDir, w.pid);
    if (m) log(`${system}: ${w.label} idle after start: VmRSS ${rssMiB(w.pid)} MiB, heapUsed ${MiB(m.heapUsed)} MiB, heapTotal ${MiB(m.heapTotal)}, external ${MiB(m.external)}, arrayBuffers ${MiB(m.arrayBuffers)}`);
  }

  const { c: client } = await forkRole('client');
  cleanups.push(() => void client.child.kill('SIGKILL'));
  procs.push({ label: 'client', pid: client.child.pid as number });
  await client.ask({ type: 'config', cfg: { url, path: '/v1/chat/completions', headers, body: chatBody({ model: MODEL, targetBytes: BODY_BYTES, stream: true }), connections: CLIENT === 'h2' ? CONNECTIONS : 0, client: CLIENT } satisfies ClientConfig }, 'configured');
  const snap = async (reset = false) => (await client.ask<{ counters: ClientCounters }>({ type: 'snapshot', reset }, 'snapshot')).counters;
  const simStats = async () => (await sim.ask<{ stats: { open: number; started: number; completed: number; aborted: number } }>({ type: 'stats' }, 'stats')).stats;

  // Smoke: a few streams answer (first chunk) before anything is measured.
  sim.child.send({ type: 'configure', holdMs: 2000, chunkIntervalMs: 500 });
  client.child.send({ type: 'target', target: 5, rampPerSec: 50 });
  const smokeEnd = performance.now() + 15_000;
  while (performance.now() < smokeEnd && (await snap()).completed < 5) await sleep(250);
  client.child.send({ type: 'target', target: 0 });
  let smoke = await snap();
  while (performance.now() < smokeEnd + 10_000 && smoke.inFlight > 0) {
    await sleep(250);
    smoke = await snap();
  }
  smoke = await snap(true);
  if (smoke.completed < 5) throw new Error(`system ${system}: smoke streams did not complete: ${JSON.stringify(smoke)}`);
  log(`${system}: smoke ok (5 short streams completed)`);

  const results: LevelResult[] = [];
  for (const level of LEVELS) {
    const rampSec = level / RAMP;
    const chunkIntervalMs = Math.max(1000, Math.round((level / CHUNK_RATE) * 1000));
    // Long enough that nothing ends before the hold does (a slow ramp included); the drain then
    // shortens it to "end at the next chunk", so every stream completes within one interval.
    const streamMs = Math.round((rampSec * 3 + HOLD_SEC + SETTLE_MAX_SEC + 30) * 1000);
    sim.child.send({ type: 'configure', holdMs: streamMs, chunkIntervalMs });
    const c0 = await snap(true);
    const s0 = keyStats(await envoyStats(adminUrl));
    const raw0 = await envoyStats(adminUrl);
    const sim0 = await simStats();
    const cpu0 = Object.fromEntries(procs.map((p) => [p.label, cpuSeconds(p.pid)]));
    log(`${system}: level ${level}: ramp at ${RAMP}/s (~${rampSec.toFixed(0)} s), a chunk every ${chunkIntervalMs} ms, streams last ${(streamMs / 1000).toFixed(0)} s`);
    const tRamp = performance.now();
    client.child.send({ type: 'target', target: level, rampPerSec: RAMP });
    let cur = await snap();
    while (cur.started - c0.started < level && cur.inFlight < level && performance.now() - tRamp < (rampSec * 3 + 30) * 1000) {
      await sleep(1000);
      cur = await snap();
      log(`${system}: ramp ${cur.started - c0.started}/${level} started, ${cur.open} open, ${cur.inFlight} in flight, errors ${JSON.stringify(diffCounts(cur.errors, c0.errors))}`);
    }
    const rampDone = performance.now();
    // Settle: every stream of the level has its first chunk (or failed).
    while (cur.open < cur.inFlight && performance.now() - rampDone < SETTLE_MAX_SEC * 1000) {
      await sleep(500);
      cur = await snap();
    }
    const settleSec = (performance.now() - rampDone) / 1000;
    log(`${system}: level ${level} reached: ${cur.open} open of ${cur.inFlight} in flight after ${((performance.now() - tRamp) / 1000).toFixed(1)} s; holding ${HOLD_SEC} s`);
    for (const p of procs) resetPeakRss(p.pid);
    const openC = { min: Infinity, max: 0 };
    const openS = { min: Infinity, max: 0 };
    const down = { min: Infinity, max: 0 };
    const up = { min: Infinity, max: 0 };
    const xp = { min: Infinity, max: 0 };
    const mm = (o: { min: number; max: number }, v: number) => {
      o.min = Math.min(o.min, v);
      o.max = Math.max(o.max, v);
    };
    const maxRss: Record<string, number> = {};
    const heap: LevelResult['workerHeapMiB'] = {};
    const holdEnd = performance.now() + HOLD_SEC * 1000;
    while (performance.now() < holdEnd) {
      await sleep(1000);
      const [cc, ss, es] = await Promise.all([snap(), simStats(), envoyStats(adminUrl).then(keyStats)]);
      mm(openC, cc.open);
      mm(openS, ss.open);
      mm(down, es.downstream_rq_active ?? 0);
      mm(up, es['provider upstream_rq_active'] ?? 0);
      mm(xp, es['ext_proc cluster upstream_rq_active'] ?? 0);
      for (const p of procs) maxRss[p.label] = Math.max(maxRss[p.label] ?? 0, rssMiB(p.pid));
      for (const w of workers) {
        const m = readProbe(probeDir, w.pid);
        if (!m) continue;
        const h = (heap[w.label] ??= { maxHeapUsed: 0, maxHeapTotal: 0, maxExternal: 0, maxArrayBuffers: 0 });
        h.maxHeapUsed = Math.max(h.maxHeapUsed, MiB(m.heapUsed));
        h.maxHeapTotal = Math.max(h.maxHeapTotal, MiB(m.heapTotal));
        h.maxExternal = Math.max(h.maxExternal, MiB(m.external));
        h.maxArrayBuffers = Math.max(h.maxArrayBuffers, MiB(m.arrayBuffers));
        h.atHoldEnd = m;
      }
    }
    const rss: LevelResult['rssMiB'] = {};
    for (const p of procs) rss[p.label] = { peakHWM: peakRssMiB(p.pid), maxVmRSS: maxRss[p.label] ?? 0 };
    const cHold = await snap();
    const rawHold = await envoyStats(adminUrl);
    const sHold = keyStats(rawHold);
    log(`${system}: level ${level} hold: open at client ${openC.min}-${openC.max}, simulator ${openS.min}-${openS.max}, Envoy downstream active ${down.min}-${down.max}; RSS ${Object.entries(rss).map(([k, v]) => `${k} ${v.peakHWM}`).join(', ')} MiB; heap ${Object.entries(heap).map(([k, v]) => `${k} used<=${v.maxHeapUsed} total<=${v.maxHeapTotal}`).join(', ')}`);
    if (HEAPSNAPSHOT) for (const w of workers) process.kill(w.pid, 'SIGUSR2');
    // Drain: no new streams; each open one ends normally ([DONE]) once it is as old as the
    // oldest is now, so they end in the order and at the rate they were opened (the ramp rate),
    // not all within one chunk interval (a burst of settles and audit writes is a throughput
    // test, not this one).
    client.child.send({ type: 'target', target: 0 });
    sim.child.send({ type: 'configure', holdMs: Math.max(1, performance.now() - tRamp - 2000) });
    const drainEnd = performance.now() + (performance.now() - tRamp) + chunkIntervalMs + 60_000;
    while (cur.inFlight > 0 && performance.now() < drainEnd) {
      await sleep(1000);
      cur = await snap();
    }
    const c1 = await snap();
    const s1 = keyStats(await envoyStats(adminUrl));
    const raw1 = await envoyStats(adminUrl);
    const sim1 = await simStats();
    // Envoy resets every finished ext_proc stream (RST_STREAM after the last answer): those tx
    // resets on the ext_proc cluster are the normal end of a stream, not trouble.
    const normalEnd = /^cluster\.switchboard_extproc[^.]*\.(http2\.tx_reset|upstream_rq_tx_reset)$/;
    const trouble = Object.fromEntries(Object.entries(diffCounts(raw1, raw0)).filter(([k]) => /overflow|timeout|failed|reset|fail|_5xx|overload/.test(k) && !/_active$/.test(k) && !normalEnd.test(k)));
    const r: LevelResult = {
      system,
      level,
      chunkIntervalMs,
      streamMs,
      rampSec: Math.round(((rampDone - tRamp) / 1000) * 10) / 10,
      settleSec: Math.round(settleSec * 10) / 10,
      openAtClient: openC,
      openAtSimulator: openS,
      envoyDownstreamActive: down,
      envoyProviderRqActive: up,
      extprocRqActive: xp,
      client: c1,
      clientAtHoldEnd: cHold,
      completedInLevel: c1.completed - c0.completed,
      errorsInLevel: diffCounts(c1.errors, c0.errors),
      errorsToHoldEnd: diffCounts(cHold.errors, c0.errors),
      envoyToHoldEnd: diff(sHold, s0),
      firstChunkMs: cHold.firstChunkMs,
      envoy: { ...diff(s1, s0), ...Object.fromEntries([...GAUGES].map((g) => [`${g} (end of hold)`, sHold[g] ?? 0])) },
      envoyTrouble: trouble,
      rssMiB: rss,
      idleRssMiB: idle,
      workerHeapMiB: heap,
      cpuSec: Object.fromEntries(procs.map((p) => [p.label, Math.round((cpuSeconds(p.pid) - (cpu0[p.label] ?? 0)) * 100) / 100])),
      simulator: { started: sim1.started - sim0.started, completed: sim1.completed - sim0.completed, aborted: sim1.aborted - sim0.aborted },
    };
    results.push(r);
    log(`${system}: level ${level} done: ${r.completedInLevel} completed, errors ${JSON.stringify(r.errorsInLevel)}, Envoy trouble ${JSON.stringify(trouble)}, still in flight ${c1.inFlight}`);
    if (c1.inFlight > 0) {
      log(`${system}: ${c1.inFlight} streams did not end within the drain bound; stopping this system`);
      break;
    }
  }
  await client.ask({ type: 'stop' }, 'stopped').catch(() => undefined);
  return results;
}

function markdown(machine: Record<string, unknown>, results: LevelResult[]): string {
  const L: string[] = [];
  L.push(`Run ${String(machine.date)}, commit ${String(machine.commit)}${(machine.uncommitted as string[]).length ? ` (+ uncommitted: ${(machine.uncommitted as string[]).join(', ')})` : ''}; ${String(machine.nproc)} cores; Envoy ${String(machine.envoy)}; Node ${String(machine.node)}; workers ${WORKERS}; client ${CLIENT === 'h2' ? `HTTP/2, ${CONNECTIONS} connections` : 'HTTP/1.1, one connection per stream'}; ramp ${RAMP}/s; hold ${HOLD_SEC} s; request body ${BODY_BYTES} B; load average at start ${(machine.loadavg as number[]).map((x) => x.toFixed(2)).join(' ')}.`);
  L.push('');
  L.push('| system | level | open at client (min-max over hold) | open at simulator | Envoy downstream_rq_active | ext_proc streams active | completed | errors to the end of the hold | errors in the drain | first chunk p50 / p99 ms | chunk every |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|');
  for (const r of results) {
    L.push(`| ${r.system} | ${r.level} | ${r.openAtClient.min}-${r.openAtClient.max} | ${r.openAtSimulator.min}-${r.openAtSimulator.max} | ${r.envoyDownstreamActive.min}-${r.envoyDownstreamActive.max} | ${r.system === 'b' ? `${r.extprocRqActive.min}-${r.extprocRqActive.max}` : '-'} | ${r.completedInLevel} | ${Object.keys(r.errorsToHoldEnd).length ? JSON.stringify(r.errorsToHoldEnd) : '0'} | ${Object.keys(diffCounts(r.errorsInLevel, r.errorsToHoldEnd)).length ? JSON.stringify(diffCounts(r.errorsInLevel, r.errorsToHoldEnd)) : '0'} | ${r.firstChunkMs.p50.toFixed(0)} / ${r.firstChunkMs.p99.toFixed(0)} | ${r.chunkIntervalMs / 1000} s |`);
  }
  L.push('');
  L.push('Envoy counters over each level (ramp + hold + drain; in brackets: to the end of the hold, where different):');
  L.push('');
  const keys = ['provider upstream_rq_pending_overflow', 'provider upstream_cx_overflow', 'provider upstream_rq_timeout', 'provider upstream_rq_rx_reset', 'ext_proc cluster upstream_rq_pending_overflow', 'ext_proc cluster upstream_cx_overflow', 'ext_proc streams_started', 'ext_proc streams_failed', 'ext_proc message_timeouts', 'ext_proc failure_mode_allowed', 'downstream_rq_5xx', 'downstream_rq_idle_timeout', 'overload downstream_cx_overflow'];
  L.push(`| system | level | ${keys.join(' | ')} | other non-zero overflow/timeout/fail/reset counters |`);
  L.push(`|---|---:|${keys.map(() => '---:').join('|')}|---|`);
  for (const r of results) L.push(`| ${r.system} | ${r.level} | ${keys.map((k) => ((r.envoy[k] ?? 0) !== (r.envoyToHoldEnd[k] ?? 0) ? `${r.envoy[k] ?? 0} (${r.envoyToHoldEnd[k] ?? 0})` : (r.envoy[k] ?? 0))).join(' | ')} | ${Object.keys(r.envoyTrouble).length ? JSON.stringify(r.envoyTrouble) : '-'} |`);
  L.push('');
  L.push('Memory during the hold (MiB): VmHWM since the hold started (clear_refs 5) / highest VmRSS sampled each second; worker heap from process.memoryUsage():');
  L.push('');
  L.push('| system | level | process | idle VmRSS after start | peak VmHWM | max VmRSS | heapUsed max | heapTotal max | external max | arrayBuffers max | CPU s over level |');
  L.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const idle = r.idleRssMiB;
    for (const [label, v] of Object.entries(r.rssMiB)) {
      const h = r.workerHeapMiB[label];
      L.push(`| ${r.system} | ${r.level} | ${label} | ${idle[label] ?? '-'} | ${v.peakHWM} | ${v.maxVmRSS} | ${h?.maxHeapUsed ?? '-'} | ${h?.maxHeapTotal ?? '-'} | ${h?.maxExternal ?? '-'} | ${h?.maxArrayBuffers ?? '-'} | ${r.cpuSec[label] ?? '-'} |`);
    }
  }
  return L.join('\n');
}

async function runOrchestrator(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const { findEnvoy } = await import('../envoy/launcher.ts');
  const machine = {
    date: new Date().toISOString(),
    nproc: sh('nproc'),
    envoy: sh(`${findEnvoy()} --version`).replace(/^.*version:\s*/, ''),
    node: process.version,
    commit: sh(`git -C ${repoRoot} rev-parse --short HEAD`),
    uncommitted: sh(`git -C ${repoRoot} diff HEAD --name-only`).split('\n').filter(Boolean),
    loadavg: os.loadavg(),
    nofile: sh('sh -c "ulimit -n; ulimit -Hn"').split('\n'),
    settings: { LEVELS, SYSTEMS, RAMP, HOLD_SEC, CHUNK_RATE, CONNECTIONS, CLIENT, BODY_BYTES, WORKERS },
  };
  log(`${machine.nproc} cores, envoy ${machine.envoy}, node ${machine.node}, nofile soft/hard ${machine.nofile.join('/')}, load ${machine.loadavg.map((x) => x.toFixed(2)).join(' ')}`);
  const results: LevelResult[] = [];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sb-streams-'));
  try {
    for (const system of SYSTEMS) {
      const cleanups: (() => Promise<void> | void)[] = [];
      try {
        results.push(...(await runSystem(system, tmp, cleanups)));
      } finally {
        for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    const stamp = machine.date.replace(/[:.]/g, '-');
    writeFileSync(path.join(outDir, `streams-${stamp}.json`), JSON.stringify({ machine, results }, null, 1));
    const md = markdown(machine, results);
    writeFileSync(path.join(outDir, 'streams.md'), md);
    console.log(md);
  }
  if (HEAPSNAPSHOT) log(`heap snapshots: ${readdirSync(path.join(outDir, 'heap')).join(', ')}`);
}

if (argRole === 'sim') await runSim();
else if (argRole === 'client') runClient();
else if (argRole === 'orchestrator') {
  // SIGTERM from the wrapper: cleanups run in the finally blocks via the thrown-away promise.
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    log('SIGTERM: exiting; the wrapper kills the process group');
    process.exit(143);
  });
  runOrchestrator().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`bench:streams failed: ${(err as Error).stack ?? String(err)}`);
      process.exit(1);
    },
  );
} else runWrapper();
