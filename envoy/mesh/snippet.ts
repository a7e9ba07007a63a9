// The pieces an Envoy that someone else runs needs in order to put Switchboard in its request path:
// the router-level ext_proc HTTP filter (goes right before envoy.filters.http.router), the routes
// to merge into a virtual host (one per fallback chain, plus the entry routes that turn the filter
// on), the chain clusters (their upstream ext_proc filter inside) and the ext_proc cluster that
// points at Switchboard over TCP (a Kubernetes Service, say).
//
// The pieces are cut out of the standalone bootstrap (envoy/bootstrap.ts) built from the same plan,
// so the filter settings, retry policies, priorities and the upstream filter stay the ones the
// standalone gateway is tested with. Only the ext_proc cluster is rebuilt for a DNS address.
//
// Affinity: the standalone bootstrap has one chain cluster per worker so that the upstream filter
// of an attempt talks to the very process that made the routing decision. Behind a Service with M
// pods that is not possible (Envoy cannot name a pod of a Service from a route), so the plan has
// one worker: every pod is started as worker 0 (`worker-main --worker 0`), every router-level
// decision names the `<chain>.w0` route, and the upstream filter's stream lands on any pod. When it
// lands on another pod than the one that decided, the upstream filter asks Envoy for the body
// (mode_override) and rebuilds the request from it: correct, at the cost of one more body transfer.
import type { GatewayConfig } from '../../extproc/config/schema.ts';
import { buildBootstrap, CHAIN_HEADER, type BootstrapPlan } from '../bootstrap.ts';
import { bootstrapPlan } from '../plan.ts';

type Json = Record<string, unknown>;

export const ROUTER_FILTER = 'envoy.filters.http.router';
export const EXT_PROC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor';
export const EXT_PROC_PER_ROUTE_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute';
/** Distinct from the usual `envoy.filters.http.ext_proc`, so it cannot collide with an ext_proc filter the host Envoy already has. */
export const MESH_FILTER_NAME = 'switchboard.ext_proc';
export const DEFAULT_EXTPROC_CLUSTER = 'switchboard_extproc';
/** Paths the router-level filter understands (OpenAI /v1, Gemini /v1beta and /v1alpha, Azure-style /openai). */
export const DEFAULT_PATH_PREFIXES = ['/v1/', '/v1beta/', '/v1alpha/', '/openai/'];

export interface MeshOptions {
  /** Switchboard's gRPC address as Envoy reaches it, host:port (a headless Service is best, see docs/MESH.md). */
  extprocAddress: string;
  /**
   * `routes` (default): the filter is disabled on the listener and enabled only on Switchboard's
   * entry routes, so the rest of the traffic on that listener never reaches Switchboard.
   * `listener`: every request through this HTTP connection manager goes to Switchboard (an Envoy
   * or gateway dedicated to AI traffic).
   */
  scope?: 'routes' | 'listener';
  /** Path prefixes of the entry routes. */
  pathPrefixes?: string[];
  /** Name of the ext_proc cluster the two filters use. */
  extprocClusterName?: string;
  /** false: do not emit the ext_proc cluster (the name refers to one the platform defines, e.g. Istio's outbound cluster for the Service). */
  defineExtprocCluster?: boolean;
  /** Add the router's per-attempt gRPC access log (key cooldowns and health feed back from it). */
  accessLog?: boolean;
}

export interface EnvoySnippet {
  /** Insert into the HTTP connection manager's http_filters right before envoy.filters.http.router. */
  httpFilter: Json;
  /** Merge into the virtual host, in this order and before any catch-all route: chain routes, then entry routes. */
  routes: Json[];
  /** Fields to set on that virtual host (the router-level filter reads x-envoy-attempt-count). */
  virtualHost: Json;
  /** Add to the static clusters (or CDS): the ext_proc cluster (unless defined elsewhere), then one per chain. */
  clusters: Json[];
  /** When accessLog: merge into envoy.filters.http.router's typed_config (upstream_log). */
  routerUpstreamLog?: Json[];
  /** Names, for whoever wires the pieces into a larger config. */
  names: { extprocCluster: string; chainClusters: string[]; chainRoutes: string[]; entryRoutes: string[] };
}

