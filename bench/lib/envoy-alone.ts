// Envoy alone, no Switchboard: a static bootstrap with one listener, one route to a STATIC
// cluster `sim` (the simulated provider) and the router. bench/run.ts and bench/streams.ts use it
// as system a; bench/extproc-floor.ts adds a no-op ext_proc filter and its cluster.

type Json = Record<string, unknown>;

export interface EnvoyAloneOptions {
  /** node.id; without it the bootstrap has no node section. */
  nodeId?: string;
  listenPort: number;
  adminPort: number;
  simPort: number;
  /** HTTP filters in front of the router (extproc-floor: ext_proc). */
  httpFilters?: Json[];
  /** Clusters besides `sim`. */
  clusters?: Json[];
  /**
   * true (default): the listener, HCM, route and cluster settings of envoy/bootstrap.ts (32 MiB
   * buffer limits, timeouts, circuit breakers), so a differs from b only by ext_proc. false: Envoy's
   * defaults (extproc-floor, one request at a time).
   */
  gatewaySettings?: boolean;
}

/** A STATIC cluster on 127.0.0.1:`port`; `http2` for a gRPC upstream. */
export function staticCluster(name: string, port: number, opts: { http2?: boolean; gatewaySettings?: boolean } = {}): Json {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '5s',
    ...(opts.gatewaySettings
      ? {
          lb_policy: 'ROUND_ROBIN',
          per_connection_buffer_limit_bytes: 32 * 1024 * 1024,
          circuit_breakers: { thresholds: [{ max_connections: 100_000, max_pending_requests: 100_000, max_requests: 100_000, max_retries: 10_000 }] },
        }
      : {}),
    ...(opts.http2 ? { typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: {} } } } } : {}),
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
  };
}

export function envoyAloneBootstrap(o: EnvoyAloneOptions): Json {
  const tuned = o.gatewaySettings ?? true;
  return {
    ...(o.nodeId ? { node: { id: o.nodeId, cluster: 'bench' } } : {}),
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: o.adminPort } } },
    static_resources: {
      listeners: [
        {
          name: 'plain',
          address: { socket_address: { address: '127.0.0.1', port_value: o.listenPort } },
          ...(tuned ? { per_connection_buffer_limit_bytes: 32 * 1024 * 1024 } : {}),
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'plain',
                    ...(tuned ? { codec_type: 'AUTO', stream_idle_timeout: '300s', request_timeout: '0s', generate_request_id: true } : {}),
                    route_config: {
                      name: 'plain',
                      virtual_hosts: [{ name: 'sim', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'sim', ...(tuned ? { timeout: '600s', auto_host_rewrite: true } : {}) } }] }],
                    },
                    http_filters: [...(o.httpFilters ?? []), { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [staticCluster('sim', o.simPort, { gatewaySettings: tuned }), ...(o.clusters ?? [])],
    },
  };
}
