#!/usr/bin/env node
// Copies the Envoy protos Switchboard serves, with their transitive imports, from the envoy-api
// tree that @grpc/grpc-js-xds ships into proto/. Run it after upgrading that package; the copies
// are never edited by hand.
import { copyFileSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const deps = path.join(root, 'node_modules', '@grpc', 'grpc-js-xds', 'deps');
const searchPath = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d));
const roots = [
  'envoy/service/ext_proc/v3/external_processor.proto',
  'envoy/service/accesslog/v3/als.proto',
];
const out = path.join(root, 'proto');

function locate(rel) {
  if (rel.startsWith('google/protobuf/')) return null; // well-known types ship with every protobuf runtime
  for (const dir of searchPath) {
    const p = path.join(dir, rel);
    if (existsSync(p)) return p;
  }
  throw new Error(`proto import not found: ${rel}`);
}

rmSync(out, { recursive: true, force: true });
const seen = new Set();
const queue = [...roots];
while (queue.length) {
  const rel = queue.shift();
  if (seen.has(rel)) continue;
  seen.add(rel);
  const src = locate(rel);
  if (!src) continue;
  mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
  copyFileSync(src, path.join(out, rel));
  for (const m of readFileSync(src, 'utf8').matchAll(/^import\s+(?:public\s+)?"([^"]+)";/gm)) queue.push(m[1]);
}
console.log(`proto: ${[...seen].filter((r) => !r.startsWith('google/protobuf/')).length} files copied into proto/`);
