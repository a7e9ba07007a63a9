// Generates the Envoy bootstrap for the standalone gateway from a resolved plan: the listener with
// the router-level ext_proc filter, one route + cluster per fallback chain (chain steps are
// endpoint priorities, the retry policy walks them), the upstream ext_proc filter inside every
// chain cluster, and the ext_proc cluster itself. Pure: the plan in, a JSON-able object out.
import { applyPreparedFallbackFilter, FALLBACK_NAMESPACE, onTranslateOnly, stepHeaderFilter } from './prepared-fallback-filters.ts';

export interface ChainStepEndpoint {
  /** provider/model id, echoed back to Switchboard through endpoint metadata */
  target: string;
  host: string;
  port: number;
  tls: boolean;
}

export interface ChainPlan {
  id: string;
  steps: ChainStepEndpoint[];
  /** Per attempt; for streams this bounds the wait for response headers. */
  perTryTimeoutMs: number;
  retryOn: string[];
  retriableStatusCodes: number[];
}

export interface BootstrapPlan {
  listener: { host: string; port: number };
  envoyAdmin: { host: string; port: number };
  /** Each Switchboard process is one endpoint: unix:/path or host:port */
  extprocEndpoints: string[];
  chains: ChainPlan[];
  maxRequestBytes: number;
  /** Bound on one ext_proc round trip; LLM processing itself happens upstream, not here. */
  messageTimeoutMs: number;
  requestTimeoutMs: number;
  streamIdleTimeoutMs: number;
  /** Where system CAs live, for TLS to real providers. */
  caFile: string;
  accessLog: boolean;
  /**
   * The router-level filter prepares attempt 1 itself (server.upstreamAffinity), and the next
   * fallback steps too: a Lua upstream filter applies those, and the upstream ext_proc filter
   * runs only for an attempt nothing was prepared for.
   */
  pretranslate: boolean;
}

