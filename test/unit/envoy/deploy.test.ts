// deploy/kubernetes: the manifests agree with each other, with gateway.yaml and with the address
// the mesh generators point Envoy at. (No cluster here: what Kubernetes itself would say is not tested.)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../../extproc/config/load.ts';
import { DEFAULT_EXTPROC_ADDRESS } from '../../../envoy/mesh/cli.ts';
import { parseHostPort } from '../../../envoy/mesh/snippet.ts';
import { parseDocs, type Json } from './fixture.ts';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../deploy/kubernetes');
const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
const kustomization = parseDocs(read('kustomization.yaml'))[0] as Json;
const resources = (kustomization.resources as string[]).flatMap((f) => parseDocs(read(f)));
const one = (kind: string, name?: string) => {
  const found = resources.filter((r) => r.kind === kind && (!name || (r.metadata as Json).name === name));
  expect(found).toHaveLength(1);
  return found[0] as Json;
};
const gateway = parseConfig(read('gateway.yaml'), 'deploy/kubernetes/gateway.yaml');
const deployment = one('Deployment');
const podSpec = ((deployment.spec as Json).template as Json).spec as Json;
const podLabels = (((deployment.spec as Json).template as Json).metadata as Json).labels as Record<string, string>;
const container = (podSpec.containers as Json[])[0] as Json;
const command = container.command as string[];
const arg = (flag: string) => command[command.indexOf(flag) + 1];
const grpcPort = (container.ports as Json[]).find((p) => p.name === 'grpc')?.containerPort as number;
const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);

describe('deploy/kubernetes', () => {
  test('every resource listed in kustomization.yaml exists and parses', () => {
    for (const f of kustomization.resources as string[]) expect(existsSync(path.join(dir, f))).toBe(true);
    expect(resources.map((r) => r.kind).sort()).toEqual(['Deployment', 'Namespace', 'PodDisruptionBudget', 'Service', 'Service', 'ServiceAccount']);
  });

  test('gateway.yaml is valid, shares state through Redis, and its replica count is the Deployment’s', () => {
    expect(gateway.state.type).toBe('redis');
    expect(gateway.state.type === 'redis' && gateway.state.replicas).toBe((deployment.spec as Json).replicas);
    const generated = (kustomization.configMapGenerator as Json[])[0] as Json;
    expect(generated.files).toEqual(['gateway.yaml']);
    const configVolume = (podSpec.volumes as Json[]).find((v) => (v.configMap as Json | undefined)?.name === generated.name) as Json;
    const mount = (container.volumeMounts as Json[]).find((m) => m.name === configVolume.name) as Json;
    expect(arg('--config')).toBe(`${mount.mountPath as string}/gateway.yaml`);
  });

  test('one worker per pod: worker-main as worker 0 on TCP, the port the Services and probes use', () => {
    expect(command.slice(0, 2)).toEqual(['node', 'extproc/runtime/worker-main.ts']);
    expect(arg('--worker')).toBe('0');
    expect(parseHostPort(arg('--tcp') as string)).toEqual({ host: '0.0.0.0', port: grpcPort });
    expect(((container.readinessProbe as Json).grpc as Json).port).toBe(grpcPort);
    expect(((container.startupProbe as Json).grpc as Json).port).toBe(grpcPort);
    const services = resources.filter((r) => r.kind === 'Service');
    for (const s of services) {
      const spec = s.spec as Json;
      expect(selects(spec.selector as Record<string, string>)).toBe(true);
      expect((spec.ports as Json[]).map((p) => p.targetPort)).toEqual(['grpc']);
    }
    expect(services.some((s) => (s.spec as Json).clusterIP === 'None')).toBe(true);
  });

  test('the address envoy-config uses by default is the headless Service of these manifests', () => {
    const { host, port } = parseHostPort(DEFAULT_EXTPROC_ADDRESS);
    const [svc, ns] = host.split('.');
    expect(ns).toBe(kustomization.namespace);
    const service = one('Service', svc);
    expect((service.spec as Json).clusterIP).toBe('None');
    expect(((service.spec as Json).ports as Json[])[0]?.port).toBe(port);
  });

  test('non-root, read-only root filesystem, writable state directory, no privilege escalation', () => {
    const pod = podSpec.securityContext as Json;
    expect(pod.runAsNonRoot).toBe(true);
    expect(pod.runAsUser).not.toBe(0);
    const c = container.securityContext as Json;
    expect(c.readOnlyRootFilesystem).toBe(true);
    expect(c.allowPrivilegeEscalation).toBe(false);
    expect((c.capabilities as Json).drop).toEqual(['ALL']);
    const mounts = container.volumeMounts as Json[];
    const emptyDirs = new Set((podSpec.volumes as Json[]).filter((v) => v.emptyDir).map((v) => v.name));
    expect(mounts.some((m) => m.mountPath === gateway.server.stateDir && emptyDirs.has(m.name))).toBe(true);
    expect((container.resources as Json).requests).toBeDefined();
  });

  test('secrets come from a Secret: the key-hash secret, every provider key gateway.yaml names, the audit database', () => {
    const env = container.env as Json[];
    const fromSecret = new Set(env.filter((e) => (e.valueFrom as Json | undefined)?.secretKeyRef).map((e) => e.name as string));
    const wanted = ['SWITCHBOARD_KEY_HASH_SECRET', gateway.audit.postgres.connectionStringEnv];
    for (const p of Object.values(gateway.providers)) for (const k of p.keys) if (k.secret && 'env' in k.secret && k.secret.env) wanted.push(k.secret.env);
    for (const name of wanted) expect(fromSecret.has(name)).toBe(true);
    expect(env.every((e) => !(e.name as string).match(/KEY|SECRET|PASSWORD|DATABASE/) || e.valueFrom)).toBe(true);
  });

  test('draining fits in the grace period; the disruption budget keeps pods and selects them', () => {
    expect((podSpec.terminationGracePeriodSeconds as number) * 1000).toBeGreaterThan(gateway.server.drainTimeoutMs);
    const pdb = one('PodDisruptionBudget').spec as Json;
    expect(selects((pdb.selector as Json).matchLabels as Record<string, string>)).toBe(true);
    expect(pdb.minAvailable as number).toBeLessThan((deployment.spec as Json).replicas as number);
  });

  const kubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
  (kubectl ? test : test.skip)('kubectl kustomize renders it (offline), the ConfigMap name hashed and wired into the pod', () => {
    const r = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rendered = parseDocs(r.stdout);
    const cm = rendered.find((d) => d.kind === 'ConfigMap') as Json;
    expect((cm.metadata as Json).name).toMatch(/^switchboard-config-[a-z0-9]+$/);
    expect((cm.data as Json)['gateway.yaml']).toBe(read('gateway.yaml'));
    const dep = rendered.find((d) => d.kind === 'Deployment') as Json;
    const volumes = (((dep.spec as Json).template as Json).spec as Json).volumes as Json[];
    expect(volumes.some((v) => (v.configMap as Json | undefined)?.name === (cm.metadata as Json).name)).toBe(true);
    expect(rendered.every((d) => d.kind === 'Namespace' || (d.metadata as Json).namespace === 'switchboard')).toBe(true);
  });
});
