// The fallback benchmark: "a fallback costs the failed attempt's own time plus at most 1 ms".
// `npm run bench:fallback` (= node bench/fallback.ts).
//
// One open-loop request stream (Poisson arrivals), interleaved over these classes, every cycle of
// seven holding each class once in a seeded random order:
//   gw oo fail   gateway, chain pri(openai) -> fbo(openai);    primary fails -> 2 attempts
//   gw oo ok     same chain, primary answers                   -> 1 attempt
//   gw oa fail   gateway, chain pri(openai) -> fba(anthropic); primary fails -> 2 attempts
//   gw oa ok     same chain, primary answers                   -> 1 attempt
//   gw an direct gateway, chain fba(anthropic) only            -> 1 attempt (baseline for oa fail)
//   envoy fail   Envoy alone, the gateway's own oo chain cluster, route and retry policy with the
//                ext_proc filters taken out; primary fails     -> 2 attempts
//   envoy ok     same, primary answers                         -> 1 attempt
// Interleaving keeps drift on this shared machine out of the differences, and makes every chain's
// primary alternate between failing and answering, so outlier detection (5 consecutive 5xx)
// never ejects it.
//
// The failure is the request's own: the client sets `x-bench-fail: 1`, the gateway forwards it
// upstream untouched, and only the primary simulator honours it (after BENCH_FB_FAIL_MS, with
// BENCH_FB_FAIL_STATUS). Every request carries `x-bench-seq: i`; both simulators (one process, two
// ports, one clock) record each request's service time by it, so each sample is checked against
// what really happened: the gateway's `x-sb-attempts` / `x-sb-provider` (Envoy alone:
// `x-envoy-attempt-count` and the target header), and which simulator saw it with which status.
// A sample that does not match its class is counted, shown, and left out of the percentiles.
//
// Added cost of a fallback, reported two ways:
//   brief:      pX(fail) - pX(ok) - F, with F = the median time the primary simulator spent on
//               its failures (configured delay + timer jitter), at X = 50, 90, 99
//   per request: non-provider time = client latency - simulator time of every attempt of that
//               request; cost = pX(non-provider, fail) - pX(non-provider, ok)
// plus the retry gap: fallback simulator's request arrival - primary simulator's 500 handed to the
// socket (Envoy's retry decision + back-off + upstream ext_proc round trip + connection).
//
// Options (env): BENCH_FB_RATE (50 rps, all classes together), BENCH_FB_SEC (120),
// BENCH_FB_WARMUP_SEC (5), BENCH_FB_LATENCY_MS (20, both simulators), BENCH_FB_FAIL_MS (20),
// BENCH_FB_FAIL_STATUS (500), BENCH_FB_WORKERS (1), BENCH_FB_NO_FLOOR=1 (skip Envoy alone),
// BENCH_FB_ARRIVALS (poisson | uniform), BENCH_FB_SEED (42), BENCH_FB_PREPARED_STEPS (gateway default),
// BENCH_FB_TRACE=1 (load bench/fallback-trace.ts into the workers: the upstream filter handler's
// own time on attempt 2 and the workers' event-loop delay).
// Output: a table on stdout, bench/out/fallback.json. Exits non-zero on any setup error; every
// child process (Envoy x2, the worker(s), simulators, load generator) is stopped on every path.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { findEnvoy, startEnvoy, waitEnvoyReady, type EnvoyProcess } from '../envoy/launcher.ts';
import { buildBootstrap, CHAIN_HEADER } from '../envoy/bootstrap.ts';
import { bootstrapPlan } from '../envoy/plan.ts';
import { startSimProvider, type SimTiming } from './sim-provider.ts';
import { freePort } from '../test/helpers/ports.ts';
import { cpuSeconds, machineCpu } from './procstat.ts';
import { mulberry32 } from '../test/fixtures/guardrails/corpus.ts';
import { chatBody } from './lib/chat-body.ts';
import { isAlive, stopChild } from './lib/processes.ts';
import { gitChanged, sh } from './lib/shell.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const outDir = path.join(benchDir, 'out');
const env = process.env;
const num = (name: string, d: number) => (env[name] ? Number(env[name]) : d);

const RATE = num('BENCH_FB_RATE', 50);
const DURATION_SEC = num('BENCH_FB_SEC', 120);
const WARMUP_SEC = num('BENCH_FB_WARMUP_SEC', 5);
const LATENCY_MS = num('BENCH_FB_LATENCY_MS', 20);
const FAIL_MS = num('BENCH_FB_FAIL_MS', 20);
const FAIL_STATUS = num('BENCH_FB_FAIL_STATUS', 500);
const WORKERS = num('BENCH_FB_WORKERS', 1);
const FLOOR = !env.BENCH_FB_NO_FLOOR;
const TRACE = !!env.BENCH_FB_TRACE;
// server.preparedFallbacks.steps for the gateway (default: the gateway's own default, 1); 0 sends
// every fallback through the upstream ext_proc filter, as before prepared fallbacks existed.
const PREPARED_STEPS = env.BENCH_FB_PREPARED_STEPS !== undefined ? Number(env.BENCH_FB_PREPARED_STEPS) : undefined;
const TIMEOUT_MS = 10_000;
// Arrivals: 'poisson' (exponential gaps, seeded) or 'uniform' (exactly 1000 / RATE ms apart).
const ARRIVALS = env.BENCH_FB_ARRIVALS === 'uniform' ? 'uniform' : 'poisson';
const SEED = num('BENCH_FB_SEED', 42);

