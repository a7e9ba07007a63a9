// One upstream attempt, prepared: the request translated for that step's provider and model,
// that provider's credentials, path and host. The router-level filter prepares the first attempt
// and the prepared fallbacks (prepared-fallbacks.ts), the upstream filter any other attempt.
import * as adapters from '../../provider-adapters/index.ts';
import type { GatewayErrorInfo, ProviderType, WireRequest } from '../../provider-adapters/contract.ts';
import { type ProviderConfig, providerBaseUrl } from '../config/providers-schema.ts';
import { gatewayErrors } from '../errors/gateway-errors.ts';
import type { RequestContext } from './request-context.ts';
import type { CredentialsPort, KeyPoolPort } from './ports.ts';

/** Header names every provider type may use for credentials; an earlier attempt may have set any. */
export const PROVIDER_AUTH_HEADERS = ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'anthropic-version', 'anthropic-beta'];

export interface AttemptDeps {
  providers(): Record<string, ProviderConfig>;
  keyPools(): KeyPoolPort;
  credentials: CredentialsPort;
}

export type PreparedAttempt =
  | { ok: true; set: Record<string, string>; remove: string[]; body: Uint8Array; keyId: string }
  | { ok: false; error: GatewayErrorInfo };

function credentialHeaders(credentials: CredentialsPort, type: ProviderType, provider: string, keyId: string): Record<string, string> {
  switch (type) {
    case 'bedrock':
      return {};
    case 'azure-openai':
      return { 'api-key': credentials.apiKey(provider, keyId) };
    case 'anthropic':
      return { 'x-api-key': credentials.apiKey(provider, keyId) };
    case 'gemini':
      return { 'x-goog-api-key': credentials.apiKey(provider, keyId) };
    default:
      return { authorization: `Bearer ${credentials.apiKey(provider, keyId)}` };
  }
}

function joinPath(basePath: string, path: string): string {
  const b = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
  if (!b || path.startsWith(b + '/')) return path;
  return b + path;
}

export interface TranslatedAttempt {
  provider: string;
  model: string;
  keyId: string;
  /** Every header the attempt needs (lower-case names), pseudo-headers (:path, :authority, :method) included. */
  set: Record<string, string>;
  body: Uint8Array;
  droppedParams: string[];
}

export type Translation =
  | { ok: true; attempt: TranslatedAttempt }
  /** `attempt`: the failure is the attempt's own outcome (keys cooling down, credentials), kept in its history. */
  | { ok: false; error: GatewayErrorInfo; attempt?: { provider: string; model: string; keyId?: string; status: number } };

export interface TranslateOptions {
  /** Keys of the provider not to pick when another one is usable (used by an earlier step). */
  avoidKeys?: ReadonlySet<string>;
}

/**
 * Translates the request for `target` ("provider/model"): body, path, host and credentials.
 * Changes nothing in the context; prepareAttempt and the prepared fallbacks record what they use.
 */
export async function translateFor(deps: AttemptDeps, ctx: RequestContext, target: string, now: number, opts: TranslateOptions = {}): Promise<Translation> {
  const slash = target.indexOf('/');
  const providerName = target.slice(0, slash);
  const model = target.slice(slash + 1);
  const provider = deps.providers()[providerName];
  if (slash < 0 || !provider) return { ok: false, error: gatewayErrors.unavailable(`Unknown upstream target "${target}".`) };

  // Providers without keys (on-prem vLLM, Ollama) take requests unauthenticated.
  const pick = provider.keys.length === 0 ? { exhausted: false as const, keyId: '' } : pickKey(deps.keyPools(), providerName, now, opts.avoidKeys);
  if (pick.exhausted) {
    const retryAfter = Math.max(1, Math.ceil((pick.until - now) / 1000));
    return { ok: false, error: gatewayErrors.rateLimited(`provider ${providerName} (all keys cooling down)`, retryAfter), attempt: { provider: providerName, model, status: 429 } };
  }

  const base = new URL(providerBaseUrl(provider));
  const built = adapters.buildUpstreamRequest({
    dialect: ctx.dialect,
    request: ctx.request as never,
    raw: ctx.raw,
    provider: { type: provider.type, baseUrl: base.href, apiVersion: provider.apiVersion, deployment: provider.deployments?.[model], region: provider.region },
    model,
    clientWantsUsage: ctx.clientWantsUsage,
  });
  if (!built.ok) return { ok: false, error: built.error };

  let wire: WireRequest = built.wire;
  let auth: Record<string, string>;
  try {
    auth = pick.keyId ? credentialHeaders(deps.credentials, provider.type, providerName, pick.keyId) : {};
    if (provider.type === 'bedrock' && pick.keyId) {
      wire = await adapters.signBedrockRequest({ ...wire, headers: { ...wire.headers, host: base.host } }, deps.credentials.aws(providerName, pick.keyId), provider.region ?? 'us-east-1', new Date(now));
    }
  } catch (err) {
    return { ok: false, error: gatewayErrors.unavailable((err as Error).message), attempt: { provider: providerName, model, keyId: pick.keyId, status: 503 } };
  }
  // Lower-case names, so every later comparison (what to remove on the next attempt) is exact.
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...wire.headers, ...auth })) set[k.toLowerCase()] = v;
  Object.assign(set, { ':path': joinPath(base.pathname, wire.path), ':authority': base.host, ':method': wire.method, 'content-length': String(wire.body.length) });
  delete set.host;
  return { ok: true, attempt: { provider: providerName, model, keyId: pick.keyId, set, body: wire.body, droppedParams: built.droppedParams } };
}

/** A weighted pick that prefers a key no earlier step of this request holds. */
function pickKey(pools: KeyPoolPort, provider: string, now: number, avoid: ReadonlySet<string> | undefined) {
  const first = pools.pick(provider, now);
  if (first.exhausted || !avoid?.has(first.keyId)) return first;
  // A few more draws: a pool whose only usable key is avoided keeps that key.
  for (let i = 0; i < 4; i++) {
    const again = pools.pick(provider, now);
    if (!again.exhausted && !avoid.has(again.keyId)) return again;
  }
  return first;
}

/** Names of the non-pseudo headers an attempt sets. */
export const upstreamHeaderNames = (set: Record<string, string>) => Object.keys(set).filter((n) => !n.startsWith(':'));

/**
 * Translates the request for `target` ("provider/model") and records the attempt in the context.
 * `alsoRemove` are headers to drop besides those the previous attempt set (e.g. internal ones).
 */
export async function prepareAttempt(deps: AttemptDeps, ctx: RequestContext, target: string, now: number, alsoRemove: readonly string[]): Promise<PreparedAttempt> {
  const t = await translateFor(deps, ctx, target, now);
  if (!t.ok) {
    if (t.attempt) ctx.attempts.push(t.attempt);
    return { ok: false, error: t.error };
  }
  const { attempt } = t;
  for (const p of attempt.droppedParams) if (!ctx.droppedParams.includes(p)) ctx.droppedParams.push(p);
  ctx.attempts.push({ provider: attempt.provider, model: attempt.model, keyId: attempt.keyId });
  const setNames = Object.keys(attempt.set);
  // Envoy reuses one header map for every retry: drop what the previous attempt set.
  const remove = new Set<string>([...alsoRemove, ...PROVIDER_AUTH_HEADERS, ...ctx.headersSetUpstream]);
  for (const n of setNames) remove.delete(n);
  ctx.headersSetUpstream = upstreamHeaderNames(attempt.set);
  return { ok: true, set: attempt.set, remove: [...remove], body: attempt.body, keyId: attempt.keyId };
}
