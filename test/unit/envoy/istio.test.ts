import { chainKey } from '../../../envoy/bootstrap.ts';
import { chainPlans } from '../../../envoy/plan.ts';
import { buildIstioEnvoyFilters, ISTIO_API_VERSION } from '../../../envoy/mesh/istio.ts';
import { buildSnippet, MESH_FILTER_NAME, ROUTER_FILTER } from '../../../envoy/mesh/snippet.ts';
import { renderEnvoyConfig } from '../../../envoy/mesh/cli.ts';
import { clustersOf, envoyValidate, grpcClusterRefs, hcmOf, platformEnvoy, sampleConfig, SERVICE, vhostOf, parseDocs, type Json } from './fixture.ts';

const patchesOf = (docs: Json[]) => docs.flatMap((d) => (d.spec as Json).configPatches as Json[]);

/**
 * Applies EnvoyFilter patches to a config the way istiod does for the few operations used here
 * (pilot/pkg/networking/core/envoyfilter): CLUSTER ADD appends, HTTP_FILTER INSERT_BEFORE puts the
 * value before the matched sub-filter, VIRTUAL_HOST MERGE merges fields, HTTP_ROUTE INSERT_FIRST
 * (without a route match) prepends, patch after patch.
 */
function applyLikeIstio(base: Json, docs: Json[]): Json {
  const config = structuredClone(base);
  for (const p of patchesOf(docs)) {
    const patch = p.patch as Json;
    const value = structuredClone(patch.value) as Json;
    const key = `${String(p.applyTo)} ${String(patch.operation)}`;
    const hcm = hcmOf(config);
    switch (key) {
      case 'CLUSTER ADD':
        clustersOf(config).push(value);
        break;
      case 'HTTP_FILTER INSERT_BEFORE': {
        const sub = ((((p.match as Json).listener as Json).filterChain as Json).filter as Json).subFilter as Json;
        const filters = hcm.http_filters as Json[];
        const i = filters.findIndex((f) => f.name === sub.name);
        expect(i).toBeGreaterThanOrEqual(0);
        filters.splice(i, 0, value);
        break;
      }
      case 'HTTP_FILTER MERGE': {
        const router = (hcm.http_filters as Json[]).find((f) => f.name === value.name) as Json;
        const tc = router.typed_config as Json;
        tc.upstream_log = [...((tc.upstream_log as Json[]) ?? []), ...(((value.typed_config as Json).upstream_log as Json[]) ?? [])];
        break;
      }
      case 'VIRTUAL_HOST MERGE':
        Object.assign(vhostOf(config), value);
        break;
      case 'HTTP_ROUTE INSERT_FIRST':
        vhostOf(config).routes = [value, ...(vhostOf(config).routes as Json[])];
        break;
      default:
        throw new Error(`patch not simulated: ${key}`);
    }
  }
  return config;
}

