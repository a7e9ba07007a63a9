// `switchboard start` as a user runs it: prints the URL once Envoy and the workers are up, stops
// cleanly on SIGTERM, and exits non-zero naming the process that died.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/ports.ts';
import { TEST_KEY_HASH_SECRET } from '../helpers/gateway.ts';

const cli = path.resolve('extproc/cli.ts');

async function startCli(): Promise<{ child: ChildProcess; output: () => string; url: string; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-cli-'));
  const [port, admin, envoyAdmin] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    path.join(dir, 'gateway.yaml'),
    `server: { listener: { port: ${port} }, admin: { port: ${admin} }, envoyAdmin: { port: ${envoyAdmin} }, stateDir: ${dir}/state, drainTimeoutMs: 2000 }
providers:
  openai: { type: openai, baseUrl: http://127.0.0.1:9, keys: [{ id: k, secret: { env: UNSET_PROVIDER_KEY_FOR_TEST } }] }
models:
  gpt-4o-mini: { targets: [{ provider: openai, model: gpt-4o-mini }] }
`,
  );
  const child = spawn(process.execPath, [cli, 'start', '-c', path.join(dir, 'gateway.yaml')], { env: { ...process.env, SWITCHBOARD_KEY_HASH_SECRET: TEST_KEY_HASH_SECRET }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 30_000;
  while (!out.includes('serving on') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  if (!out.includes('serving on')) throw new Error(`gateway did not start:\n${out}`);
  return { child, output: () => out, url: `http://127.0.0.1:${port}`, dir };
}

const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

test('start prints the URL, serves, and stops cleanly on SIGTERM', async () => {
  const { child, output, url, dir } = await startCli();
  try {
    expect(output()).toContain(`serving on ${url}`);
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('start exits non-zero, naming the process, when a worker dies', async () => {
  const { child, output, dir } = await startCli();
  try {
    const workerPid = Number(/"pid":(\d+).*"worker":0/.exec(output())?.[1] ?? NaN);
    // The worker logs its pid with its listening line; kill it from outside like an OOM would.
    expect(Number.isFinite(workerPid)).toBe(true);
    process.kill(workerPid, 'SIGKILL');
    expect(await exitOf(child)).toBe(1);
    expect(output()).toMatch(/ext_proc worker 0 died/);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('validate names the path and the problem', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-cli-'));
  try {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'providers:\n  openai: { type: openia }\nmodels:\n  m: { targets: [{ provider: nope, model: x }] }\n');
    const child = spawn(process.execPath, [cli, 'validate', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    expect(await exitOf(child)).toBe(1);
    expect(out).toContain('providers.openai.type');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
