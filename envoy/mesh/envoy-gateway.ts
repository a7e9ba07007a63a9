// Envoy Gateway (gateway.envoyproxy.io/v1alpha1):
//   - EnvoyExtensionPolicy with one extProc entry: the router-level filter, attached to the
//     HTTPRoute that carries the AI API (or to the whole Gateway). Envoy Gateway builds the filter
//     and its cluster from a Service (or Backend) reference.
//   - HTTPRoute + HTTPRouteFilter (optional): the entry route on the AI paths, answering 404 itself
//     if the filter ever lets a request through without naming a chain.
//   - EnvoyPatchPolicy (JSONPatch): what the extension policy cannot say: the chain clusters with
//     the upstream ext_proc filter, the ext_proc cluster that filter uses, and the chain routes at
//     the top of the listener's virtual hosts. Envoy Gateway must run with
//     extensionApis.enableEnvoyPatchPolicy: true.
import type { GatewayConfig } from '../../extproc/config/schema.ts';
import { bootstrapPlan } from '../plan.ts';
import { buildSnippet, DEFAULT_PATH_PREFIXES, parseHostPort, type MeshOptions } from './snippet.ts';

type Json = Record<string, unknown>;

export const EG_API_VERSION = 'gateway.envoyproxy.io/v1alpha1';
export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';
const ROUTE_CONFIGURATION = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';

export interface EnvoyGatewayOptions extends Omit<MeshOptions, 'scope' | 'accessLog'> {
  /** Namespace of the Gateway (policies must live beside their target). */
  namespace: string;
  /** The Gateway and the listener (section) the AI API is served on. */
  gateway: string;
  listener: string;
  /** Hostnames of the generated HTTPRoute (absent = the listener's). */
  hostnames?: string[];
  /**
   * Attach the extension policy to the generated HTTPRoute (default), to an HTTPRoute of yours
   * (`{ kind: 'HTTPRoute', name }`: no HTTPRoute is generated), or to the whole Gateway.
   */
  target?: { kind: 'HTTPRoute' | 'Gateway'; name: string };
  /** Virtual host (Envoy Gateway names them `<ns>/<gateway>/<listener>/<hostname with _ for .>`) to put the chain routes in; absent = every virtual host of the listener. */
  vhostName?: string;
  /** Resource name prefix. */
  name?: string;
}

/** `svc.ns.svc[.cluster.local]` -> a Service reference; anything else -> an Envoy Gateway Backend. */
export function backendFor(extprocAddress: string, namespace: string, name: string): { ref: Json; backend?: Json } {
  const { host, port } = parseHostPort(extprocAddress);
  const svc = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?$/.exec(host);
  if (svc) return { ref: { group: '', kind: 'Service', name: svc[1], namespace: svc[2], port } };
  return {
    ref: { group: 'gateway.envoyproxy.io', kind: 'Backend', name: `${name}-extproc`, namespace, port },
    backend: {
      apiVersion: EG_API_VERSION,
      kind: 'Backend',
      metadata: { name: `${name}-extproc`, namespace },
      spec: { appProtocols: ['gateway.envoyproxy.io/h2c'], endpoints: [{ fqdn: { hostname: host, port } }] },
    },
  };
}