/**
 * performance.now() + monoOffset = the machine-wide monotonic clock (what process.hrtime reads)
 * in ms: comparable across our processes, unlike performance.timeOrigin, which was off by
 * milliseconds between the simulators and the load generator.
 */
const monoOffset = Number(process.hrtime.bigint()) / 1e6 - performance.now();

/** Due offsets (ms) of `n` requests at RATE: open loop, nothing waits for an answer. */
function arrivals(n: number): number[] {
  if (ARRIVALS === 'uniform') return Array.from({ length: n }, (_, i) => (i * 1000) / RATE);
  const rnd = mulberry32(SEED + 1);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    out.push(t);
    t += (-Math.log(1 - rnd()) * 1000) / RATE;
  }
  return out;
}
const TARGET_MS = 1;

const FAIL_HEADER = 'x-bench-fail';
const SEQ_HEADER = 'x-bench-seq';
const PRIMARY = 'pri/gpt-4o-mini';
const FB_OPENAI = 'fbo/gpt-4o';
const FB_ANTHROPIC = 'fba/claude-sonnet-4-5';

// ---- classes ----------------------------------------------------------------------------------
interface Expect {
  /** attempts as "target:status", in order: what the simulators must have seen for this request */
  attempts: { sim: 'primary' | 'fallback'; target: string; status: number }[];
}
interface ClassSpec {
  name: string;
  system: 'gw' | 'floor';
  model: string;
  fail: boolean;
  expect: Expect;
}
const okAt = (target: string, sim: 'primary' | 'fallback' = 'primary'): Expect => ({ attempts: [{ sim, target, status: 200 }] });
const failThen = (fallback: string): Expect => ({ attempts: [{ sim: 'primary', target: PRIMARY, status: FAIL_STATUS }, { sim: 'fallback', target: fallback, status: 200 }] });
const CLASSES: ClassSpec[] = [
  { name: 'gw oo fail', system: 'gw', model: 'fb-oo', fail: true, expect: failThen(FB_OPENAI) },
  { name: 'gw oo ok', system: 'gw', model: 'fb-oo', fail: false, expect: okAt(PRIMARY) },
  { name: 'gw oa fail', system: 'gw', model: 'fb-oa', fail: true, expect: failThen(FB_ANTHROPIC) },
  { name: 'gw oa ok', system: 'gw', model: 'fb-oa', fail: false, expect: okAt(PRIMARY) },
  { name: 'gw an direct', system: 'gw', model: 'fb-an', fail: false, expect: okAt(FB_ANTHROPIC, 'fallback') },
  ...(FLOOR
    ? [
        { name: 'envoy fail', system: 'floor', model: 'fb-oo', fail: true, expect: failThen(FB_OPENAI) } as ClassSpec,
        { name: 'envoy ok', system: 'floor', model: 'fb-oo', fail: false, expect: okAt(PRIMARY) } as ClassSpec,
      ]
    : []),
];

// ---- the load generator (a child process) --------------------------------------------------------
interface LoadPlan {
  origins: { gw: string; floor: string };
  requests: { system: 'gw' | 'floor'; headers: Record<string, string>; body: string }[];
  /** request i is due at t0 + dueMs[i] */
  dueMs: number[];
  timeoutMs: number;
}
interface Sample {
  status: number;
  /** ms from the due time to the end of the response (-1: no answer) */
  latency: number;
  lag: number;
  /** when the request was due, on the machine-wide monotonic clock (ms, see monoOffset) */
  dueEpoch: number;
  attempts: string;
  provider: string;
  envoyAttempts: string;
  target: string;
  error?: string;
}

async function runLoadPlan(plan: LoadPlan): Promise<Sample[]> {
  const pools = {
    gw: new Pool(plan.origins.gw, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: plan.timeoutMs, bodyTimeout: plan.timeoutMs }),
    floor: new Pool(plan.origins.floor || 'http://127.0.0.1:9', { connections: 64, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: plan.timeoutMs, bodyTimeout: plan.timeoutMs }),
  };
  const total = plan.requests.length;
  const samples: Sample[] = Array.from({ length: total }, () => ({ status: 0, latency: -1, lag: 0, dueEpoch: 0, attempts: '', provider: '', envoyAttempts: '', target: '' }));
  const t0 = performance.now() + 20;
  const due = (i: number) => t0 + plan.dueMs[i]!;
  let done = 0;
  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((r) => (allDone = r));
  const fire = (i: number) => {
    const spec = plan.requests[i]!;
    const s = samples[i]!;
    const scheduled = due(i);
    s.lag = performance.now() - scheduled;
    s.dueEpoch = monoOffset + scheduled;
    const body = Buffer.from(spec.body);
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      s.latency = performance.now() - scheduled;
      if (err) s.error = `${err.name}: ${err.message}`;
      if (++done === total) allDone();
    };
    pools[spec.system].dispatch(
      { origin: spec.system === 'gw' ? plan.origins.gw : plan.origins.floor, path: '/v1/chat/completions', method: 'POST', headers: { ...spec.headers, 'content-length': String(body.length) }, body },
      {
        onConnect() {},
        onHeaders(statusCode: number, raw: Buffer[]) {
          s.status = statusCode;
          for (let k = 0; k + 1 < raw.length; k += 2) {
            const name = raw[k]!.toString('latin1').toLowerCase();
            const value = raw[k + 1]!.toString('latin1');
            if (name === 'x-sb-attempts') s.attempts = value;
            else if (name === 'x-sb-provider') s.provider = value;
            else if (name === 'x-envoy-attempt-count') s.envoyAttempts = value;
            else if (name === 'x-sb-upstream-target') s.target = value;
          }
          return true;
        },
        onData() {
          return true;
        },
        onComplete() {
          finish();
        },
        onError(err: Error) {
          finish(err);
        },
      } as unknown as Parameters<Pool['dispatch']>[1],
    );
  };
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && due(next) <= now) fire(next++);
      if (next >= total) return resolve();
      const wait = due(next) - performance.now();
      if (wait > 1.5) setTimeout(tick, Math.floor(wait - 0.5));
      else setImmediate(tick);
    };
    setTimeout(tick, 15);
  });
  await Promise.race([finished, new Promise((r) => setTimeout(r, plan.timeoutMs + 1000))]);
  await Promise.all([pools.gw.destroy().catch(() => undefined), pools.floor.destroy().catch(() => undefined)]);
  for (const s of samples) if (s.latency < 0) s.error ??= 'unanswered at the deadline';
  return samples;
}

