import { parse as parseYaml } from 'yaml';
import { buildBootstrap, chainKey, CHAIN_HEADER } from '../../../envoy/bootstrap.ts';
import { bootstrapPlan, chainPlans } from '../../../envoy/plan.ts';
import { buildSnippet, meshPlan, MESH_FILTER_NAME, parseHostPort, ROUTER_FILTER, type EnvoySnippet } from '../../../envoy/mesh/snippet.ts';
import { renderEnvoyConfig } from '../../../envoy/mesh/cli.ts';
import { clustersOf, envoyValidate, grpcClusterRefs, hcmOf, platformEnvoy, sampleConfig, SERVICE, vhostOf, type Json } from './fixture.ts';

const upstreamFilterOf = (cluster: Json) =>
  (((cluster.typed_extension_protocol_options as Json)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'] as Json).http_filters as Json[]);

/** Merges the snippet the way docs/MESH.md tells a platform team to. */
function mergeSnippet(base: Json, s: EnvoySnippet): Json {
  const config = structuredClone(base);
  const hcm = hcmOf(config);
  const filters = hcm.http_filters as Json[];
  const router = filters.findIndex((f) => f.name === ROUTER_FILTER);
  filters.splice(router, 0, s.httpFilter);
  if (s.routerUpstreamLog) (filters[router + 1]?.typed_config as Json).upstream_log = s.routerUpstreamLog;
  const vhost = vhostOf(config);
  Object.assign(vhost, s.virtualHost);
  vhost.routes = [...s.routes, ...(vhost.routes as Json[])];
  clustersOf(config).push(...s.clusters);
  return config;
}

describe('envoy snippet for an existing Envoy', () => {
  const snippet = buildSnippet(sampleConfig, { extprocAddress: SERVICE });
  const chains = chainPlans(sampleConfig);
  const clusterNames = new Set(snippet.clusters.map((c) => c.name as string));

  test('the router-level filter: fail closed, buffered request body, response body by mode_override, off outside its routes', () => {
    const f = snippet.httpFilter;
    const tc = f.typed_config as Json;
    expect(f.name).toBe(MESH_FILTER_NAME);
    expect(f.disabled).toBe(true);
    expect(tc.failure_mode_allow).toBe(false);
    expect(tc.allow_mode_override).toBe(true);
    expect(tc.processing_mode).toEqual({
      request_header_mode: 'SEND',
      request_body_mode: 'BUFFERED',
      response_header_mode: 'SEND',
      response_body_mode: 'NONE',
      request_trailer_mode: 'SKIP',
      response_trailer_mode: 'SKIP',
    });
    expect((tc.grpc_service as Json).envoy_grpc).toEqual({ cluster_name: 'switchboard_extproc' });
    expect((tc.grpc_service as Json).initial_metadata).toEqual([{ key: 'x-sb-filter', value: 'router' }]);
    expect(tc.message_timeout).toBe('4.000s');
    expect(buildSnippet(sampleConfig, { extprocAddress: SERVICE, scope: 'listener' }).httpFilter.disabled).toBeUndefined();
  });

  test('one w0 route per chain, each naming a cluster of the snippet; entry routes last and turning the filter on', () => {
    const chainRoutes = snippet.routes.filter((r) => (r.match as Json).headers);
    expect(chainRoutes.map((r) => ((r.match as Json).headers as Json[])[0])).toEqual(
      chains.map((c) => ({ name: CHAIN_HEADER, string_match: { exact: chainKey(c.id, 0) } })),
    );
    for (const r of snippet.routes) {
      if (r.route) expect(clusterNames.has((r.route as Json).cluster as string)).toBe(true);
    }
    const firstEntry = snippet.routes.findIndex((r) => !(r.match as Json).headers);
    expect(firstEntry).toBe(chains.length);
    const entries = snippet.routes.slice(firstEntry);
    expect(entries.map((r) => (r.match as Json).prefix)).toEqual(['/v1/', '/v1beta/', '/v1alpha/', '/openai/']);
    for (const e of entries) {
      expect(Object.keys(e.typed_per_filter_config as Json)).toEqual([MESH_FILTER_NAME]);
      expect((e.direct_response as Json).status).toBe(404);
    }
    expect(snippet.virtualHost).toEqual({ include_attempt_count_in_response: true });
  });

  test('chain clusters: priorities ascend with the chain, upstream ext_proc filter first and pointed at the Service', () => {
    expect(snippet.names.chainClusters).toHaveLength(chains.length);
    for (const chain of chains) {
      const route = snippet.routes.find((r) => ((r.match as Json).headers as Json[] | undefined)?.[0]?.string_match && (((r.match as Json).headers as Json[])[0]?.string_match as Json).exact === chainKey(chain.id, 0));
      const cluster = snippet.clusters.find((c) => c.name === ((route?.route as Json).cluster as string)) as Json;
      const endpoints = (cluster.load_assignment as Json).endpoints as Json[];
      expect(endpoints.map((e) => e.priority)).toEqual(chain.steps.map((_, i) => i));
      expect(endpoints.map((e) => (((e.lb_endpoints as Json[])[0]?.metadata as Json).filter_metadata as Json).switchboard)).toEqual(chain.steps.map((s, i) => ({ target: s.target, step: i })));
      expect((((route?.route as Json).retry_policy as Json).num_retries)).toBe(chain.steps.length - 1);
      const filters = upstreamFilterOf(cluster);
      expect(filters.map((f) => f.name)).toEqual(['envoy.filters.http.ext_proc', 'envoy.filters.http.upstream_codec']);
      const up = filters[0]?.typed_config as Json;
      expect(up.failure_mode_allow).toBe(false);
      expect(up.allow_mode_override).toBe(true);
      expect((up.processing_mode as Json).request_body_mode).toBe('NONE');
      expect(up.request_attributes).toEqual(['xds.upstream_host_metadata']);
      expect((up.grpc_service as Json).envoy_grpc).toEqual({ cluster_name: 'switchboard_extproc' });
      expect((up.grpc_service as Json).initial_metadata).toEqual([{ key: 'x-sb-filter', value: 'upstream' }]);
    }
  });

  test('the ext_proc cluster: DNS name of the Service, HTTP/2, gRPC health checks, raised circuit breakers', () => {
    const c = snippet.clusters[0] as Json;
    expect(c.name).toBe('switchboard_extproc');
    expect(c.type).toBe('STRICT_DNS');
    expect(((((c.load_assignment as Json).endpoints as Json[])[0]?.lb_endpoints as Json[])[0]?.endpoint as Json).address).toEqual({
      socket_address: { address: 'switchboard.switchboard.svc.cluster.local', port_value: 9002 },
    });
    const http = (c.typed_extension_protocol_options as Json)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'] as Json;
    expect((http.explicit_http_config as Json).http2_protocol_options).toBeDefined();
    expect((c.health_checks as Json[])[0]?.grpc_health_check).toEqual({});
    expect((((c.circuit_breakers as Json).thresholds as Json[])[0] as Json).max_requests).toBeGreaterThanOrEqual(100_000);
    // Only the Service, never the standalone per-worker sockets.
    expect(snippet.clusters.some((x) => /_w\d+$/.test(x.name as string) && x.name !== 'switchboard_extproc' && !(x.name as string).startsWith('sb_chain_'))).toBe(false);
  });

  test('the mesh plan is the standalone plan with one worker, the Service as its endpoint and no first-attempt shortcut', () => {
    const plan = meshPlan(sampleConfig, { extprocAddress: SERVICE });
    const standalone = bootstrapPlan(sampleConfig, { workers: 1, accessLog: false });
    // Without affinity the upstream filter must run on every attempt (server.upstreamAffinity: false).
    expect(plan).toEqual({ ...standalone, extprocEndpoints: [SERVICE], pretranslate: false });
    // The routes are the worker-0 routes of a standalone plan without the shortcut, untouched.
    const boot = buildBootstrap({ ...standalone, pretranslate: false });
    const bootRoutes = (vhostOf(boot).routes as Json[]).filter((r) => (r.match as Json).headers);
    expect(snippet.routes.slice(0, chains.length)).toEqual(bootRoutes);
  });

  test('addresses: host:port only, IPv6 in brackets', () => {
    expect(parseHostPort('[fd00::1]:9002')).toEqual({ host: 'fd00::1', port: 9002 });
    expect(() => parseHostPort('unix:/tmp/x.sock')).toThrow(/host:port/);
    expect(() => parseHostPort('switchboard:0')).toThrow(/host:port/);
    expect(() => buildSnippet(sampleConfig, { extprocAddress: 'switchboard' })).toThrow(/host:port/);
  });

  test('an ext_proc cluster defined elsewhere is referenced, not emitted', () => {
    const s = buildSnippet(sampleConfig, { extprocAddress: SERVICE, extprocClusterName: 'outbound|9002||switchboard.switchboard.svc.cluster.local', defineExtprocCluster: false });
    expect(s.clusters.every((c) => (c.name as string).startsWith('sb_chain_'))).toBe(true);
    expect([...grpcClusterRefs(s)]).toEqual(['outbound|9002||switchboard.switchboard.svc.cluster.local']);
  });

  test('--format snippet prints YAML that parses back to the snippet', () => {
    const text = renderEnvoyConfig(sampleConfig, 'snippet', { extproc: SERVICE });
    expect(text.startsWith('# Switchboard pieces')).toBe(true);
    const doc = parseYaml(text) as Json;
    expect(doc.http_filter).toEqual(snippet.httpFilter);
    expect(doc.routes).toEqual(snippet.routes);
    expect(doc.clusters).toEqual(snippet.clusters);
  });

  test('--format bootstrap is the standalone bootstrap', () => {
    const doc = parseYaml(renderEnvoyConfig(sampleConfig, 'bootstrap')) as Json;
    expect(doc).toEqual(buildBootstrap(bootstrapPlan(sampleConfig, { workers: sampleConfig.server.workers, accessLog: false })));
  });
});

describe('the snippet merged into a platform Envoy config passes the real Envoy (--mode validate)', () => {
  test.each([
    ['routes scope', { extprocAddress: SERVICE }],
    ['listener scope, access log', { extprocAddress: SERVICE, scope: 'listener' as const, accessLog: true }],
  ])('%s', (_name, opts) => {
    const s = buildSnippet(sampleConfig, opts);
    const merged = mergeSnippet(platformEnvoy(), s);
    const filters = (hcmOf(merged).http_filters as Json[]).map((f) => f.name);
    expect(filters).toEqual(['envoy.filters.http.cors', MESH_FILTER_NAME, ROUTER_FILTER]);
    // Envoy resolves gRPC clusters lazily, so check those references here.
    const names = new Set(clustersOf(merged).map((c) => c.name as string));
    for (const ref of grpcClusterRefs(merged)) expect(names.has(ref)).toBe(true);
    const r = envoyValidate(merged);
    expect(r.output).toContain('OK');
    expect(r.output).not.toMatch(/Deprecated field/);
    expect(r.status).toBe(0);
  });

  test('and the same check rejects a broken merge (a chain route whose cluster was left out)', () => {
    const s = buildSnippet(sampleConfig, { extprocAddress: SERVICE });
    const broken = mergeSnippet(platformEnvoy(), { ...s, clusters: s.clusters.slice(0, -1) });
    const r = envoyValidate(broken);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/unknown cluster/);
  });
});