describe('Istio EnvoyFilters', () => {
  const opts = { extprocAddress: SERVICE, namespace: 'istio-system' };
  const docs = buildIstioEnvoyFilters(sampleConfig, opts);
  const snippet = buildSnippet(sampleConfig, opts);

  test('three EnvoyFilters for the ingress gateway, every patch in the GATEWAY context', () => {
    expect(docs.map((d) => [d.apiVersion, d.kind, (d.metadata as Json).name, (d.metadata as Json).namespace])).toEqual([
      [ISTIO_API_VERSION, 'EnvoyFilter', 'switchboard-clusters', 'istio-system'],
      [ISTIO_API_VERSION, 'EnvoyFilter', 'switchboard-filter', 'istio-system'],
      [ISTIO_API_VERSION, 'EnvoyFilter', 'switchboard-routes', 'istio-system'],
    ]);
    for (const d of docs) expect((d.spec as Json).workloadSelector).toEqual({ labels: { istio: 'ingressgateway' } });
    for (const p of patchesOf(docs)) expect((p.match as Json).context).toBe('GATEWAY');
  });

  test('patch contexts and operations', () => {
    const ops = patchesOf(docs).map((p) => `${String(p.applyTo)} ${String((p.patch as Json).operation)}`);
    const chains = chainPlans(sampleConfig).length;
    expect(ops).toEqual([
      ...Array<string>(chains + 1).fill('CLUSTER ADD'),
      'HTTP_FILTER INSERT_BEFORE',
      'VIRTUAL_HOST MERGE',
      ...Array<string>(snippet.routes.length).fill('HTTP_ROUTE INSERT_FIRST'),
    ]);
    const filterPatch = patchesOf(docs).find((p) => p.applyTo === 'HTTP_FILTER') as Json;
    expect(((filterPatch.match as Json).listener as Json).filterChain).toEqual({
      filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: ROUTER_FILTER } },
    });
    const value = (filterPatch.patch as Json).value as Json;
    expect((value.typed_config as Json).failure_mode_allow).toBe(false);
    expect(value.disabled).toBe(true);
  });

  test('applied in order, the routes end up chain routes first, then entry routes, then the gateway’s own', () => {
    const applied = applyLikeIstio(platformEnvoy(), docs);
    const names = (vhostOf(applied).routes as Json[]).map((r) => r.name);
    expect(names).toEqual([...snippet.routes.map((r) => r.name), 'app']);
    expect(names.slice(0, chainPlans(sampleConfig).length)).toEqual(chainPlans(sampleConfig).map((c) => `chain_${chainKey(c.id, 0)}`));
  });

  test('the patched gateway config passes the real Envoy (--mode validate)', () => {
    const applied = applyLikeIstio(platformEnvoy(), buildIstioEnvoyFilters(sampleConfig, { ...opts, accessLog: true }));
    expect((hcmOf(applied).http_filters as Json[]).map((f) => f.name)).toEqual(['envoy.filters.http.cors', MESH_FILTER_NAME, ROUTER_FILTER]);
    const names = new Set(clustersOf(applied).map((c) => c.name as string));
    for (const ref of grpcClusterRefs(applied)) expect(names.has(ref)).toBe(true);
    const r = envoyValidate(applied);
    expect(r.output).toContain('OK');
    expect(r.status).toBe(0);
  });

  test('sidecar, port, virtual host and Istio’s own cluster for the Service', () => {
    const d = buildIstioEnvoyFilters(sampleConfig, {
      extprocAddress: SERVICE,
      context: 'SIDECAR_INBOUND',
      selector: { app: 'ai-proxy' },
      portNumber: 8080,
      vhostName: 'inbound|http|8080',
      istioServiceCluster: true,
    });
    const patches = patchesOf(d);
    expect(patches.every((p) => (p.match as Json).context === 'SIDECAR_INBOUND')).toBe(true);
    expect((d[0]?.spec as Json).workloadSelector).toEqual({ labels: { app: 'ai-proxy' } });
    const routePatch = patches.find((p) => p.applyTo === 'HTTP_ROUTE') as Json;
    expect((routePatch.match as Json).routeConfiguration).toEqual({ portNumber: 8080, vhost: { name: 'inbound|http|8080' } });
    // No cluster of our own for Switchboard: both filters use Istio's (mTLS) outbound cluster.
    const added = patches.filter((p) => p.applyTo === 'CLUSTER').map((p) => ((p.patch as Json).value as Json).name as string);
    expect(added.every((n) => n.startsWith('sb_chain_'))).toBe(true);
    expect([...grpcClusterRefs(d)]).toEqual(['outbound|9002||switchboard.switchboard.svc.cluster.local']);
  });

  test('--format istio is valid multi-document YAML', () => {
    const text = renderEnvoyConfig(sampleConfig, 'istio', { extproc: SERVICE, namespace: 'istio-system', selector: ['istio=ai-gateway'] });
    const objs = parseDocs(text);
    expect(objs.map((o) => o.kind)).toEqual(['EnvoyFilter', 'EnvoyFilter', 'EnvoyFilter']);
    expect(((objs[0]?.spec as Json).workloadSelector as Json).labels).toEqual({ istio: 'ai-gateway' });
    expect(() => renderEnvoyConfig(sampleConfig, 'istio', { context: 'SIDECAR' })).toThrow(/--context/);
  });
});