export const CHAIN_HEADER = 'x-sb-chain';
export const TARGET_RESPONSE_HEADER = 'x-sb-upstream-target';
const EXTPROC_CLUSTER = 'switchboard_extproc';

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)}s`;

function socketAddress(endpoint: string) {
  if (endpoint.startsWith('unix:')) return { pipe: { path: endpoint.slice('unix:'.length) } };
  const i = endpoint.lastIndexOf(':');
  return { socket_address: { address: endpoint.slice(0, i), port_value: Number(endpoint.slice(i + 1)) } };
}

/** The upstream filter of worker k's chain clusters talks to worker k only: request context affinity. */
const workerCluster = (k: number) => `${EXTPROC_CLUSTER}_w${k}`;

function grpcService(role: 'router' | 'upstream', timeoutMs: number, cluster = EXTPROC_CLUSTER) {
  return {
    envoy_grpc: { cluster_name: cluster },
    timeout: seconds(timeoutMs),
    initial_metadata: [{ key: 'x-sb-filter', value: role }],
  };
}

function routerExtProcFilter(plan: BootstrapPlan) {
  return {
    name: 'envoy.filters.http.ext_proc',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
      grpc_service: grpcService('router', plan.messageTimeoutMs),
      failure_mode_allow: false,
      allow_mode_override: true,
      message_timeout: seconds(plan.messageTimeoutMs),
      max_message_timeout: seconds(Math.max(plan.messageTimeoutMs, 30_000)),
      processing_mode: {
        request_header_mode: 'SEND',
        request_body_mode: 'BUFFERED',
        response_header_mode: 'SEND',
        // Chosen per response in the headers answer (mode_override): BUFFERED for JSON, STREAMED for streams.
        response_body_mode: 'NONE',
        request_trailer_mode: 'SKIP',
        response_trailer_mode: 'SKIP',
      },
      // allow_envoy: the x-envoy-* headers Envoy adds to responses are internal too, removed here.
      mutation_rules: { allow_all_routing: true, allow_envoy: true },
      route_cache_action: 'CLEAR',
      // Fallbacks prepared with attempt 1, for the chain clusters' Lua filter.
      ...(plan.pretranslate ? { metadata_options: { receiving_namespaces: { untyped: [FALLBACK_NAMESPACE] } } } : {}),
    },
  };
}

function upstreamExtProcFilter(plan: BootstrapPlan, worker: number) {
  return {
    name: 'envoy.filters.http.ext_proc',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
      grpc_service: grpcService('upstream', plan.messageTimeoutMs, workerCluster(worker)),
      failure_mode_allow: false,
      allow_mode_override: true,
      message_timeout: seconds(plan.messageTimeoutMs),
      processing_mode: {
        request_header_mode: 'SEND',
        // The translated body comes back in the headers answer (CONTINUE_AND_REPLACE); the body
        // is only requested (mode_override) when this process does not hold the request context.
        request_body_mode: 'NONE',
        response_header_mode: 'SKIP',
        response_body_mode: 'NONE',
        request_trailer_mode: 'SKIP',
        response_trailer_mode: 'SKIP',
      },
      request_attributes: ['xds.upstream_host_metadata'],
      mutation_rules: { allow_all_routing: true },
    },
  };
}

/** Route header value and cluster name of a chain as served by one worker. */
export const chainKey = (chainId: string, worker: number) => `${chainId}.w${worker}`;
const chainClusterName = (chainId: string, worker: number) => `sb_chain_${chainId}_w${worker}`;

function chainCluster(plan: BootstrapPlan, chain: ChainPlan, worker: number) {
  const tlsHosts = [...new Set(chain.steps.filter((s) => s.tls).map((s) => s.host))];
  const name = chainClusterName(chain.id, worker);
  return {
    name,
    type: chain.steps.some((s) => !/^[\d.]+$/.test(s.host)) ? 'STRICT_DNS' : 'STATIC',
    connect_timeout: '5s',
    lb_policy: 'ROUND_ROBIN',
    dns_lookup_family: 'V4_PREFERRED',
    per_connection_buffer_limit_bytes: plan.maxRequestBytes,
    circuit_breakers: { thresholds: [{ max_connections: 100_000, max_pending_requests: 100_000, max_requests: 100_000, max_retries: 10_000 }] },
    outlier_detection: {
      consecutive_5xx: 5,
      consecutive_gateway_failure: 3,
      interval: '5s',
      base_ejection_time: '15s',
      max_ejection_percent: 100,
    },
    load_assignment: {
      cluster_name: name,
      endpoints: chain.steps.map((step, priority) => ({
        priority,
        lb_endpoints: [
          {
            endpoint: { address: { socket_address: { address: step.host, port_value: step.port } }, hostname: step.host },
            metadata: {
              filter_metadata: {
                switchboard: { target: step.target, step: priority },
                'envoy.transport_socket_match': step.tls ? { sni: step.host } : { plaintext: true },
              },
            },
          },
        ],
      })),
    },
    transport_socket_matches: [
      ...tlsHosts.map((host) => ({
        name: `tls_${host}`,
        match: { sni: host },
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            sni: host,
            common_tls_context: {
              validation_context: { trusted_ca: { filename: plan.caFile }, match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: host } }] },
            },
          },
        },
      })),
      { name: 'plaintext', match: { plaintext: true }, transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' } } },
    ],
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http_protocol_options: {} },
        http_filters: [
          ...(plan.pretranslate
            ? [stepHeaderFilter(), applyPreparedFallbackFilter(), onTranslateOnly(upstreamExtProcFilter(plan, worker))]
            : [upstreamExtProcFilter(plan, worker)]),
          { name: 'envoy.filters.http.upstream_codec', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec' } },
        ],
      },
    },
  };
}

function chainRoute(plan: BootstrapPlan, chain: ChainPlan, worker: number) {
  return {
    name: `chain_${chainKey(chain.id, worker)}`,
    match: { prefix: '/', headers: [{ name: CHAIN_HEADER, string_match: { exact: chainKey(chain.id, worker) } }] },
    route: {
      cluster: chainClusterName(chain.id, worker),
      timeout: seconds(plan.requestTimeoutMs),
      retry_policy: {
        retry_on: chain.retryOn.join(','),
        retriable_status_codes: chain.retriableStatusCodes,
        num_retries: Math.max(0, chain.steps.length - 1),
        per_try_timeout: seconds(chain.perTryTimeoutMs),
        // Fallback must not wait: the next step is another provider, not the same one again.
        retry_back_off: { base_interval: '0.001s', max_interval: '0.001s' },
        retry_priority: {
          name: 'envoy.retry_priorities.previous_priorities',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig',
            update_frequency: 1,
          },
        },
      },
    },
    // The route header has done its job; it is not the provider's business.
    ...(plan.pretranslate ? { request_headers_to_remove: [CHAIN_HEADER] } : {}),
    response_headers_to_add: [
      { header: { key: TARGET_RESPONSE_HEADER, value: '%UPSTREAM_METADATA(switchboard:target)%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ],
  };
}

function accessLogConfig() {
  return [
    {
      name: 'envoy.access_loggers.http_grpc',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig',
        common_config: {
          log_name: 'switchboard_attempts',
          transport_api_version: 'V3',
          grpc_service: { envoy_grpc: { cluster_name: EXTPROC_CLUSTER } },
          buffer_flush_interval: '0.2s',
          // Which target each attempt went to (the journal join in extproc/pipeline/attempt-log.ts).
          custom_tags: [{ tag: 'sb_target', metadata: { kind: { host: {} }, metadata_key: { key: 'switchboard', path: [{ key: 'target' }] } } }],
        },
        additional_response_headers_to_log: ['retry-after'],
      },
    },
  ];
}

function extprocCluster(name: string, endpoints: string[]) {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    lb_policy: 'ROUND_ROBIN',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: {
          http2_protocol_options: { max_concurrent_streams: 100_000, initial_stream_window_size: 16 * 1024 * 1024, initial_connection_window_size: 64 * 1024 * 1024 },
        },
      },
    },
    // The defaults (1024 requests) cap concurrent LLM streams: one ext_proc stream per request.
    circuit_breakers: { thresholds: [{ max_connections: 100_000, max_pending_requests: 100_000, max_requests: 1_000_000 }] },
    health_checks: [{ timeout: '1s', interval: '2s', unhealthy_threshold: 2, healthy_threshold: 1, grpc_health_check: {} }],
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: endpoints.map((e) => ({ endpoint: { address: socketAddress(e) } })) }],
    },
  };
}

export function buildBootstrap(plan: BootstrapPlan): Record<string, unknown> {
  const router: Record<string, unknown> = {
    name: 'envoy.filters.http.router',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
      ...(plan.accessLog ? { upstream_log: accessLogConfig() } : {}),
    },
  };
  return {
    node: { id: 'switchboard', cluster: 'switchboard' },
    admin: { address: { socket_address: { address: plan.envoyAdmin.host, port_value: plan.envoyAdmin.port } } },
    overload_manager: {
      resource_monitors: [
        {
          name: 'envoy.resource_monitors.global_downstream_max_connections',
          typed_config: { '@type': 'type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig', max_active_downstream_connections: 50_000 },
        },
      ],
    },
    static_resources: {
      listeners: [
        {
          name: 'switchboard_http',
          address: { socket_address: { address: plan.listener.host, port_value: plan.listener.port } },
          per_connection_buffer_limit_bytes: plan.maxRequestBytes,
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'switchboard',
                    codec_type: 'AUTO',
                    stream_idle_timeout: seconds(plan.streamIdleTimeoutMs),
                    request_timeout: '0s',
                    generate_request_id: true,
                    preserve_external_request_id: false,
                    route_config: {
                      name: 'switchboard_routes',
                      virtual_hosts: [
                        {
                          name: 'switchboard',
                          domains: ['*'],
                          include_attempt_count_in_response: true,
                          ...(plan.pretranslate ? { include_request_attempt_count: true } : {}),
                          routes: [
                            ...plan.chains.flatMap((c) => plan.extprocEndpoints.map((_, w) => chainRoute(plan, c, w))),
                            {
                              name: 'unrouted',
                              match: { prefix: '/' },
                              direct_response: { status: 404, body: { inline_string: '{"error":{"message":"no route","type":"invalid_request_error","param":null,"code":"model_not_found"}}' } },
                            },
                          ],
                        },
                      ],
                    },
                    http_filters: [routerExtProcFilter(plan), router],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        extprocCluster(EXTPROC_CLUSTER, plan.extprocEndpoints),
        ...plan.extprocEndpoints.map((e, w) => extprocCluster(workerCluster(w), [e])),
        ...plan.chains.flatMap((c) => plan.extprocEndpoints.map((_, w) => chainCluster(plan, c, w))),
      ],
    },
  };
}
