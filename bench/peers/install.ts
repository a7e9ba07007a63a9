// Installs the two peer gateways the benchmark compares against, into bench/.peers/ (git-ignored),
// never as project dependencies:
//
//   bench/.peers/litellm   a Python venv with `litellm[proxy]` at LITELLM_VERSION
//   bench/.peers/portkey   an npm prefix with `@portkey-ai/gateway` at PORTKEY_VERSION
//
// Idempotent: each peer writes a marker (.bench-installed) naming its version once its install has
// succeeded and been checked; a later call with the same pin does nothing.
//
// `node bench/peers/install.ts [--force]` runs it on its own; bench/run.ts calls installPeers().
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The newest LiteLLM whose requirements resolve from the package index reachable here: every
 * release from 1.103.8 on requires certifi>=2026.10.19, which the index does not have (its newest
 * certifi is 2026.10.18). Override with BENCH_LITELLM_VERSION.
 */
export const LITELLM_VERSION = process.env.BENCH_LITELLM_VERSION ?? '1.103.7';
/** The newest published version. Override with BENCH_PORTKEY_VERSION. */
export const PORTKEY_VERSION = process.env.BENCH_PORTKEY_VERSION ?? '1.15.2';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PEERS_DIR = path.join(benchDir, '.peers');
export const LITELLM_DIR = path.join(PEERS_DIR, 'litellm');
export const PORTKEY_DIR = path.join(PEERS_DIR, 'portkey');
/** The `litellm` console script inside the venv. */
export const LITELLM_BIN = path.join(LITELLM_DIR, 'bin', 'litellm');
/** Portkey's Node entry point (what its `start:node` script runs). */
export const PORTKEY_ENTRY = path.join(PORTKEY_DIR, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');

const MARKER = '.bench-installed';

function installedVersion(dir: string): string | undefined {
  try {
    return readFileSync(path.join(dir, MARKER), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function run(cmd: string, args: string[], opts: { cwd?: string; log: (s: string) => void }): string {
  opts.log(`  $ ${[cmd, ...args].join(' ')}`);
  return execFileSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60_000 });
}

function python(): string {
  for (const candidate of [process.env.BENCH_PYTHON, 'python3', 'python'].filter((x): x is string => !!x)) {
    try {
      execFileSync(candidate, ['-c', 'import sys, venv; assert sys.version_info >= (3, 9)'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error('LiteLLM needs Python >= 3.9 with the venv module (apt-get install python3-venv), or BENCH_PYTHON=/path/to/python3');
}

export function installLiteLLM(opts: { force?: boolean; log?: (s: string) => void } = {}): { version: string; bin: string } {
  const log = opts.log ?? ((s: string) => console.error(s));
  if (!opts.force && installedVersion(LITELLM_DIR) === LITELLM_VERSION && existsSync(LITELLM_BIN)) return { version: LITELLM_VERSION, bin: LITELLM_BIN };
  log(`peers: installing litellm[proxy]==${LITELLM_VERSION} into ${path.relative(process.cwd(), LITELLM_DIR) || LITELLM_DIR} (a few minutes)`);
  rmSync(path.join(LITELLM_DIR, MARKER), { force: true });
  const venvPython = path.join(LITELLM_DIR, 'bin', 'python');
  if (!existsSync(venvPython)) {
    mkdirSync(PEERS_DIR, { recursive: true });
    run(python(), ['-m', 'venv', LITELLM_DIR], { log });
  }
  run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', `litellm[proxy]==${LITELLM_VERSION}`], { log });
  // The proxy's own imports, not just the package: a missing extra fails here, not mid-run.
  const version = run(venvPython, ['-c', 'import importlib.metadata as m, fastapi, uvicorn, backoff, litellm.proxy.proxy_server; print(m.version("litellm"))'], { log }).trim().split('\n').at(-1);
  if (version !== LITELLM_VERSION) throw new Error(`litellm installed as ${version}, expected ${LITELLM_VERSION}`);
  writeFileSync(path.join(LITELLM_DIR, MARKER), `${LITELLM_VERSION}\n`);
  return { version: LITELLM_VERSION, bin: LITELLM_BIN };
}

export function installPortkey(opts: { force?: boolean; log?: (s: string) => void } = {}): { version: string; entry: string } {
  const log = opts.log ?? ((s: string) => console.error(s));
  if (!opts.force && installedVersion(PORTKEY_DIR) === PORTKEY_VERSION && existsSync(PORTKEY_ENTRY)) return { version: PORTKEY_VERSION, entry: PORTKEY_ENTRY };
  log(`peers: installing @portkey-ai/gateway@${PORTKEY_VERSION} into ${path.relative(process.cwd(), PORTKEY_DIR) || PORTKEY_DIR}`);
  rmSync(path.join(PORTKEY_DIR, MARKER), { force: true });
  mkdirSync(PORTKEY_DIR, { recursive: true });
  // Its own package.json, so npm never walks up to the project's (and never touches its lockfile).
  const pkgFile = path.join(PORTKEY_DIR, 'package.json');
  if (!existsSync(pkgFile)) writeFileSync(pkgFile, `${JSON.stringify({ name: 'switchboard-bench-peer-portkey', private: true, description: 'Installed by bench/peers/install.ts; not a project dependency' }, null, 2)}\n`);
  // --ignore-scripts: the package's only install script is `postinstall: patch-package`, and the
  // published tarball ships no patches/ folder (its "files" are build/, README, LICENSE), so the
  // script would do nothing. npm 11 also holds back scripts not approved under `allowScripts`
  // (only a warning); ignoring them explicitly makes the install the same on every npm.
  const npm = process.env.npm_execpath && process.env.npm_execpath.endsWith('.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];
  run(npm[0] as string, [...npm.slice(1), 'install', '--prefix', PORTKEY_DIR, '--ignore-scripts', '--no-audit', '--no-fund', '--save-exact', '--loglevel=error', `@portkey-ai/gateway@${PORTKEY_VERSION}`], { cwd: PORTKEY_DIR, log });
  const installed = (JSON.parse(readFileSync(path.join(PORTKEY_DIR, 'node_modules', '@portkey-ai', 'gateway', 'package.json'), 'utf8')) as { version: string }).version;
  if (installed !== PORTKEY_VERSION) throw new Error(`@portkey-ai/gateway installed as ${installed}, expected ${PORTKEY_VERSION}`);
  if (!existsSync(PORTKEY_ENTRY)) throw new Error(`@portkey-ai/gateway ${installed} has no ${path.relative(PORTKEY_DIR, PORTKEY_ENTRY)}`);
  writeFileSync(path.join(PORTKEY_DIR, MARKER), `${PORTKEY_VERSION}\n`);
  return { version: PORTKEY_VERSION, entry: PORTKEY_ENTRY };
}

export function installPeers(opts: { force?: boolean; log?: (s: string) => void } = {}) {
  return { litellm: installLiteLLM(opts), portkey: installPortkey(opts) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const r = installPeers({ force: process.argv.includes('--force') });
    console.log(`litellm ${r.litellm.version}: ${r.litellm.bin}\nportkey ${r.portkey.version}: ${r.portkey.entry}`);
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    console.error(`peers: install failed: ${e.message}${e.stderr ? `\n${e.stderr.slice(-4000)}` : ''}`);
    process.exit(1);
  }
}
