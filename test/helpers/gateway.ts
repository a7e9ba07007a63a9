// Starts the real thing for an integration test: the supervisor, forked ext_proc workers and the
// Envoy binary, on free loopback ports, with a gateway.yaml written to a temp directory.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGateway, type GatewayHandle } from '../../extproc/runtime/supervisor.ts';
import { generateVirtualKey, hashVirtualKey } from '../../extproc/auth/virtual-key.ts';
import { freePort } from './ports.ts';

export const TEST_KEY_HASH_SECRET = 'switchboard-test-secret-0123456789abcdef';

export function newVirtualKey(): { key: string; hash: string } {
  const key = generateVirtualKey();
  return { key, hash: hashVirtualKey(key, Buffer.from(TEST_KEY_HASH_SECRET, 'utf8')) };
}

export interface TestGateway {
  gw: GatewayHandle;
  url: string;
  dir: string;
  /** Envoy's admin interface (stats, config dump). */
  envoyAdminUrl: string;
  configFile: string;
  writeConfig(yaml: string): void;
  stop(): Promise<void>;
}

/** `body` is the gateway.yaml without its server section; the harness adds ports and state dir. */
/** `server`: extra lines for the server section, e.g. `preparedFallbacks: { steps: 1 }`. */
export async function startTestGateway(body: string, opts: { env?: Record<string, string>; workers?: number; server?: string } = {}): Promise<TestGateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-it-'));
  const [listen, admin, envoyAdmin] = [await freePort(), await freePort(), await freePort()];
  const server = `server:\n  listener: { host: 127.0.0.1, port: ${listen} }\n  admin: { host: 127.0.0.1, port: ${admin} }\n  envoyAdmin: { host: 127.0.0.1, port: ${envoyAdmin} }\n  workers: ${opts.workers ?? 1}\n  stateDir: ${dir}/state\n  drainTimeoutMs: 2000\n${opts.server ? `  ${opts.server}\n` : ''}`;
  const configFile = path.join(dir, 'gateway.yaml');
  const writeConfig = (yaml: string) => writeFileSync(configFile, server + yaml);
  writeConfig(body);
  const gw = await startGateway({
    configFile,
    quiet: !process.env.SB_TEST_VERBOSE,
    ...(process.env.SB_ENVOY_LOG ? { envoyLogLevel: process.env.SB_ENVOY_LOG } : {}),
    env: { ...process.env, SWITCHBOARD_KEY_HASH_SECRET: TEST_KEY_HASH_SECRET, ...(opts.env ?? {}) },
  });
  return {
    gw,
    url: gw.url,
    envoyAdminUrl: `http://127.0.0.1:${envoyAdmin}`,
    dir,
    configFile,
    writeConfig,
    async stop() {
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