// ---- the simulators (a child process: two ports, one clock) ----------------------------------------
async function runSims(): Promise<void> {
  const common = { latencyMs: LATENCY_MS, timingHeader: SEQ_HEADER, anthropic: true };
  const primary = await startSimProvider({ ...common, failHeader: FAIL_HEADER, failStatus: FAIL_STATUS, failDelayMs: FAIL_MS });
  const fallback = await startSimProvider(common);
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'timings') process.send?.({ type: 'timings', origin: monoOffset, primary: primary.timings(true), fallback: fallback.timings(true) });
    if (m?.type === 'clear') {
      primary.timings(true);
      fallback.timings(true);
      process.send?.({ type: 'cleared' });
    }
  });
  const stop = () => void Promise.all([primary.stop(), fallback.stop()]).then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.on('disconnect', stop); // die with the orchestrator
  process.send?.({ type: 'ready', primary: primary.port, fallback: fallback.port });
}

// ---- orchestration ---------------------------------------------------------------------------------
const children: { label: string; pid: number; kill: () => Promise<void> }[] = [];

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of children.splice(0).reverse()) await c.kill().catch(() => undefined);
  })();
  return cleaning;
}

function forkRole(role: 'sims' | 'load', label: string): Promise<{ child: ChildProcess; msg: Record<string, unknown> }> {
  const child = fork(fileURLToPath(import.meta.url), ['--role', role], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push({ label, pid: child.pid as number, kill: () => stopChild(child) });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${label} exited during start-up (${code})`));
    child.once('exit', onExit);
    child.once('message', (msg: Record<string, unknown>) => {
      child.off('exit', onExit);
      resolve({ child, msg });
    });
  });
}

function request<T>(child: ChildProcess, msg: Record<string, unknown>, replyType: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${replyType} from child within ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before sending ${replyType}`));
    };
    child.once('exit', onExit);
    const on = (m: { type?: string }) => {
      if (m?.type !== replyType) return;
      clearTimeout(timer);
      child.off('message', on);
      child.off('exit', onExit);
      resolve(m as T);
    };
    child.on('message', on);
    child.send(msg);
  });
}

function gatewayYaml(ports: { listen: number; admin: number; envoyAdmin: number }, stateDir: string, primaryUrl: string, fallbackUrl: string, keyHash: string): string {
  return `server:
  listener: { host: 127.0.0.1, port: ${ports.listen} }
  admin: { host: 127.0.0.1, port: ${ports.admin} }
  envoyAdmin: { host: 127.0.0.1, port: ${ports.envoyAdmin} }
  workers: ${WORKERS}
  stateDir: ${stateDir}
  drainTimeoutMs: 2000
${PREPARED_STEPS !== undefined ? `  preparedFallbacks: { steps: ${PREPARED_STEPS} }\n` : ''}providers:
  pri: { type: openai, baseUrl: ${primaryUrl}/v1, keys: [{ id: k1, secret: { env: BENCH_SIM_KEY } }] }
  fbo: { type: openai, baseUrl: ${fallbackUrl}/v1, keys: [{ id: k1, secret: { env: BENCH_SIM_KEY } }] }
  fba: { type: anthropic, baseUrl: ${fallbackUrl}, keys: [{ id: k1, secret: { env: BENCH_SIM_KEY } }] }
models:
  fb-oo: { targets: [{ provider: pri, model: gpt-4o-mini }], fallbacks: [{ provider: fbo, model: gpt-4o }] }
  fb-oa: { targets: [{ provider: pri, model: gpt-4o-mini }], fallbacks: [{ provider: fba, model: claude-sonnet-4-5 }] }
  fb-an: { targets: [{ provider: fba, model: claude-sonnet-4-5 }] }
virtualKeys:
  - { id: vk-bench, name: bench, hash: ${keyHash} }
pricing: { unknownPricePolicy: allow-at-zero }
`;
}

type Json = Record<string, unknown>;
const asObj = (v: unknown) => v as Json;
const asArr = (v: unknown) => v as Json[];

/**
 * Envoy alone with the gateway's own chain cluster, route and retry policy: the gateway's
 * bootstrap with every Switchboard piece taken out (ext_proc filters, the prepared-fallback filters). The client names the chain with the route
 * header that the router-level filter would have set.
 */
