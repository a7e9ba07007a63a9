// Starts the Portkey gateway (installed by bench/peers/install.ts) on 127.0.0.1 with its own
// Node entry point, in front of the bench simulator.
//
// - Routing per request, with Portkey's documented headers: `x-portkey-provider: openai` and
//   `x-portkey-custom-host: <simulator>/v1` (127.0.0.1 is in its default trusted custom hosts);
//   the bearer token is passed on to the provider as its API key.
// - `--headless` and NODE_ENV=production: no console UI, no /log/stream (what its production
//   Docker image runs); no Redis (REDIS_CONNECTION_STRING unset): in-memory caches only.
// - One process: the Node build has no cluster mode (Portkey scales by running more replicas).
//   Run with this project's Node 24.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/ports.ts';
import { stopGroup } from '../lib/processes.ts';
import { tail, waitReady, type PeerGateway } from './common.ts';
import { PORTKEY_ENTRY, PORTKEY_VERSION } from './install.ts';

export async function startPortkey(opts: { simUrl: string }): Promise<PeerGateway> {
  const port = await freePort();
  const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'portkey-server.ts'), [`--port=${port}`, '--headless'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      PORTKEY_ENTRY,
    },
  });
  const output = tail(child);
  child.stdout?.resume();
  child.stderr?.resume();
  const url = `http://127.0.0.1:${port}`;
  const peer: PeerGateway = {
    system: 'p-portkey',
    label: `Portkey ${PORTKEY_VERSION}`,
    version: PORTKEY_VERSION,
    url,
    path: '/v1/chat/completions',
    headers: { authorization: 'Bearer sk-sim-bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${opts.simUrl}/v1` },
    settings: { processes: 1, node: process.version, nodeEnv: 'production', headless: true, redis: 'none', routing: 'x-portkey-provider: openai + x-portkey-custom-host' },
    rootPid: child.pid as number,
    stop: async () => {
      if (child.connected) child.disconnect();
      await stopGroup(child, 5000);
    },
  };
  try {
    await waitReady(child, 'Portkey', 60_000, async () => (await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) })).status === 200, output);
  } catch (err) {
    await peer.stop();
    throw err;
  }
  return peer;
}
