import { chainPlans } from '../../../envoy/plan.ts';
import { backendFor, buildEnvoyGatewayResources, EG_API_VERSION } from '../../../envoy/mesh/envoy-gateway.ts';
import { buildSnippet, ROUTER_FILTER } from '../../../envoy/mesh/snippet.ts';
import { renderEnvoyConfig } from '../../../envoy/mesh/cli.ts';
import { clustersOf, envoyValidate, grpcClusterRefs, hcmOf, platformEnvoy, sampleConfig, SERVICE, vhostOf, parseDocs, type Json } from './fixture.ts';

const opts = { extprocAddress: SERVICE, namespace: 'ai', gateway: 'eg', listener: 'http' };
const byKind = (docs: Json[], kind: string) => docs.filter((d) => d.kind === kind);

/** RFC 6901 pointer segments. */
const segments = (pointer: string) => (pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));

/** The two JSONPath shapes the generator uses, evaluated against a RouteConfiguration: pointers to each virtual host (or its routes). */
function evalJsonPath(doc: Json, jsonPath: string): string[] {
  const m = /^\$\.virtual_hosts\[(\*|\?\(@\.name=='([^']*)'\))\](\.routes)?$/.exec(jsonPath);
  if (!m) throw new Error(`JSONPath not simulated: ${jsonPath}`);
  const vhosts = doc.virtual_hosts as Json[];
  return vhosts.flatMap((v, i) => (m[1] === '*' || v.name === m[2] ? [`/virtual_hosts/${i}${m[3] ? '/routes' : ''}`] : []));
}

/** JSON Patch "add" (RFC 6902) at a pointer. */
function add(doc: Json, pointer: string, value: unknown): void {
  const segs = segments(pointer);
  const last = segs.pop() as string;
  let cur: unknown = doc;
  for (const s of segs) cur = (cur as Record<string, unknown>)[s];
  if (Array.isArray(cur)) cur.splice(last === '-' ? cur.length : Number(last), 0, value);
  else (cur as Json)[last] = value;
}

/** What Envoy Gateway does with the EnvoyPatchPolicy's patches, for the operations used here. */
function applyPatchPolicy(config: Json, policy: Json, routeConfigName: string): Json {
  const out = structuredClone(config);
  const rc = hcmOf(out).route_config as Json;
  for (const p of (policy.spec as Json).jsonPatches as Json[]) {
    const op = p.operation as Json;
    expect(op.op).toBe('add');
    if (p.type === 'type.googleapis.com/envoy.config.cluster.v3.Cluster') {
      expect(op.path).toBe('');
      clustersOf(out).push(structuredClone(op.value) as Json);
    } else if (p.type === 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration') {
      expect(p.name).toBe(routeConfigName);
      for (const base of evalJsonPath(rc, op.jsonPath as string)) add(rc, `${base}${op.path as string}`, structuredClone(op.value));
    } else throw new Error(`patch type not simulated: ${String(p.type)}`);
  }
  return out;
}

describe('Envoy Gateway resources', () => {
  const docs = buildEnvoyGatewayResources(sampleConfig, opts);
  const snippet = buildSnippet(sampleConfig, { extprocAddress: SERVICE, scope: 'listener' });

  test('EnvoyExtensionPolicy: the router-level filter, fail closed, buffered request, response by mode_override, Service backend', () => {
    const [eep] = byKind(docs, 'EnvoyExtensionPolicy');
    expect(eep?.apiVersion).toBe(EG_API_VERSION);
    const spec = eep?.spec as Json;
    expect(spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'switchboard' }]);
    const [ep] = spec.extProc as Json[];
    expect(ep?.failOpen).toBe(false);
    expect(ep?.messageTimeout).toBe('4s');
    expect(ep?.processingMode).toEqual({ allowModeOverride: true, request: { body: 'Buffered' }, response: {} });
    expect(ep?.backendRefs).toEqual([{ group: '', kind: 'Service', name: 'switchboard', namespace: 'switchboard', port: 9002 }]);
    expect((((ep?.backendSettings as Json).healthCheck as Json).active as Json).type).toBe('GRPC');
    expect(byKind(docs, 'Backend')).toEqual([]);
  });

  test('HTTPRoute on the AI paths with a 404 of its own; the policy targets it', () => {
    const [route] = byKind(docs, 'HTTPRoute');
    const spec = route?.spec as Json;
    expect(spec.parentRefs).toEqual([{ name: 'eg', sectionName: 'http' }]);
    const rule = (spec.rules as Json[])[0] as Json;
    expect((rule.matches as Json[]).map((m) => (m.path as Json).value)).toEqual(['/v1', '/v1beta', '/v1alpha', '/openai']);
    const [filter] = byKind(docs, 'HTTPRouteFilter');
    expect(((rule.filters as Json[])[0]?.extensionRef as Json).name).toBe((filter?.metadata as Json).name);
    expect(((filter?.spec as Json).directResponse as Json).statusCode).toBe(404);
  });

  test('EnvoyPatchPolicy: every cluster added, chain routes at the top of the listener’s virtual hosts, in chain order', () => {
    const [epp] = byKind(docs, 'EnvoyPatchPolicy');
    const spec = epp?.spec as Json;
    expect(spec.type).toBe('JSONPatch');
    expect(spec.targetRef).toEqual({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'eg' });
    const patches = spec.jsonPatches as Json[];
    const clusterNames = patches.filter((p) => p.type === 'type.googleapis.com/envoy.config.cluster.v3.Cluster').map((p) => p.name);
    expect(clusterNames).toEqual(snippet.clusters.map((c) => c.name));
    const gatewayConfig = platformEnvoy();
    (hcmOf(gatewayConfig).route_config as Json).name = 'ai/eg/http';
    const applied = applyPatchPolicy(gatewayConfig, epp as Json, 'ai/eg/http');
    const vhost = vhostOf(applied);
    expect(vhost.include_attempt_count_in_response).toBe(true);
    const chains = chainPlans(sampleConfig).length;
    expect((vhost.routes as Json[]).map((r) => r.name)).toEqual([...snippet.names.chainRoutes, 'app']);
    expect(snippet.names.chainRoutes).toHaveLength(chains);
    // Every chain route names a cluster the policy adds.
    for (const r of (vhost.routes as Json[]).slice(0, chains)) expect(clusterNames).toContain((r.route as Json).cluster);
  });

  test('the patched Envoy (a stand-in for the filter Envoy Gateway generates) passes the real Envoy (--mode validate)', () => {
    const [epp] = byKind(docs, 'EnvoyPatchPolicy');
    const gatewayConfig = platformEnvoy();
    const hcm = hcmOf(gatewayConfig);
    (hcm.route_config as Json).name = 'ai/eg/http';
    const filters = hcm.http_filters as Json[];
    filters.splice(filters.findIndex((f) => f.name === ROUTER_FILTER), 0, snippet.httpFilter);
    const applied = applyPatchPolicy(gatewayConfig, epp as Json, 'ai/eg/http');
    const names = new Set(clustersOf(applied).map((c) => c.name as string));
    for (const ref of grpcClusterRefs(applied)) expect(names.has(ref)).toBe(true);
    const r = envoyValidate(applied);
    expect(r.output).toContain('OK');
    expect(r.status).toBe(0);
  });

  test('a named virtual host, your own HTTPRoute, or the whole Gateway', () => {
    const d = buildEnvoyGatewayResources(sampleConfig, { ...opts, vhostName: 'ai/eg/http/ai_example_com', target: { kind: 'Gateway', name: 'eg' } });
    expect(byKind(d, 'HTTPRoute')).toEqual([]);
    expect(((byKind(d, 'EnvoyExtensionPolicy')[0]?.spec as Json).targetRefs as Json[])[0]?.kind).toBe('Gateway');
    const routePatch = ((byKind(d, 'EnvoyPatchPolicy')[0]?.spec as Json).jsonPatches as Json[]).find((p) => (p.operation as Json).path === '/0') as Json;
    expect((routePatch.operation as Json).jsonPath).toBe("$.virtual_hosts[?(@.name=='ai/eg/http/ai_example_com')].routes");
  });

  test('an address outside the cluster becomes an Envoy Gateway Backend', () => {
    const { ref, backend } = backendFor('switchboard.internal.example.com:9002', 'ai', 'switchboard');
    expect(ref).toEqual({ group: 'gateway.envoyproxy.io', kind: 'Backend', name: 'switchboard-extproc', namespace: 'ai', port: 9002 });
    expect((backend?.spec as Json).endpoints).toEqual([{ fqdn: { hostname: 'switchboard.internal.example.com', port: 9002 } }]);
    expect(backendFor('switchboard.switchboard.svc:9002', 'ai', 'x').backend).toBeUndefined();
  });

  test('--format envoy-gateway is valid multi-document YAML and needs the Gateway named', () => {
    const text = renderEnvoyConfig(sampleConfig, 'envoy-gateway', { extproc: SERVICE, namespace: 'ai', gateway: 'eg', listener: 'http' });
    expect(parseDocs(text).map((d) => d.kind)).toEqual(['HTTPRouteFilter', 'HTTPRoute', 'EnvoyExtensionPolicy', 'EnvoyPatchPolicy']);
    expect(() => renderEnvoyConfig(sampleConfig, 'envoy-gateway', { extproc: SERVICE })).toThrow(/--gateway/);
  });
});