function floorBootstrap(gwBootstrap: Json, ports: { listen: number; admin: number }, fallbackTarget: string): { bootstrap: Json; chainHeaderValue: string; retryPolicy: unknown } {
  const b = structuredClone(gwBootstrap);
  asObj(b.node).id = 'bench-fallback-floor';
  b.admin = { address: { socket_address: { address: '127.0.0.1', port_value: ports.admin } } };
  const sr = asObj(b.static_resources);
  const clusters = asArr(sr.clusters);
  const targetOf = (ep: Json) => String((ep.metadata as { filter_metadata?: { switchboard?: { target?: string } } } | undefined)?.filter_metadata?.switchboard?.target ?? '');
  const chain = clusters.find((c) => {
    const groups = asArr(asObj(c.load_assignment)?.endpoints ?? []);
    const targets = groups.map((g) => targetOf(asArr(g.lb_endpoints)[0] ?? {}));
    return targets.length === 2 && targets[0] === PRIMARY && targets[1] === fallbackTarget;
  });
  if (!chain) throw new Error(`no chain cluster ${PRIMARY} -> ${fallbackTarget} in the gateway bootstrap`);
  const proto = asObj(asObj(chain.typed_extension_protocol_options)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']);
  // Only the upstream codec stays: the step header, the Lua filter and ext_proc are Switchboard's.
  proto.http_filters = asArr(proto.http_filters).filter((f) => f.name === 'envoy.filters.http.upstream_codec');
  sr.clusters = [chain];
  const listener = asArr(sr.listeners)[0]!;
  listener.name = 'floor';
  listener.address = { socket_address: { address: '127.0.0.1', port_value: ports.listen } };
  const hcm = asObj(asArr(asObj(asArr(listener.filter_chains)[0]).filters)[0]!.typed_config);
  hcm.stat_prefix = 'floor';
  hcm.http_filters = asArr(hcm.http_filters).filter((f) => f.name === 'envoy.filters.http.router');
  const router = asObj(asArr(hcm.http_filters)[0]!.typed_config);
  delete router.upstream_log; // the access-log service lives in the workers
  const vh = asArr(asObj(hcm.route_config).virtual_hosts)[0]!;
  const route = asArr(vh.routes).find((r) => asObj(r.route)?.cluster === chain.name);
  if (!route) throw new Error(`no route to ${String(chain.name)}`);
  vh.routes = [route];
  const match = asArr(asObj(route.match).headers)[0]!;
  const chainHeaderValue = String(asObj(match.string_match).exact);
  if (match.name !== CHAIN_HEADER) throw new Error(`unexpected route match on ${String(match.name)}`);
  return { bootstrap: b, chainHeaderValue, retryPolicy: asObj(route.route).retry_policy };
}

// ---- statistics -------------------------------------------------------------------------------------
interface Pct {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}
function pct(values: number[]): Pct {
  if (!values.length) return { n: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = Float64Array.from(values).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  let sum = 0;
  for (const v of s) sum += v;
  return { n: s.length, p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(s[s.length - 1] as number), mean: r(sum / s.length) };
}

interface ClassResult {
  name: string;
  system: 'gw' | 'floor';
  fail: boolean;
  sent: number;
  matched: number;
  mismatched: number;
  mismatchExamples: string[];
  /** what the first matching sample's response said about its attempts */
  attemptsHeader: string;
  latency: Pct;
  /** simulator time summed over the request's attempts */
  simTime: Pct;
  /** latency - simulator time of every attempt */
  nonProvider: Pct;
  /** due time -> first simulator receives the request (two processes, one monotonic clock) */
  toFirstAttempt: Pct;
  /** last simulator's response handed to the socket -> client has the whole response */
  afterLastAttempt: Pct;
  /** fail classes: what the primary spent on its failure */
  primaryFailMs?: Pct;
  /** fail classes: fallback arrival - primary's failure handed to the socket */
  retryGap?: Pct;
  sendLag: Pct;
}

interface WorkerTrace {
  handleMs: number[];
  eventLoopDelayMs: Record<string, number>;
}

interface SimReport {
  origin: number;
  primary: SimTiming[];
  fallback: SimTiming[];
}

function analyse(samples: Sample[], classOf: (i: number) => number, warmup: number, { origin, primary, fallback }: SimReport): ClassResult[] {
  const bySeq = new Map<string, { sim: 'primary' | 'fallback'; t: SimTiming }[]>();
  for (const [sim, list] of [['primary', primary], ['fallback', fallback]] as const) {
    for (const t of list) {
      const arr = bySeq.get(t.tag) ?? [];
      arr.push({ sim, t });
      bySeq.set(t.tag, arr);
    }
  }
  return CLASSES.map((cls, c) => {
    const lat: number[] = [];
    const simT: number[] = [];
    const nonProv: number[] = [];
    const failMs: number[] = [];
    const gaps: number[] = [];
    const pre: number[] = [];
    const post: number[] = [];
    const lags: number[] = [];
    const examples: string[] = [];
    let sent = 0;
    let bad = 0;
    let attemptsHeader = '';
    for (let i = warmup; i < samples.length; i++) {
      if (classOf(i) !== c) continue;
      sent++;
      const s = samples[i]!;
      lags.push(s.lag);
      const seen = (bySeq.get(String(i)) ?? []).sort((a, b) => a.t.at - b.t.at);
      const problems: string[] = [];
      if (s.error) problems.push(s.error);
      if (s.status !== 200) problems.push(`status ${s.status}`);
      const exp = cls.expect.attempts;
      const seenStr = seen.map((x) => `${x.sim}:${x.t.status}`).join(',');
      const expStr = exp.map((x) => `${x.sim}:${x.status}`).join(',');
      if (seenStr !== expStr) problems.push(`simulators saw ${seenStr || 'nothing'}, expected ${expStr}`);
      const last = exp[exp.length - 1]!;
      if (cls.system === 'gw') {
        const attempts = s.attempts.split(',').filter(Boolean);
        const okShape = attempts.length === exp.length && exp.every((e, k) => (k === exp.length - 1 ? attempts[k] === `${e.target}:${e.status}` : attempts[k]?.startsWith(e.target)));
        if (!okShape) problems.push(`x-sb-attempts "${s.attempts}"`);
        if (s.provider !== last.target.split('/')[0]) problems.push(`x-sb-provider "${s.provider}"`);
      } else {
        if (s.envoyAttempts !== String(exp.length)) problems.push(`x-envoy-attempt-count "${s.envoyAttempts}"`);
        if (s.target !== last.target) problems.push(`target "${s.target}"`);
      }
      if (problems.length) {
        bad++;
        if (examples.length < 5) examples.push(`#${i}: ${problems.join('; ')}`);
        continue;
      }
      attemptsHeader ||= cls.system === 'gw' ? `x-sb-attempts: ${s.attempts}` : `x-envoy-attempt-count: ${s.envoyAttempts}, target ${s.target}`;
      const simSum = seen.reduce((sum, x) => sum + x.t.ms, 0);
      const first = seen[0]!.t;
      const lastSeen = seen[seen.length - 1]!.t;
      pre.push(origin + first.at - s.dueEpoch);
      post.push(s.dueEpoch + s.latency - (origin + lastSeen.at + lastSeen.ms));
      lat.push(s.latency);
      simT.push(simSum);
      nonProv.push(s.latency - simSum);
      if (cls.fail) {
        const p = seen[0]!.t;
        const f = seen[1]!.t;
        failMs.push(p.ms);
        gaps.push(f.at - (p.at + p.ms));
      }
    }
    return {
      name: cls.name,
      system: cls.system,
      fail: cls.fail,
      sent,
      matched: lat.length,
      mismatched: bad,
      mismatchExamples: examples,
      attemptsHeader,
      latency: pct(lat),
      simTime: pct(simT),
      nonProvider: pct(nonProv),
      toFirstAttempt: pct(pre),
      afterLastAttempt: pct(post),
      ...(cls.fail ? { primaryFailMs: pct(failMs), retryGap: pct(gaps) } : {}),
      sendLag: pct(lags),
    };
  });
}

interface Cost {
  label: string;
  failClass: string;
  baseClass: string;
  /** median time the primary spent on its failures */
  F: number;
  /** pX(fail) - pX(base) - F */
  brief: { p50: number; p90: number; p99: number };
  /** pX(non-provider, fail) - pX(non-provider, base) */
  perRequest: { p50: number; p90: number; p99: number };
  retryGap: Pct;
}

function cost(label: string, results: ClassResult[], failClass: string, baseClass: string): Cost | undefined {
  const f = results.find((r) => r.name === failClass);
  const b = results.find((r) => r.name === baseClass);
  if (!f || !b || !f.primaryFailMs || !f.retryGap) return undefined;
  const F = f.primaryFailMs.p50;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  const q = ['p50', 'p90', 'p99'] as const;
  return {
    label,
    failClass,
    baseClass,
    F,
    brief: Object.fromEntries(q.map((k) => [k, r(f.latency[k] - b.latency[k] - F)])) as Cost['brief'],
    perRequest: Object.fromEntries(q.map((k) => [k, r(f.nonProvider[k] - b.nonProvider[k])])) as Cost['perRequest'],
    retryGap: f.retryGap,
  };
}

/**
 * Envoy's ext_proc stream counters: the upstream filter's streams (stats of the chain clusters,
 * one per retry that reached it) against the router-level filter's (one per request).
 */
async function extProcStreams(adminUrl: string): Promise<{ upstreamFilter: number; routerFilter: number }> {
  const res = await fetch(`${adminUrl}/stats?format=json&filter=${encodeURIComponent('ext_proc\\.streams_started$')}`);
  const json = (await res.json()) as { stats?: { name?: string; value?: number }[] };
  let upstreamFilter = 0;
  let routerFilter = 0;
  for (const st of json.stats ?? []) {
    if (st.name?.startsWith('cluster.')) upstreamFilter += st.value ?? 0;
    else if (st.name?.startsWith('http.')) routerFilter += st.value ?? 0;
  }
  return { upstreamFilter, routerFilter };
}

const f2 = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n.toFixed(2) : '-');

function markdown(machine: Json & { loadavgAtStart: number[]; loadavgAtEnd: number[] }, results: ClassResult[], costs: Cost[], retryPolicy: unknown,
  streams: { upstreamFilter: number; routerFilter: number; fallbacksSent: number; gatewaySent: number },
  workerTrace?: { worker: number; upstreamFilterHandleMs: Pct; eventLoopDelayMs: Record<string, number> }[],
): string {
  const L: string[] = [];
  L.push(`### Fallback cost (${String(machine.date)}, commit ${String(machine.commit)})`);
  L.push('');
  L.push(
    `${String(machine.nproc)} cores (${String(machine.cpuModel)}), Envoy ${String(machine.envoy)}, Node ${String(machine.node)}, Switchboard workers ${WORKERS}; load average at start ${machine.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}, at end ${machine.loadavgAtEnd.map((x) => x.toFixed(2)).join(' ')}; CPU during the run: ours ${f2(asObj(machine.cpu).oursCores as number)} cores, other users' ${f2(asObj(machine.cpu).foreignCores as number)} cores.`,
  );
  L.push(
    `Open loop ${RATE} rps (${ARRIVALS} arrivals, seed ${SEED}) for ${DURATION_SEC} s (+${WARMUP_SEC} s warm-up), ${CLASSES.length} classes interleaved (each cycle of ${CLASSES.length} in a seeded random order); ~4 KB OpenAI chat body; simulator latency L = ${LATENCY_MS} ms; the primary fails marked requests with ${FAIL_STATUS} after F = ${FAIL_MS} ms (configured).`,
  );
  L.push(`Retry policy (gateway and Envoy alone): \`${JSON.stringify(retryPolicy)}\``);
  L.push('');
  L.push(`Prepared fallbacks (server.preparedFallbacks.steps): ${PREPARED_STEPS ?? '1 (default)'}${PREPARED_STEPS === 0 ? ': every fallback is translated by the upstream ext_proc filter' : ': a fallback is applied by Envoy\'s Lua upstream filter'}.`);
  L.push('');
  L.push('| class | samples | mismatched | latency p50 | p90 | p99 | max | simulator time p50 | non-provider p50 | p90 | p99 | due -> 1st attempt p50 | last attempt -> client p50 | primary failure F p50 / p99 | retry gap p50 / p90 / p99 |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    L.push(
      `| ${r.name} | ${r.matched} | ${r.mismatched} | ${f2(r.latency.p50)} | ${f2(r.latency.p90)} | ${f2(r.latency.p99)} | ${f2(r.latency.max)} | ${f2(r.simTime.p50)} | ${f2(r.nonProvider.p50)} | ${f2(r.nonProvider.p90)} | ${f2(r.nonProvider.p99)} | ${f2(r.toFirstAttempt.p50)} | ${f2(r.afterLastAttempt.p50)} | ${r.primaryFailMs ? `${f2(r.primaryFailMs.p50)} / ${f2(r.primaryFailMs.p99)}` : ''} | ${r.retryGap ? `${f2(r.retryGap.p50)} / ${f2(r.retryGap.p90)} / ${f2(r.retryGap.p99)}` : ''} |`,
    );
  }
  L.push('');
  L.push(`Attempts as the responses report them (first sample of each class): ${results.map((r) => `${r.name}: \`${r.attemptsHeader}\``).join('; ')}.`);
  L.push('');
  L.push('All times in ms. Non-provider = client latency minus the simulator time of every attempt of that request. Retry gap = fallback simulator receives the request minus primary simulator handed its failure to the socket.');
  L.push('');
  L.push(`Added cost of a fallback (target <= ${TARGET_MS} ms):`);
  L.push('');
  L.push('| comparison | F (primary, measured p50) | pX(fail) - pX(base) - F: p50 / p90 / p99 | per request, non-provider: p50 / p90 / p99 | p50 target met |');
  L.push('|---|---:|---:|---:|---|');
  for (const c of costs) {
    const met = c.brief.p50 <= TARGET_MS && c.perRequest.p50 <= TARGET_MS;
    L.push(`| ${c.label} | ${f2(c.F)} | ${f2(c.brief.p50)} / ${f2(c.brief.p90)} / ${f2(c.brief.p99)} | ${f2(c.perRequest.p50)} / ${f2(c.perRequest.p90)} / ${f2(c.perRequest.p99)} | ${met ? 'yes' : 'no'} |`);
  }
  L.push('');
  L.push(
    `Envoy's ext_proc streams over the whole run (smoke and warm-up included): upstream filter ${streams.upstreamFilter} for ${streams.fallbacksSent} gateway requests marked to fail; router-level filter ${streams.routerFilter} for ${streams.gatewaySent} gateway requests.`,
  );
  for (const t of workerTrace ?? []) {
    const h = t.upstreamFilterHandleMs;
    const d = t.eventLoopDelayMs;
    L.push(
      `Worker ${t.worker}: upstream filter handler on attempt 2 (request_headers message in -> answer out, JS only) p50 ${f2(h.p50)} / p90 ${f2(h.p90)} / p99 ${f2(h.p99)} ms over ${h.n}; event-loop delay p50 ${f2(d.p50)} / p90 ${f2(d.p90)} / p99 ${f2(d.p99)} / max ${f2(d.max)} ms.`,
    );
  }
  const bad = results.filter((r) => r.mismatched);
  if (bad.length) {
    L.push('');
    L.push('Samples that did not match their class (left out of the percentiles):');
    for (const r of bad) L.push(`- ${r.name}: ${r.mismatched} of ${r.sent}; ${r.mismatchExamples.join(' | ')}`);
  }
  return L.join('\n');
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-fb-'));
  children.push({ label: 'temp dir', pid: 0, kill: async () => rmSync(tmp, { recursive: true, force: true }) });
  const machine = {
    date: new Date().toISOString(),
    nproc: sh('nproc'),
    cpuModel: /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '?',
    envoy: sh(`${findEnvoy()} --version`).replace(/^.*version:\s*/, ''),
    node: process.version,
    commit: sh(`git -C ${repoRoot} rev-parse --short HEAD`),
    uncommitted: gitChanged(repoRoot),
    loadavgAtStart: os.loadavg(),
    loadavgAtEnd: [] as number[],
    cpu: {} as Record<string, number>,
  };
  console.error(`bench:fallback: ${machine.cpuModel}, ${machine.nproc} cores, envoy ${machine.envoy}, node ${machine.node}, load avg ${machine.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}`);

  const { child: sims, msg: simPorts } = await forkRole('sims', 'simulators');
  const primaryUrl = `http://127.0.0.1:${Number(simPorts.primary)}`;
  const fallbackUrl = `http://127.0.0.1:${Number(simPorts.fallback)}`;

  const { startGateway } = await import('../extproc/runtime/supervisor.ts');
  const { hashVirtualKey, generateVirtualKey } = await import('../extproc/auth/virtual-key.ts');
  const secret = 'bench-'.padEnd(48, 'x');
  const vk = generateVirtualKey();
  const ports = { listen: await freePort(), admin: await freePort(), envoyAdmin: await freePort() };
  const configFile = path.join(tmp, 'gateway.yaml');
  writeFileSync(configFile, gatewayYaml(ports, path.join(tmp, 'state'), primaryUrl, fallbackUrl, hashVirtualKey(vk, Buffer.from(secret, 'utf8'))));
  const gwEnv: NodeJS.ProcessEnv = { ...env, SWITCHBOARD_KEY_HASH_SECRET: secret, BENCH_SIM_KEY: 'sk-sim-bench' };
  if (TRACE) gwEnv.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(path.join(benchDir, 'fallback-trace.ts')).href}`.trim();
  const gw = await startGateway({ configFile, env: gwEnv, quiet: true, envoyLogLevel: 'error' });
  children.push({ label: 'gateway', pid: gw.envoy.child.pid as number, kill: () => gw.stop() });
  const pids: { label: string; pid: number }[] = [
    { label: 'simulators', pid: sims.pid as number },
    { label: 'gateway envoy', pid: gw.envoy.child.pid as number },
    ...gw.workers.map((w, i) => ({ label: `worker ${i}`, pid: w.pid as number })),
  ];

  const gwBootstrap = buildBootstrap(bootstrapPlan(gw.config, { workers: gw.config.server.workers, accessLog: true }));
  const floorPorts = { listen: await freePort(), admin: await freePort() };
  const floor = floorBootstrap(gwBootstrap, floorPorts, FB_OPENAI);
  let floorEnvoy: EnvoyProcess | undefined;
  if (FLOOR) {
    floorEnvoy = startEnvoy({ bootstrap: floor.bootstrap, stateDir: path.join(tmp, 'floor'), adminPort: floorPorts.admin, concurrency: 2, logLevel: 'error', stdio: 'ignore' });
    const fe = floorEnvoy;
    children.push({ label: 'envoy alone', pid: fe.child.pid as number, kill: () => fe.stop() });
    pids.push({ label: 'envoy alone', pid: fe.child.pid as number });
    await waitEnvoyReady(fe);
  }
  const origins = { gw: gw.url, floor: FLOOR ? `http://127.0.0.1:${floorPorts.listen}` : '' };

  // Each cycle of CLASSES.length requests holds every class once, in a seeded random order, so a
  // chain's primary never fails more than twice in a row (outlier detection ejects at 5), and no
  // class keeps a fixed phase against another class's retries and answers (with arrivals 20 ms
  // apart and F = L = 20 ms, a fixed order lined every fail class up with the same neighbours).
  const rnd = mulberry32(SEED);
  const order: number[] = [];
  const classOf = (i: number) => {
    while (order.length <= i) {
      const cycle = CLASSES.map((_, k) => k);
      for (let k = cycle.length - 1; k > 0; k--) {
        const j = Math.floor(rnd() * (k + 1));
        [cycle[k], cycle[j]] = [cycle[j]!, cycle[k]!];
      }
      order.push(...cycle);
    }
    return order[i]!;
  };
  const bodies = new Map(['fb-oo', 'fb-oa', 'fb-an'].map((m) => [m, chatBody({ model: m, targetBytes: 4096 })]));
  const requestFor = (i: number): LoadPlan['requests'][number] => {
    const cls = CLASSES[classOf(i)]!;
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${vk}`, 'user-agent': 'switchboard-bench', [SEQ_HEADER]: String(i) };
    if (cls.fail) headers[FAIL_HEADER] = '1';
    if (cls.system === 'floor') headers[CHAIN_HEADER] = floor.chainHeaderValue;
    return { system: cls.system, headers, body: bodies.get(cls.model)! };
  };

  // Smoke: one request per class, sequentially, must be exactly what its class says.
  {
    const { child: load } = await forkRole('load', 'load generator (smoke)');
    const n = CLASSES.length * 2;
    const plan: LoadPlan = { origins, requests: Array.from({ length: n }, (_, i) => requestFor(i)), dueMs: Array.from({ length: n }, (_, i) => i * 200), timeoutMs: TIMEOUT_MS };
    const { samples } = await request<{ samples: Sample[] }>(load, { type: 'run', plan }, 'result', 60_000);
    const smoke = analyse(samples, classOf, 0, await request<SimReport>(sims, { type: 'timings' }, 'timings', 10_000));
    const broken = smoke.filter((r) => r.mismatched);
    if (broken.length) throw new Error(`smoke test failed: ${broken.map((r) => `${r.name}: ${r.mismatchExamples.join(' | ')}`).join('; ')}`);
    console.error('smoke: every class answered as expected');
  }
  const traces = () => Promise.all(gw.workers.map((w) => request<WorkerTrace>(w, { type: 'bench-fallback-trace' }, 'bench-fallback-trace', 10_000)));
  if (TRACE) await traces(); // start over after the smoke requests

  const warmup = Math.round(RATE * WARMUP_SEC);
  const total = warmup + Math.round(RATE * DURATION_SEC);
  console.error(`load: ${total} requests at ${RATE} rps (${warmup} warm-up), ${CLASSES.length} classes interleaved`);
  const { child: load } = await forkRole('load', 'load generator');
  pids.push({ label: 'load generator', pid: load.pid as number });
  const plan: LoadPlan = { origins, requests: Array.from({ length: total }, (_, i) => requestFor(i)), dueMs: arrivals(total), timeoutMs: TIMEOUT_MS };
  // Everyone else's CPU during the run (this machine is shared): machine busy minus our processes.
  // The load generator has exited by the end: it reports its own CPU with the samples.
  const ourCpu = () => pids.filter((p) => p.label !== 'load generator').reduce((sum, p) => sum + cpuSeconds(p.pid), 0) + (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
  const m0 = machineCpu();
  const c0 = ourCpu();
  const w0 = performance.now();
  const { samples, cpuSec: loadCpuSec } = await request<{ samples: Sample[]; cpuSec: number }>(load, { type: 'run', plan }, 'result', (total / RATE) * 1000 + TIMEOUT_MS + 30_000);
  const simReport = await request<SimReport>(sims, { type: 'timings' }, 'timings', 10_000);
  const workerTrace = TRACE
    ? (await traces()).map((t, i) => ({ worker: i, upstreamFilterHandleMs: pct(t.handleMs), eventLoopDelayMs: t.eventLoopDelayMs }))
    : undefined;
  machine.loadavgAtEnd = os.loadavg();
  const windowSec = (performance.now() - w0) / 1000;
  const ours = ourCpu() - c0 + loadCpuSec;
  const cpu = { windowSec: Math.round(windowSec), oursCores: Math.round((ours / windowSec) * 100) / 100, foreignCores: Math.round(((machineCpu().busy - m0.busy - ours) / windowSec) * 100) / 100 };
  machine.cpu = cpu;
  console.error(`cpu over the run: ours ${cpu.oursCores} cores, everyone else ${cpu.foreignCores} cores (of ${machine.nproc})`);
  const sentTo = (pred: (c: ClassSpec) => boolean, n: number) => Array.from({ length: n }, (_, i) => CLASSES[classOf(i)]!).filter(pred).length;
  const streams = {
    ...(await extProcStreams(gw.envoy.adminUrl)),
    fallbacksSent: sentTo((c) => c.system === 'gw' && c.fail, CLASSES.length * 2) + sentTo((c) => c.system === 'gw' && c.fail, total),
    gatewaySent: sentTo((c) => c.system === 'gw', CLASSES.length * 2) + sentTo((c) => c.system === 'gw', total),
  };

  const results = analyse(samples, classOf, warmup, simReport);
  const costs = [
    cost('gateway, openai -> openai (base: gw oo ok)', results, 'gw oo fail', 'gw oo ok'),
    cost('gateway, openai -> anthropic (base: gw oa ok)', results, 'gw oa fail', 'gw oa ok'),
    cost('gateway, openai -> anthropic (base: gw an direct)', results, 'gw oa fail', 'gw an direct'),
    cost('Envoy alone, same chain and retry policy (floor)', results, 'envoy fail', 'envoy ok'),
  ].filter((c): c is Cost => c !== undefined);
  const md = markdown(machine, results, costs, floor.retryPolicy, streams, workerTrace);
  const summary = {
    machine,
    options: { arrivals: ARRIVALS, seed: SEED, rate: RATE, durationSec: DURATION_SEC, warmupSec: WARMUP_SEC, latencyMs: LATENCY_MS, failMs: FAIL_MS, failStatus: FAIL_STATUS, workers: WORKERS, floor: FLOOR, targetMs: TARGET_MS },
    retryPolicy: floor.retryPolicy,
    extProcStreams: streams,
    ...(workerTrace ? { workerTrace } : {}),
    classes: results,
    costs,
  };
  writeFileSync(path.join(outDir, 'fallback.json'), JSON.stringify(summary, null, 1));
  console.log(md);

  await cleanup();
  await new Promise((r) => setTimeout(r, 300));
  const left = pids.filter((p) => isAlive(p.pid));
  for (const p of left) process.kill(p.pid, 'SIGKILL');
  if (left.length) console.error(`killed leftovers: ${left.map((p) => `${p.label} (${p.pid})`).join(', ')}`);
}

// ---- entry ---------------------------------------------------------------------------------------
const roleAt = process.argv.indexOf('--role');
const role = roleAt > 0 ? process.argv[roleAt + 1] : undefined;
if (role === 'sims') {
  await runSims();
} else if (role === 'load') {
  process.once('message', (m: { type?: string; plan?: LoadPlan }) => {
    if (m?.type !== 'run' || !m.plan) process.exit(2);
    const c0 = process.cpuUsage();
    void runLoadPlan(m.plan).then(
      (samples) => {
        const c = process.cpuUsage(c0);
        process.send?.({ type: 'result', samples, cpuSec: (c.user + c.system) / 1e6 }, () => process.exit(0));
      },
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready' });
} else {
  const bail = (code: number) => () => void cleanup().then(() => process.exit(code));
  process.once('SIGINT', bail(130));
  process.once('SIGTERM', bail(143));
  main().then(
    () => process.exit(0),
    async (err: unknown) => {
      console.error(`bench:fallback failed: ${(err as Error).stack ?? String(err)}`);
      await cleanup();
      process.exit(1);
    },
  );
}