/** A Gateway API Duration (at most 5 digits per unit). */
const duration = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${Math.round(ms)}ms`);

export function buildEnvoyGatewayResources(config: GatewayConfig, opts: EnvoyGatewayOptions): Json[] {
  const name = opts.name ?? 'switchboard';
  const ns = opts.namespace;
  // Envoy Gateway builds and scopes the router-level filter itself; the snippet gives the rest.
  const snippet = buildSnippet(config, { ...opts, scope: 'listener', accessLog: false });
  const plan = bootstrapPlan(config, { workers: 1, accessLog: false });
  const { ref, backend } = backendFor(opts.extprocAddress, ns, name);
  const prefixes = opts.pathPrefixes?.length ? opts.pathPrefixes : DEFAULT_PATH_PREFIXES;
  const generateRoute = !opts.target;
  const target = opts.target ?? { kind: 'HTTPRoute' as const, name };
  const labels = { 'app.kubernetes.io/part-of': 'switchboard' };
  const out: Json[] = [];
  if (backend) out.push(backend);

  if (generateRoute) {
    out.push({
      apiVersion: EG_API_VERSION,
      kind: 'HTTPRouteFilter',
      metadata: { name: `${name}-unrouted`, namespace: ns, labels },
      spec: {
        directResponse: {
          statusCode: 404,
          contentType: 'application/json',
          body: { type: 'Inline', inline: '{"error":{"message":"no route","type":"invalid_request_error","param":null,"code":"model_not_found"}}' },
        },
      },
    });
    out.push({
      apiVersion: GATEWAY_API_VERSION,
      kind: 'HTTPRoute',
      metadata: { name, namespace: ns, labels },
      spec: {
        parentRefs: [{ name: opts.gateway, sectionName: opts.listener }],
        ...(opts.hostnames?.length ? { hostnames: opts.hostnames } : {}),
        rules: [
          {
            matches: prefixes.map((p) => ({ path: { type: 'PathPrefix', value: p.replace(/\/$/, '') } })),
            filters: [{ type: 'ExtensionRef', extensionRef: { group: 'gateway.envoyproxy.io', kind: 'HTTPRouteFilter', name: `${name}-unrouted` } }],
          },
        ],
      },
    });
  }

  out.push({
    apiVersion: EG_API_VERSION,
    kind: 'EnvoyExtensionPolicy',
    metadata: { name, namespace: ns, labels },
    spec: {
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: target.kind, name: target.name }],
      extProc: [
        {
          backendRefs: [ref],
          backendSettings: {
            // Envoy's default (1024) would cap concurrent LLM requests: one ext_proc stream each.
            circuitBreaker: { maxConnections: 100000, maxPendingRequests: 100000, maxParallelRequests: 1000000 },
            healthCheck: { active: { type: 'GRPC', grpc: {}, timeout: '1s', interval: '2s', unhealthyThreshold: 2, healthyThreshold: 1 } },
          },
          failOpen: false,
          messageTimeout: duration(plan.messageTimeoutMs),
          processingMode: {
            allowModeOverride: true,
            request: { body: 'Buffered' },
            // Headers are sent; the body mode is chosen per response through mode_override.
            response: {},
          },
        },
      ],
    },
  });

  // JSON patches: clusters are new resources (path ""), routes go to the top of each virtual host.
  // Each "add at /0" prepends, so the routes are listed in reverse of their final order.
  const vhosts = opts.vhostName ? `$.virtual_hosts[?(@.name=='${opts.vhostName}')]` : '$.virtual_hosts[*]';
  const routeConfigName = `${ns}/${opts.gateway}/${opts.listener}`;
  const chainRoutes = snippet.routes.filter((r) => snippet.names.chainRoutes.includes(r.name as string));
  out.push({
    apiVersion: EG_API_VERSION,
    kind: 'EnvoyPatchPolicy',
    metadata: { name, namespace: ns, labels },
    spec: {
      targetRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: opts.gateway },
      type: 'JSONPatch',
      jsonPatches: [
        ...snippet.clusters.map((value) => ({ type: CLUSTER, name: value.name, operation: { op: 'add', path: '', value } })),
        { type: ROUTE_CONFIGURATION, name: routeConfigName, operation: { op: 'add', jsonPath: vhosts, path: '/include_attempt_count_in_response', value: true } },
        ...[...chainRoutes].reverse().map((value) => ({ type: ROUTE_CONFIGURATION, name: routeConfigName, operation: { op: 'add', jsonPath: `${vhosts}.routes`, path: '/0', value } })),
      ],
    },
  });
  return out;
}
