// gateway.yaml for system b: the whole gateway in front of one simulated OpenAI-compatible
// provider `sim`, one model, one virtual key. Only what the scenario needs; every other section
// keeps its defaults.

export interface SimGatewayYamlOptions {
  ports: { gateway: number; gatewayAdmin: number; gatewayEnvoyAdmin: number };
  workers: number;
  stateDir: string;
  /** The simulator's base URL, without /v1. */
  simUrl: string;
  model: string;
  /** hashVirtualKey() of the bench's virtual key. */
  keyHash: string;
  /** Further top-level sections, each line ending in a newline. */
  extra?: string;
}

export function simGatewayYaml(o: SimGatewayYamlOptions): string {
  return `server:
  listener: { host: 127.0.0.1, port: ${o.ports.gateway} }
  admin: { host: 127.0.0.1, port: ${o.ports.gatewayAdmin} }
  envoyAdmin: { host: 127.0.0.1, port: ${o.ports.gatewayEnvoyAdmin} }
  workers: ${o.workers}
  stateDir: ${o.stateDir}
providers:
  sim: { type: openai, baseUrl: ${o.simUrl}/v1, keys: [{ id: k1, secret: { env: BENCH_SIM_KEY } }] }
models:
  ${o.model}: { targets: [{ provider: sim, model: ${o.model} }] }
virtualKeys:
  - { id: vk-bench, name: bench, hash: ${o.keyHash} }
pricing: { unknownPricePolicy: allow-at-zero }
${o.extra ?? ''}`;
}
