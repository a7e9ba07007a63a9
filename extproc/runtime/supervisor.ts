// `switchboard start`: validates gateway.yaml, forks the ext_proc workers, generates the Envoy
// bootstrap and runs Envoy, reports the URL, reloads on config edits, and stops everything
// cleanly on Ctrl-C / SIGTERM. If any child dies, it says which and exits non-zero.
import { fork, type ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, ConfigError } from '../config/load.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { buildBootstrap } from '../../envoy/bootstrap.ts';
import { bootstrapPlan } from '../../envoy/plan.ts';
import { startEnvoy, waitEnvoyReady, type EnvoyProcess } from '../../envoy/launcher.ts';
import { ensureKeyHashSecret } from './secrets.ts';
import { KEY_HASH_SECRET_ENV } from '../auth/virtual-key.ts';
import { relayMetrics } from '../admin/cluster-metrics.ts';

/** How long the previous Envoy keeps serving its open connections after a hot restart. */
const DRAIN_SECONDS = 2;

const workerEntry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker-main.ts');

export interface GatewayHandle {
  url: string;
  config: GatewayConfig;
  envoy: EnvoyProcess;
  workers: ChildProcess[];
  reload(): Promise<boolean>;
  stop(): Promise<void>;
  /** Resolves with a reason when a child process dies unexpectedly. */
  died: Promise<string>;
}

export interface StartOptions {
  configFile: string;
  env?: NodeJS.ProcessEnv;
  /** Silence children (tests). */
  quiet?: boolean;
  envoyLogLevel?: string;
}

/**
 * V8 flags for the workers. Without a cap, V8 sizes the young generation from the machine's
 * memory: on a 23 GiB host a worker's heap reached 185 MiB committed for ~70-100 MiB of live and
 * dead objects with 1,000 open streams (270 MiB RSS); 8 MiB semi-spaces kept it at 80-95 MiB
 * committed (186-210 MiB RSS) with no CPU difference we could measure on a shared 2-core host
 * (bench/streams.ts). An explicit flag on the command line or in NODE_OPTIONS wins.
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = (flag: string) => execArgv.some((a) => a.startsWith(flag)) || nodeOptions.includes(flag);
  return [...execArgv, ...(given('--max-semi-space-size') ? [] : ['--max-semi-space-size=8'])];
}

/**
 * glibc gives every thread that allocates its own malloc arena (up to 8 per core) and rarely
 * returns their free pages: two arenas cut a worker's RSS by ~15-20 MiB at 1,000 open streams
 * (bench/streams.ts). An explicit MALLOC_ARENA_MAX in the environment wins.
 */
export function workerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { MALLOC_ARENA_MAX: '2', ...env };
}

function forkWorker(configFile: string, index: number, env: NodeJS.ProcessEnv, quiet: boolean): Promise<ChildProcess> {
  const child = fork(workerEntry, ['--config', configFile, '--worker', String(index)], { env: workerEnv(env), execArgv: workerExecArgv(process.execArgv, env.NODE_OPTIONS ?? ''), stdio: quiet ? ['ignore', 'ignore', 'inherit', 'ipc'] : 'inherit' });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`ext_proc worker ${index} exited during start-up (code ${code})`));
    child.once('exit', onExit);
    child.on('message', (m: { type?: string }) => {
      if (m?.type === 'ready') {
        child.off('exit', onExit);
        resolve(child);
      }
    });
  });
}