/** host:port (IPv6 as [addr]:port) -> parts; throws on anything else. */
export function parseHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(address);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) throw new Error(`ext_proc address must be host:port (e.g. switchboard.switchboard.svc.cluster.local:9002), got "${address}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** The bootstrap plan for an Envoy that reaches Switchboard through one address: one worker, the Service as its endpoint. */
export function meshPlan(config: GatewayConfig, opts: Pick<MeshOptions, 'extprocAddress' | 'accessLog'>): BootstrapPlan {
  const { host, port } = parseHostPort(opts.extprocAddress);
  // No affinity behind a Service: every attempt goes through the upstream filter (the pods'
  // gateway.yaml says server.upstreamAffinity: false to match).
  return { ...bootstrapPlan(config, { workers: 1, accessLog: opts.accessLog ?? false }), extprocEndpoints: [`${host}:${port}`], pretranslate: false };
}

function at(obj: unknown, path: (string | number)[], what: string): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') throw new Error(`bootstrap shape changed: no ${what} at ${path.join('.')}`);
    cur = (cur as Record<string | number, unknown>)[k];
  }
  if (cur === undefined) throw new Error(`bootstrap shape changed: no ${what} at ${path.join('.')}`);
  return cur;
}

const isExtProc = (f: Json) => (f.typed_config as Json | undefined)?.['@type'] === EXT_PROC_TYPE;

function retargetGrpc(filter: Json, cluster: string): void {
  const grpc = (filter.typed_config as Json).grpc_service as Json;
  grpc.envoy_grpc = { ...(grpc.envoy_grpc as Json), cluster_name: cluster };
}

/** Per-route config that turns on a filter disabled on the listener (an empty override keeps the listener's settings). */
export function enableFilterOnRoute(filterName: string = MESH_FILTER_NAME): Json {
  return { [filterName]: { '@type': EXT_PROC_PER_ROUTE_TYPE, overrides: {} } };
}

export function buildSnippet(config: GatewayConfig, opts: MeshOptions): EnvoySnippet {
  const plan = meshPlan(config, opts);
  const { host, port } = parseHostPort(opts.extprocAddress);
  const clusterName = opts.extprocClusterName ?? DEFAULT_EXTPROC_CLUSTER;
  const scope = opts.scope ?? 'routes';
  const bootstrap = structuredClone(buildBootstrap(plan));

  const hcm = at(bootstrap, ['static_resources', 'listeners', 0, 'filter_chains', 0, 'filters', 0, 'typed_config'], 'HTTP connection manager') as Json;
  const filters = at(hcm, ['http_filters'], 'http_filters') as Json[];
  const routerFilter = filters.find(isExtProc);
  const router = filters.find((f) => f.name === ROUTER_FILTER);
  if (!routerFilter || !router) throw new Error('bootstrap shape changed: router-level ext_proc filter or router missing');
  const vhost = at(hcm, ['route_config', 'virtual_hosts', 0], 'virtual host') as Json;
  const allRoutes = vhost.routes as Json[];
  const chainRoutes = allRoutes.filter((r) => ((r.match as Json).headers as Json[] | undefined)?.some((h) => h.name === CHAIN_HEADER));
  const fallback = allRoutes.find((r) => r.direct_response);
  const allClusters = at(bootstrap, ['static_resources', 'clusters'], 'clusters') as Json[];
  const chainClusterNames = new Set(chainRoutes.map((r) => (r.route as Json).cluster as string));
  const chainClusters = allClusters.filter((c) => chainClusterNames.has(c.name as string));
  if (chainClusters.length !== chainClusterNames.size) throw new Error('bootstrap shape changed: a chain route names a cluster that is not there');
  // The bootstrap's ext_proc cluster carries the HTTP/2 settings, circuit breakers and gRPC health check.
  const template = allClusters.find((c) => c.name === DEFAULT_EXTPROC_CLUSTER);
  if (!template) throw new Error('bootstrap shape changed: no ext_proc cluster');

  // Both filters talk to the one cluster: in a mesh every pod is worker 0, no per-worker clusters.
  const httpFilter: Json = { ...routerFilter, name: MESH_FILTER_NAME, ...(scope === 'routes' ? { disabled: true } : {}) };
  retargetGrpc(httpFilter, clusterName);
  for (const c of chainClusters) {
    const options = at(c, ['typed_extension_protocol_options', 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions', 'http_filters'], 'upstream http_filters') as Json[];
    const upstream = options.find(isExtProc);
    if (!upstream) throw new Error(`bootstrap shape changed: cluster ${String(c.name)} has no upstream ext_proc filter`);
    retargetGrpc(upstream, clusterName);
  }

  const extprocCluster: Json = {
    ...template,
    name: clusterName,
    // STRICT_DNS: a headless Service resolves to every pod, and Envoy spreads streams over them.
    type: 'STRICT_DNS',
    dns_lookup_family: 'V4_PREFERRED',
    load_assignment: { cluster_name: clusterName, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }] },
  };

  const prefixes = opts.pathPrefixes?.length ? opts.pathPrefixes : DEFAULT_PATH_PREFIXES;
  const entryRoutes: Json[] = prefixes.map((prefix) => ({
    name: `switchboard_entry${prefix.replace(/[^A-Za-z0-9]+/g, '_').replace(/_$/, '')}`,
    match: { prefix },
    // The filter answers or names a chain for every request it sees; this only shows if it did neither.
    direct_response: fallback?.direct_response ?? { status: 404 },
    typed_per_filter_config: enableFilterOnRoute(),
  }));

  const upstreamLog = ((router.typed_config as Json).upstream_log as Json[] | undefined) ?? undefined;
  if (upstreamLog) {
    for (const log of upstreamLog) {
      const grpc = ((log.typed_config as Json).common_config as Json).grpc_service as Json;
      grpc.envoy_grpc = { cluster_name: clusterName };
    }
  }

  return {
    httpFilter,
    routes: [...chainRoutes, ...entryRoutes],
    virtualHost: { include_attempt_count_in_response: true },
    clusters: [...(opts.defineExtprocCluster === false ? [] : [extprocCluster]), ...chainClusters],
    ...(upstreamLog ? { routerUpstreamLog: upstreamLog } : {}),
    names: {
      extprocCluster: clusterName,
      chainClusters: chainClusters.map((c) => c.name as string),
      chainRoutes: chainRoutes.map((r) => r.name as string),
      entryRoutes: entryRoutes.map((r) => r.name as string),
    },
  };
}

/** The snippet as one YAML-able document, and the comment that says where each piece goes. */
export function snippetDocument(s: EnvoySnippet): { doc: Json; comment: string } {
  return {
    doc: {
      http_filter: s.httpFilter,
      virtual_host: s.virtualHost,
      routes: s.routes,
      clusters: s.clusters,
      ...(s.routerUpstreamLog ? { router_upstream_log: s.routerUpstreamLog } : {}),
    },
    comment: [
      'Switchboard pieces for an existing Envoy (see docs/MESH.md):',
      `  http_filter: insert into the HTTP connection manager's http_filters right before ${ROUTER_FILTER}`,
      '  virtual_host: fields to set on the virtual host that serves the AI API',
      '  routes: put at the top of that virtual host, in this order (chain routes match the x-sb-chain header Switchboard sets)',
      '  clusters: add to static_resources.clusters (or your CDS)',
      ...(s.routerUpstreamLog ? [`  router_upstream_log: append to ${ROUTER_FILTER}'s typed_config.upstream_log`] : []),
    ].join('\n'),
  };
}
