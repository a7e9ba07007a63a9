// `switchboard envoy-config`: the standalone bootstrap, or the pieces for an Envoy / mesh that
// someone else runs (snippet, Istio EnvoyFilters, Envoy Gateway policies). Prints YAML.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { GatewayConfig } from '../../extproc/config/schema.ts';
import { loadConfigFile } from '../../extproc/config/load.ts';
import { buildBootstrap } from '../bootstrap.ts';
import { bootstrapPlan } from '../plan.ts';
import { buildSnippet, snippetDocument, type MeshOptions } from './snippet.ts';
import { buildIstioEnvoyFilters, type IstioContext } from './istio.ts';
import { buildEnvoyGatewayResources } from './envoy-gateway.ts';

export const FORMATS = ['bootstrap', 'snippet', 'istio', 'envoy-gateway'] as const;
export type Format = (typeof FORMATS)[number];

export const ENVOY_CONFIG_USAGE = `usage: switchboard envoy-config [-c gateway.yaml] [--format bootstrap|snippet|istio|envoy-gateway] [options]
  --format bootstrap         the standalone Envoy bootstrap (default)
  --format snippet           filter, routes and clusters to merge into an existing Envoy
  --format istio             EnvoyFilter resources (ingress gateway by default)
  --format envoy-gateway     EnvoyExtensionPolicy + EnvoyPatchPolicy (+ HTTPRoute) for Envoy Gateway
options for snippet / istio / envoy-gateway:
  --extproc HOST:PORT        Switchboard's gRPC address (default switchboard-headless.switchboard.svc.cluster.local:9002)
  --prefix /v1/              entry path prefix (repeatable; default /v1/ /v1beta/ /v1alpha/ /openai/)
  --scope routes|listener    snippet, istio: filter on the entry routes only (default) or on every request
  --access-log               snippet, istio: the router's per-attempt gRPC access log to Switchboard
  --namespace NS             istio: EnvoyFilter namespace; envoy-gateway: the Gateway's namespace (required)
  --selector k=v             istio: workload labels (repeatable; default istio=ingressgateway)
  --context C                istio: GATEWAY (default), SIDECAR_INBOUND or SIDECAR_OUTBOUND
  --port N                   istio: listener / route configuration port to patch
  --vhost NAME               istio, envoy-gateway: the virtual host to add the routes to
  --istio-service-cluster    istio: use Istio's outbound cluster of the Service (mesh mTLS)
  --gateway NAME --listener NAME    envoy-gateway: the Gateway and its listener (required)
  --hostname H               envoy-gateway: HTTPRoute hostname (repeatable)
  --target-route NAME        envoy-gateway: attach to your HTTPRoute instead of generating one
  --target-gateway           envoy-gateway: attach the ext_proc filter to the whole Gateway`;

/** The headless Service of deploy/kubernetes: its DNS name lists every ready pod. */
export const DEFAULT_EXTPROC_ADDRESS = 'switchboard-headless.switchboard.svc.cluster.local:9002';

export interface EnvoyConfigArgs {
  format: Format;
  values: Record<string, string | boolean | string[] | undefined>;
}

function labels(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`--selector wants key=value, got "${p}"`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : undefined);

