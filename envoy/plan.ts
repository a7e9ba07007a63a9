// From gateway.yaml to the Envoy bootstrap plan: every fallback chain the router can return
// becomes one cluster per worker, each chain step one endpoint priority.
import path from 'node:path';
import type { GatewayConfig } from '../extproc/config/schema.ts';
import { providerBaseUrl } from '../extproc/config/providers-schema.ts';
import { listChains } from '../extproc/routing/index.ts';
import type { BootstrapPlan, ChainPlan } from './bootstrap.ts';

const DEFAULT_PER_ATTEMPT_TIMEOUT_MS = 300_000;

export function workerSocket(stateDir: string, worker: number): string {
  return `unix:${path.resolve(stateDir, `extproc-${worker}.sock`)}`;
}

/** Envoy retry_on names for our retry conditions. */
function envoyRetryOn(conditions: readonly string[]): { retryOn: string[]; codes: number[] } {
  const retryOn = new Set<string>();
  const codes: number[] = [];
  for (const c of conditions) {
    if (c === '5xx') retryOn.add('5xx');
    else if (c === '429') codes.push(429);
    else if (c === 'connect-failure') retryOn.add('connect-failure');
    else if (c === 'reset') {
      retryOn.add('reset');
      retryOn.add('refused-stream');
    } else if (c === 'per-attempt-timeout') retryOn.add('gateway-error'); // a per-try timeout is a 504
  }
  if (codes.length) retryOn.add('retriable-status-codes');
  return { retryOn: [...retryOn], codes };
}

export function chainPlans(config: GatewayConfig): ChainPlan[] {
  const keyOverrides = config.virtualKeys
    .filter((k) => k.fallbackChain?.length)
    .map((k) => ({
      keyId: k.id,
      fallbacks: (k.fallbackChain ?? []).map((t) => {
        const i = t.indexOf('/');
        return { provider: t.slice(0, i), model: t.slice(i + 1) };
      }),
    }));
  return listChains({ routing: config.routing, models: config.models }, keyOverrides).map((chain) => {
    const { retryOn, codes } = envoyRetryOn(chain.retry.retryOn);
    return {
      id: chain.id,
      perTryTimeoutMs: chain.retry.firstByteTimeoutMs ?? chain.retry.perAttemptTimeoutMs ?? DEFAULT_PER_ATTEMPT_TIMEOUT_MS,
      retryOn,
      retriableStatusCodes: [...codes, ...chain.retry.retriableStatusCodes],
      steps: chain.targets.map((t) => {
        const provider = config.providers[t.provider];
        if (!provider) throw new Error(`chain ${chain.id}: unknown provider ${t.provider}`);
        const url = new URL(providerBaseUrl(provider));
        const tls = url.protocol === 'https:';
        return { target: `${t.provider}/${t.model}`, host: url.hostname, port: Number(url.port || (tls ? 443 : 80)), tls };
      }),
    };
  });
}

export function bootstrapPlan(config: GatewayConfig, opts: { workers: number; accessLog: boolean; alsoChainsOf?: GatewayConfig }): BootstrapPlan {
  const s = config.server;
  const chains = chainPlans(config);
  if (opts.alsoChainsOf) {
    // During a reload, requests decided under the previous config still name its chains.
    const ids = new Set(chains.map((c) => c.id));
    for (const c of chainPlans(opts.alsoChainsOf)) if (!ids.has(c.id)) chains.push(c);
  }
  return {
    listener: s.listener,
    envoyAdmin: s.envoyAdmin,
    extprocEndpoints: Array.from({ length: opts.workers }, (_, w) => workerSocket(s.stateDir, w)),
    chains,
    maxRequestBytes: s.maxRequestBytes,
    messageTimeoutMs: s.messageTimeoutMs,
    requestTimeoutMs: s.requestTimeoutMs,
    streamIdleTimeoutMs: s.streamIdleTimeoutMs,
    caFile: s.caFile,
    accessLog: opts.accessLog,
    pretranslate: s.upstreamAffinity,
  };
}
