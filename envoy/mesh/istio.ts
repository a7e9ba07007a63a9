// Istio: EnvoyFilter resources (networking.istio.io/v1alpha3) that put the Envoy snippet
// (envoy/mesh/snippet.ts) into an ingress gateway, or into the sidecars a workloadSelector picks.
//   - CLUSTER ADD: the ext_proc cluster (unless Istio's own outbound cluster of the Service is used)
//     and one cluster per fallback chain, the upstream ext_proc filter inside each.
//   - HTTP_FILTER INSERT_BEFORE envoy.filters.http.router: the router-level ext_proc filter.
//   - VIRTUAL_HOST MERGE: include_attempt_count_in_response.
//   - HTTP_ROUTE INSERT_FIRST: chain routes, then entry routes, at the top of the virtual host.
//     Istio applies the patches of one EnvoyFilter in order and each INSERT_FIRST prepends, so they
//     are listed here in reverse of the order they must end up in.
import type { GatewayConfig } from '../../extproc/config/schema.ts';
import { buildSnippet, parseHostPort, ROUTER_FILTER, type EnvoySnippet, type MeshOptions } from './snippet.ts';

type Json = Record<string, unknown>;
export type IstioContext = 'GATEWAY' | 'SIDECAR_INBOUND' | 'SIDECAR_OUTBOUND';

export interface IstioOptions extends MeshOptions {
  /** Namespace of the EnvoyFilters: the gateway's (istio-system for the default ingress gateway) or the workload's. */
  namespace?: string;
  /** Labels of the gateway or workload pods (default: the ingress gateway, istio: ingressgateway). */
  selector?: Record<string, string>;
  context?: IstioContext;
  /** Listener / route configuration port to patch (the gateway's container port, e.g. 8080); absent = every port. */
  portNumber?: number;
  /** Virtual host to put the routes in (e.g. "ai.example.com:80"); absent = every virtual host of the matched route configurations. */
  vhostName?: string;
  /**
   * Use Istio's outbound cluster of the Switchboard Service (outbound|port||host) instead of
   * adding one: traffic to Switchboard then gets the mesh's mTLS. The host must be the Service's FQDN.
   */
  istioServiceCluster?: boolean;
  /** Resource name prefix. */
  name?: string;
}

export const ISTIO_API_VERSION = 'networking.istio.io/v1alpha3';
const HCM = 'envoy.filters.network.http_connection_manager';

export function istioOutboundCluster(extprocAddress: string): string {
  const { host, port } = parseHostPort(extprocAddress);
  return `outbound|${port}||${host}`;
}

export function buildIstioEnvoyFilters(config: GatewayConfig, opts: IstioOptions): Json[] {
  const snippet: EnvoySnippet = buildSnippet(config, {
    ...opts,
    ...(opts.istioServiceCluster ? { extprocClusterName: istioOutboundCluster(opts.extprocAddress), defineExtprocCluster: false } : {}),
  });
  const context: IstioContext = opts.context ?? 'GATEWAY';
  const name = opts.name ?? 'switchboard';
  const metadata = (suffix: string) => ({
    name: `${name}-${suffix}`,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    labels: { 'app.kubernetes.io/part-of': 'switchboard' },
  });
  const workloadSelector = { labels: opts.selector ?? { istio: 'ingressgateway' } };
  const port = opts.portNumber !== undefined ? { portNumber: opts.portNumber } : {};
  const routeConfiguration = { ...port, ...(opts.vhostName ? { vhost: { name: opts.vhostName } } : {}) };
  const envoyFilter = (suffix: string, configPatches: Json[], priority?: number): Json => ({
    apiVersion: ISTIO_API_VERSION,
    kind: 'EnvoyFilter',
    metadata: metadata(suffix),
    spec: { workloadSelector, ...(priority !== undefined ? { priority } : {}), configPatches },
  });

  const clusters = envoyFilter(
    'clusters',
    snippet.clusters.map((value) => ({ applyTo: 'CLUSTER', match: { context }, patch: { operation: 'ADD', value } })),
  );
  const filterPatches: Json[] = [
    {
      applyTo: 'HTTP_FILTER',
      match: { context, listener: { ...port, filterChain: { filter: { name: HCM, subFilter: { name: ROUTER_FILTER } } } } },
      patch: { operation: 'INSERT_BEFORE', value: snippet.httpFilter },
    },
  ];
  if (snippet.routerUpstreamLog) {
    filterPatches.push({
      applyTo: 'HTTP_FILTER',
      match: { context, listener: { ...port, filterChain: { filter: { name: HCM, subFilter: { name: ROUTER_FILTER } } } } },
      patch: { operation: 'MERGE', value: { name: ROUTER_FILTER, typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', upstream_log: snippet.routerUpstreamLog } } },
    });
  }
  const filter = envoyFilter('filter', filterPatches);
  // Routes name clusters added above: apply after them (a higher priority number applies later).
  const routes = envoyFilter(
    'routes',
    [
      { applyTo: 'VIRTUAL_HOST', match: { context, routeConfiguration }, patch: { operation: 'MERGE', value: snippet.virtualHost } },
      ...[...snippet.routes].reverse().map((value) => ({ applyTo: 'HTTP_ROUTE', match: { context, routeConfiguration }, patch: { operation: 'INSERT_FIRST', value } })),
    ],
    10,
  );
  return [clusters, filter, routes];
}