/** Renders one format from a loaded config: YAML text (multi-document for the Kubernetes formats). */
export function renderEnvoyConfig(config: GatewayConfig, format: Format, values: EnvoyConfigArgs['values'] = {}): string {
  const extprocAddress = str(values.extproc) ?? DEFAULT_EXTPROC_ADDRESS;
  const pathPrefixes = list(values.prefix);
  const scopeArg = str(values.scope);
  if (scopeArg !== undefined && scopeArg !== 'routes' && scopeArg !== 'listener') throw new Error(`--scope must be routes or listener, got "${scopeArg}"`);
  const scope: MeshOptions['scope'] = scopeArg;
  const common = { extprocAddress, ...(pathPrefixes ? { pathPrefixes } : {}), ...(scope ? { scope } : {}), accessLog: values['access-log'] === true };
  const yaml = (doc: unknown) => toYaml(doc, { aliasDuplicateObjects: false, lineWidth: 0 });
  switch (format) {
    case 'bootstrap':
      // Exactly what `envoy-config` printed before it had formats.
      return toYaml(buildBootstrap(bootstrapPlan(config, { workers: config.server.workers, accessLog: false })), { aliasDuplicateObjects: false });
    case 'snippet': {
      const { doc, comment } = snippetDocument(buildSnippet(config, common));
      return `${comment.replace(/^/gm, '# ')}\n${yaml(doc)}`;
    }
    case 'istio': {
      const context = str(values.context);
      if (context !== undefined && !['GATEWAY', 'SIDECAR_INBOUND', 'SIDECAR_OUTBOUND'].includes(context)) throw new Error(`--context must be GATEWAY, SIDECAR_INBOUND or SIDECAR_OUTBOUND, got "${context}"`);
      const port = str(values.port);
      const docs = buildIstioEnvoyFilters(config, {
        ...common,
        ...(str(values.namespace) ? { namespace: str(values.namespace) } : {}),
        ...(labels(list(values.selector)) ? { selector: labels(list(values.selector)) } : {}),
        ...(context ? { context: context as IstioContext } : {}),
        ...(port ? { portNumber: Number(port) } : {}),
        ...(str(values.vhost) ? { vhostName: str(values.vhost) } : {}),
        istioServiceCluster: values['istio-service-cluster'] === true,
      });
      return docs.map(yaml).join('---\n');
    }
    case 'envoy-gateway': {
      const namespace = str(values.namespace);
      const gateway = str(values.gateway);
      const listener = str(values.listener);
      if (!namespace || !gateway || !listener) throw new Error('--format envoy-gateway needs --namespace, --gateway and --listener');
      const targetRoute = str(values['target-route']);
      const docs = buildEnvoyGatewayResources(config, {
        extprocAddress,
        ...(pathPrefixes ? { pathPrefixes } : {}),
        namespace,
        gateway,
        listener,
        ...(list(values.hostname) ? { hostnames: list(values.hostname) } : {}),
        ...(str(values.vhost) ? { vhostName: str(values.vhost) } : {}),
        ...(targetRoute ? { target: { kind: 'HTTPRoute' as const, name: targetRoute } } : values['target-gateway'] === true ? { target: { kind: 'Gateway' as const, name: gateway } } : {}),
      });
      return docs.map(yaml).join('---\n');
    }
  }
}

/** The `envoy-config` subcommand: exit code. */
export function envoyConfigCommand(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c', default: 'gateway.yaml' },
        format: { type: 'string', default: 'bootstrap' },
        extproc: { type: 'string' },
        prefix: { type: 'string', multiple: true },
        scope: { type: 'string' },
        'access-log': { type: 'boolean' },
        namespace: { type: 'string' },
        selector: { type: 'string', multiple: true },
        context: { type: 'string' },
        port: { type: 'string' },
        vhost: { type: 'string' },
        'istio-service-cluster': { type: 'boolean' },
        gateway: { type: 'string' },
        listener: { type: 'string' },
        hostname: { type: 'string', multiple: true },
        'target-route': { type: 'string' },
        'target-gateway': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${ENVOY_CONFIG_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(ENVOY_CONFIG_USAGE);
    return 0;
  }
  const format = parsed.values.format as Format;
  if (!FORMATS.includes(format)) {
    console.error(`unknown --format "${format}"\n${ENVOY_CONFIG_USAGE}`);
    return 2;
  }
  const config = loadConfigFile(path.resolve(parsed.values.config));
  try {
    process.stdout.write(renderEnvoyConfig(config, format, parsed.values));
  } catch (err) {
    console.error(`${(err as Error).message}\n${ENVOY_CONFIG_USAGE}`);
    return 2;
  }
  return 0;
}
