// A sample gateway.yaml for the mesh generators, a minimal "platform team's own" Envoy config to
// merge Switchboard's pieces into, and the real Envoy binary's --mode validate.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments, type Document } from 'yaml';
import { parseConfig } from '../../../extproc/config/load.ts';
import { findEnvoy } from '../../../envoy/launcher.ts';

export type Json = Record<string, unknown>;

export const sampleConfig = parseConfig(`
server:
  messageTimeoutMs: 4000
providers:
  openai: { type: openai, keys: [{ id: k1, secret: { env: OPENAI_API_KEY } }] }
  anthropic: { type: anthropic, keys: [{ id: k1, secret: { env: ANTHROPIC_API_KEY } }] }
  local: { type: vllm, baseUrl: 'http://10.0.0.5:8000/v1' }
models:
  gpt-4o-mini:
    targets: [{ provider: openai, model: gpt-4o-mini }]
    fallbacks: [{ provider: anthropic, model: claude-3-5-haiku-latest }, { provider: local, model: llama-3.1-8b }]
  claude-sonnet-4-5:
    targets: [{ provider: anthropic, model: claude-sonnet-4-5 }]
    fallbacks: [{ provider: openai, model: gpt-4o }]
  llama:
    targets: [{ provider: local, model: llama-3.1-8b }]
virtualKeys: []
`);

export const SERVICE = 'switchboard.switchboard.svc.cluster.local:9002';

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/** What a platform team already runs: one listener, its own filter and route, its own app cluster. */
export function platformEnvoy(): Json {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '0.0.0.0', port_value: 8080 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': HCM_TYPE,
                    stat_prefix: 'ingress',
                    route_config: {
                      name: 'ingress_routes',
                      virtual_hosts: [{ name: 'ai.example.com:80', domains: ['*'], routes: [{ name: 'app', match: { prefix: '/' }, route: { cluster: 'app' } }] }],
                    },
                    http_filters: [
                      { name: 'envoy.filters.http.cors', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' } },
                      { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE } },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'app',
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: { cluster_name: 'app', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 3000 } } } }] }] },
        },
      ],
    },
  };
}

export function hcmOf(config: Json): Json {
  const l = (config.static_resources as Json).listeners as Json[];
  return ((((l[0] as Json).filter_chains as Json[])[0] as Json).filters as Json[])[0]?.typed_config as Json;
}
export const vhostOf = (config: Json): Json => ((hcmOf(config).route_config as Json).virtual_hosts as Json[])[0] as Json;
export const clustersOf = (config: Json): Json[] => (config.static_resources as Json).clusters as Json[];

/** Every envoy_grpc cluster_name anywhere in a config (Envoy's validate mode does not check these). */
export function grpcClusterRefs(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) for (const n of node) grpcClusterRefs(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'envoy_grpc' && v && typeof v === 'object' && typeof (v as Json).cluster_name === 'string') out.add((v as Json).cluster_name as string);
      else grpcClusterRefs(v, out);
    }
  }
  return out;
}

export interface Validation {
  status: number | null;
  output: string;
}

/** `envoy --mode validate -c file`: the real binary decides. */
export function envoyValidate(config: Json): Validation {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-mesh-'));
  try {
    const file = path.join(dir, 'envoy.json');
    writeFileSync(file, JSON.stringify(config));
    const r = spawnSync(findEnvoy(), ['--mode', 'validate', '-c', file, '--log-level', 'warn', '--concurrency', '1', '--disable-hot-restart'], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Multi-document YAML -> objects; throws on any YAML error. */
export function parseDocs(text: string): Json[] {
  const docs: Document[] = [...parseAllDocuments(text)];
  const errors = docs.flatMap((d) => d.errors.map((e) => e.message));
  if (errors.length) throw new Error(`invalid YAML: ${errors.join('; ')}`);
  return docs.map((d) => d.toJS() as Json);
}