export async function startGateway(opts: StartOptions): Promise<GatewayHandle> {
  const config = loadConfigFile(opts.configFile);
  const stateDir = path.resolve(config.server.stateDir);
  const { secret } = ensureKeyHashSecret(stateDir, opts.env ?? process.env);
  const env = { ...(opts.env ?? process.env), [KEY_HASH_SECRET_ENV]: secret };
  const quiet = opts.quiet ?? false;
  const workers = await Promise.all(Array.from({ length: config.server.workers }, (_, i) => forkWorker(opts.configFile, i, env, quiet)));
  // Attempt outcomes reach one worker through Envoy's access log; the others hear them from here.
  workers.forEach((w, i) =>
    w.on('message', (m: { type?: string }) => {
      if (m?.type === 'attempts') workers.forEach((other, j) => j !== i && other.connected && other.send(m));
    }),
  );
  // /metrics on the admin port sums every worker's registry.
  relayMetrics(workers);
  const bootstrapFor = (current: GatewayConfig, previous?: GatewayConfig) =>
    buildBootstrap(bootstrapPlan(current, { workers: current.server.workers, accessLog: true, alsoChainsOf: previous }));
  let epoch = 0;
  const launch = (bootstrap: Record<string, unknown>) =>
    startEnvoy({
      bootstrap,
      stateDir,
      adminPort: config.server.envoyAdmin.port,
      adminHost: config.server.envoyAdmin.host,
      logLevel: opts.envoyLogLevel ?? (quiet ? 'error' : 'warn'),
      concurrency: 2,
      stdio: quiet ? 'ignore' : 'inherit',
      // The listener port names this gateway's shared-memory region, so two gateways on one host never collide.
      hotRestart: { baseId: config.server.listener.port, epoch, drainSeconds: DRAIN_SECONDS, parentShutdownSeconds: Math.ceil(config.server.requestTimeoutMs / 1000) + DRAIN_SECONDS },
    });
  let bootstrap = bootstrapFor(config);
  let envoy: EnvoyProcess;
  try {
    envoy = launch(bootstrap);
    await waitEnvoyReady(envoy);
  } catch (err) {
    for (const w of workers) w.kill('SIGKILL');
    throw err;
  }

  let stopping = false;
  let resolveDied: (why: string) => void = () => undefined;
  const died = new Promise<string>((resolve) => (resolveDied = resolve));
  const watchEnvoy = (e: EnvoyProcess) =>
    e.child.once('exit', (code, signal) => {
      if (!stopping && e === handle.envoy) resolveDied(`envoy died (${signal ?? `exit code ${code}`})`);
    });
  workers.forEach((w, i) => w.once('exit', (code, signal) => !stopping && resolveDied(`ext_proc worker ${i} died (${signal ?? `exit code ${code}`})`)));

  const handle: GatewayHandle = {
    url: `http://${config.server.listener.host}:${config.server.listener.port}`,
    config,
    envoy,
    workers,
    async reload() {
      const previous = handle.config;
      let next: GatewayConfig;
      try {
        next = loadConfigFile(opts.configFile);
        if (JSON.stringify(next.server) !== JSON.stringify(previous.server)) throw new Error('server: listener, ports, workers and limits apply at the next start, not on reload');
      } catch (err) {
        console.error(`switchboard: config change rejected, keeping the running configuration:\n${(err as Error).message}`);
        return false;
      }
      // New chains need new Envoy clusters: hot-restart Envoy first, with the old and the new
      // chains both present, so requests decided under either config find their route.
      const nextBootstrap = bootstrapFor(next, previous);
      if (JSON.stringify(nextBootstrap) !== JSON.stringify(bootstrap)) {
        epoch += 1;
        const fresh = launch(nextBootstrap);
        try {
          await waitEnvoyReady(fresh, 20_000, epoch);
          // Connections still open on the previous Envoy reach only the old routes until it has
          // drained them; the workers keep deciding old chains (present in both) until then.
          await new Promise((r) => setTimeout(r, DRAIN_SECONDS * 1000 + 250));
        } catch (err) {
          epoch -= 1;
          console.error(`switchboard: the new Envoy configuration did not start (${(err as Error).message}); keeping the running one`);
          await fresh.stop();
          return false;
        }
        bootstrap = nextBootstrap;
        handle.envoy = fresh;
        watchEnvoy(fresh);
      }
      handle.config = next;
      const acks = workers.map((w) => new Promise<void>((resolve) => {
        const on = (m: { type?: string }) => {
          if (m?.type === 'reloaded') {
            w.off('message', on);
            resolve();
          }
        };
        w.on('message', on);
      }));
      for (const w of workers) w.send({ type: 'reload' });
      await Promise.race([Promise.all(acks), new Promise((r) => setTimeout(r, 5000))]);
      return true;
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      await handle.envoy.stop();
      await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
        if (w.exitCode !== null || w.signalCode !== null) return resolve();
        w.once('exit', () => resolve());
        w.kill('SIGTERM');
        setTimeout(() => w.kill('SIGKILL'), config.server.drainTimeoutMs).unref();
      })));
    },
    died,
  };
  watchEnvoy(envoy);
  return handle;
}

/** Runs until a signal or a child's death; the CLI's `start`. */
export async function runGateway(opts: StartOptions & { watchConfig?: boolean }): Promise<number> {
  let gw: GatewayHandle;
  try {
    gw = await startGateway(opts);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `switchboard: failed to start: ${(err as Error).message}`);
    return 1;
  }
  console.log(`switchboard: serving on ${gw.url} (OpenAI: ${gw.url}/v1, Anthropic: ${gw.url}/v1/messages, Gemini: ${gw.url}/v1beta)`);
  if (opts.watchConfig !== false) {
    let timer: NodeJS.Timeout | undefined;
    watch(opts.configFile, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void gw.reload().then((ok) => ok && console.log('switchboard: configuration reloaded')), 200);
    });
  }
  const signal = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const why = await Promise.race([signal.then((s) => ({ kind: 'signal' as const, s })), gw.died.then((s) => ({ kind: 'died' as const, s }))]);
  if (why.kind === 'died') console.error(`switchboard: ${why.s}; stopping`);
  else console.log(`switchboard: ${why.s} received, draining`);
  await gw.stop();
  return why.kind === 'died' ? 1 : 0;
}
