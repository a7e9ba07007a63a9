// Starts the LiteLLM proxy (installed by bench/peers/install.ts) on 127.0.0.1, in front of the
// bench simulator, with LiteLLM's documented production settings:
//
// - config.yaml: one model_list entry, `gpt-4o-mini` -> `openai/gpt-4o-mini` at the simulator's
//   /v1 with a dummy key; `general_settings.master_key` set (the production checklist's first
//   item), no database (so no spend logs, no key table: the cheapest path LiteLLM has);
//   `litellm_settings`: request_timeout 600, set_verbose off, no callbacks.
// - LITELLM_LOG=ERROR (uvicorn at error level: no access log line per request),
//   LITELLM_MODE=PRODUCTION (no .env loading), LITELLM_LOCAL_MODEL_COST_MAP=True (the bundled
//   price map, no fetch at start-up), `--telemetry False`.
// - Workers: LiteLLM's docs recommend one Uvicorn worker per pod scaled horizontally, and
//   `--num_workers` (one per CPU) when several share one machine. This machine runs the whole
//   gateway on one box and Envoy gets `--concurrency 2`, so LiteLLM gets one worker per core
//   (BENCH_LITELLM_WORKERS, default nproc) on its default server (Uvicorn + uvloop).
//
// Its whole process tree (the Uvicorn supervisor and its worker processes) is one process group,
// stopped as one; a watchdog thread in the supervisor ends the group if the bench dies.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/helpers/ports.ts';
import { stopGroup } from '../lib/processes.ts';
import { tail, waitReady, type PeerGateway } from './common.ts';
import { LITELLM_DIR, LITELLM_VERSION } from './install.ts';

export interface LiteLLMOptions {
  /** The simulator's base URL (http://127.0.0.1:PORT). */
  simUrl: string;
  model: string;
  /** Where config.yaml is written. */
  workDir: string;
  workers?: number;
}

// Runs LiteLLM's own CLI entry point (what the `litellm` console script calls) in-process, after
// starting a thread that ends the process group once the bench (our parent) is gone.
const WRAPPER = `
import os, signal, sys, threading, time
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(1)
    os.killpg(0, signal.SIGTERM)
threading.Thread(target=watch, daemon=True).start()
from litellm.proxy.proxy_cli import run_server
sys.argv = ['litellm'] + sys.argv[1:]
run_server()
`;

export async function startLiteLLM(opts: LiteLLMOptions): Promise<PeerGateway> {
  const workers = opts.workers ?? Number(process.env.BENCH_LITELLM_WORKERS ?? os.availableParallelism());
  const port = await freePort();
  const masterKey = 'sk-bench-litellm-master-key';
  mkdirSync(opts.workDir, { recursive: true });
  const configFile = path.join(opts.workDir, 'litellm-config.yaml');
  writeFileSync(
    configFile,
    `model_list:
  - model_name: ${opts.model}
    litellm_params:
      model: openai/${opts.model}
      api_base: ${opts.simUrl}/v1
      api_key: sk-sim-bench
general_settings:
  master_key: ${masterKey}
  disable_spend_logs: true
  disable_error_logs: true
  proxy_batch_write_at: 60
litellm_settings:
  request_timeout: 600
  set_verbose: false
  telemetry: false
  callbacks: []
  success_callback: []
  failure_callback: []
`,
  );
  const args = ['--config', configFile, '--host', '127.0.0.1', '--port', String(port), '--num_workers', String(workers), '--telemetry', 'False'];
  const child = spawn(path.join(LITELLM_DIR, 'bin', 'python'), ['-c', WRAPPER, ...args], {
    cwd: opts.workDir,
    detached: true, // its own process group: stopped as one
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: `${path.join(LITELLM_DIR, 'bin')}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? opts.workDir,
      VIRTUAL_ENV: LITELLM_DIR,
      LITELLM_LOG: 'ERROR',
      LITELLM_MODE: 'PRODUCTION',
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      PYTHONUNBUFFERED: '1',
    },
  });
  const output = tail(child);
  // Drain the pipes for the whole run (a full pipe would block the proxy).
  child.stdout?.resume();
  child.stderr?.resume();
  const url = `http://127.0.0.1:${port}`;
  const peer: PeerGateway = {
    system: 'p-litellm',
    label: `LiteLLM ${LITELLM_VERSION}`,
    version: LITELLM_VERSION,
    url,
    path: '/v1/chat/completions',
    headers: { authorization: `Bearer ${masterKey}` },
    settings: { server: 'uvicorn + uvloop (LiteLLM default)', workers, database: 'none', masterKey: 'set', logLevel: 'ERROR', mode: 'PRODUCTION', telemetry: false, callbacks: 'none', localModelCostMap: true, requestTimeoutSec: 600 },
    rootPid: child.pid as number,
    stop: () => stopGroup(child, 10_000),
  };
  try {
    // Liveness of the first worker up; the bench's warm-up reaches the others.
    await waitReady(child, 'LiteLLM', 300_000, async () => (await fetch(`${url}/health/liveliness`, { signal: AbortSignal.timeout(2000) })).status === 200, output);
  } catch (err) {
    await peer.stop();
    throw err;
  }
  return peer;
}
