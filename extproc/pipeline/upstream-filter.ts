// The upstream ext_proc filter: one instance per attempt (Envoy runs it inside the chain cluster,
// after it picked the endpoint, so once per fallback step). It translates the request for the
// provider and model of that step, injects that provider's credentials and answers the headers
// message with CONTINUE_AND_REPLACE, so Envoy never ships the body to Switchboard again.
import type { Logger } from 'pino';
import * as adapters from '../../provider-adapters/index.ts';
import type { ProviderType, WireRequest } from '../../provider-adapters/contract.ts';
import { type ProviderConfig, providerBaseUrl } from '../config/providers-schema.ts';
import { attribute, BodySendMode, bodyBytes, headerMap, immediate, ResponseStatus, setHeaders, type ProcessingRequest, type ProcessingResponse } from '../server/messages.ts';
import type { StreamHandler } from '../server/processing-stream.ts';
import { CHAIN_HEADER } from '../../envoy/bootstrap.ts';
import { parseContextHeader } from './router-filter.ts';
import type { ContextRegistry, RequestContext } from './request-context.ts';
import type { Clock, CredentialsPort, KeyPoolPort, Principal } from './ports.ts';
import { gatewayErrors } from '../errors/gateway-errors.ts';
import type { AttemptJournal } from './attempt-log.ts';
import { CONTEXT_HEADER } from './router-filter.ts';

export interface UpstreamFilterDeps {
  registry: ContextRegistry;
  providers(): Record<string, ProviderConfig>;
  keyPools(): KeyPoolPort;
  credentials: CredentialsPort;
  clock: Clock;
  log: Logger;
  journal: AttemptJournal;
  onContextMiss(): void;
}

/** Header names every provider type may use for credentials; an earlier attempt may have set any. */
const PROVIDER_AUTH_HEADERS = ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'anthropic-version', 'anthropic-beta'];

/** `key: "target" value { string_value: "openai/gpt-4o" }` inside Envoy's text-format host metadata. */
const TARGET_IN_METADATA = /key: "target"\s+value \{ string_value: "((?:[^"\\]|\\.)*)" \}/;

export function targetFromHostMetadata(req: ProcessingRequest): string | undefined {
  const v = attribute(req, 'xds.upstream_host_metadata');
  const text = v?.stringValue;
  if (text) return TARGET_IN_METADATA.exec(text)?.[1];
  const st = v?.structValue?.fields?.filter_metadata?.structValue?.fields?.switchboard?.structValue?.fields?.target?.stringValue;
  return st;
}

export class UpstreamFilter implements StreamHandler {
  private headers: Map<string, string> = new Map();
  private target = '';

  private readonly deps: UpstreamFilterDeps;

  constructor(deps: UpstreamFilterDeps) {
    this.deps = deps;
  }

  async handle(req: ProcessingRequest): Promise<ProcessingResponse | null> {
    if (req.request_headers) {
      this.headers = headerMap(req.request_headers);
      this.target = targetFromHostMetadata(req) ?? '';
      const requestId = this.headers.get('x-request-id') ?? '';
      const ctx = this.deps.registry.get(requestId);
      if (ctx) return this.translate(ctx, 'request_headers');
      // Not ours (another process made the decision): ask for the body and rebuild from it.
      this.deps.onContextMiss();
      return { request_headers: { response: {} }, mode_override: { request_body_mode: BodySendMode.BUFFERED } };
    }
    if (req.request_body) {
      const ctx = this.rebuild(bodyBytes(req.request_body));
      if (!ctx) return errorReply(gatewayErrors.unavailable('Request context lost between gateway phases; retry the request.'));
      return this.translate(ctx, 'request_body');
    }
    return null;
  }

  close(): void {}

  private rebuild(body: Uint8Array): RequestContext | null {
    const meta = parseContextHeader(this.headers.get(CONTEXT_HEADER));
    if (!meta) return null;
    const parsed = adapters.parseIngress(meta.dialect, body, { pathModel: meta.pathModel, stream: meta.stream });
    if (!parsed.ok) return null;
    const principal: Principal = { keyId: this.headers.get('x-sb-key-id') ?? 'unknown' };
    return {
      requestId: this.headers.get('x-request-id') ?? '',
      startedAt: this.deps.clock.now(),
      dialect: meta.dialect,
      pathModel: meta.pathModel,
      stream: meta.stream,
      clientWantsUsage: meta.wantsUsage,
      request: parsed.request,
      raw: parsed.raw,
      requestedModel: parsed.request.model,
      promptTokens: 0,
      principal,
      rule: '',
      chain: [],
      attempts: [],
      headersSetUpstream: [],
      droppedParams: [],
      findings: [],
      governanceHeaders: {},
      reserved: false,
      settled: false,
    };
  }

  private async translate(ctx: RequestContext, phase: 'request_headers' | 'request_body'): Promise<ProcessingResponse> {
    const before = ctx.attempts.length;
    const res = await this.translateAttempt(ctx, phase);
    // Every attempt Envoy will log, answered by us or sent upstream, goes into the journal in order.
    const attempt = ctx.attempts[before] ?? { provider: this.target.split('/')[0] ?? '', model: this.target.slice(this.target.indexOf('/') + 1) };
    this.deps.journal.record(ctx.requestId, { provider: attempt.provider, model: attempt.model, ...(attempt.keyId ? { keyId: attempt.keyId } : {}) }, this.deps.clock.now());
    return res;
  }

  private async translateAttempt(ctx: RequestContext, phase: 'request_headers' | 'request_body'): Promise<ProcessingResponse> {
    const slash = this.target.indexOf('/');
    const providerName = this.target.slice(0, slash);
    const model = this.target.slice(slash + 1);
    const provider = this.deps.providers()[providerName];
    if (slash < 0 || !provider) return errorReply(gatewayErrors.unavailable(`Unknown upstream target "${this.target}".`));

    const now = this.deps.clock.now();
    // Providers without keys (on-prem vLLM, Ollama) take requests unauthenticated.
    const pick = provider.keys.length === 0 ? { exhausted: false as const, keyId: '' } : this.deps.keyPools().pick(providerName, now);
    if (pick.exhausted) {
      // Every key of this provider cools down: answer this attempt with 429 so Envoy moves on.
      ctx.attempts.push({ provider: providerName, model, status: 429 });
      const retryAfter = Math.max(1, Math.ceil((pick.until - now) / 1000));
      return errorReply(gatewayErrors.rateLimited(`provider ${providerName} (all keys cooling down)`, retryAfter));
    }

    const built = adapters.buildUpstreamRequest({
      dialect: ctx.dialect,
      request: ctx.request as never,
      raw: ctx.raw,
      provider: {
        type: provider.type,
        baseUrl: providerBaseUrl(provider),
        apiVersion: provider.apiVersion,
        deployment: provider.deployments?.[model],
        region: provider.region,
      },
      model,
      clientWantsUsage: ctx.clientWantsUsage,
    });
    if (!built.ok) return errorReply(built.error);
    for (const p of built.droppedParams) if (!ctx.droppedParams.includes(p)) ctx.droppedParams.push(p);

    let wire: WireRequest = built.wire;
    let auth: Record<string, string>;
    try {
      auth = pick.keyId ? this.credentialHeaders(provider.type, providerName, pick.keyId) : {};
    } catch (err) {
      ctx.attempts.push({ provider: providerName, model, keyId: pick.keyId, status: 503 });
      return errorReply(gatewayErrors.unavailable((err as Error).message));
    }
    if (provider.type === 'bedrock' && pick.keyId) {
      wire = await adapters.signBedrockRequest(
        { ...wire, headers: { ...wire.headers, host: new URL(providerBaseUrl(provider)).host } },
        this.deps.credentials.aws(providerName, pick.keyId),
        provider.region ?? 'us-east-1',
        new Date(now),
      );
    }
    ctx.attempts.push({ provider: providerName, model, keyId: pick.keyId });

    const base = new URL(providerBaseUrl(provider));
    const set: Record<string, string> = {
      ...wire.headers,
      ...auth,
      ':path': joinPath(base.pathname, wire.path),
      ':authority': base.host,
      ':method': wire.method,
      'content-length': String(wire.body.length),
    };
    delete set.host;
    const setNames = Object.keys(set).map((k) => k.toLowerCase());
    // Nothing internal reaches the provider: x-sb-ctx only serves a rebuild on a context miss.
    const remove = new Set<string>([CHAIN_HEADER, CONTEXT_HEADER, ...PROVIDER_AUTH_HEADERS, ...ctx.headersSetUpstream]);
    for (const n of setNames) remove.delete(n);
    ctx.headersSetUpstream = setNames.filter((n) => !n.startsWith(':'));
    const common = {
      status: ResponseStatus.CONTINUE_AND_REPLACE,
      header_mutation: { set_headers: setHeaders(set), remove_headers: [...remove] },
      body_mutation: { body: wire.body },
    };
    return phase === 'request_headers' ? { request_headers: { response: common } } : { request_body: { response: { ...common, status: ResponseStatus.CONTINUE } } };
  }

  private credentialHeaders(type: ProviderType, provider: string, keyId: string): Record<string, string> {
    switch (type) {
      case 'bedrock':
        return {};
      case 'azure-openai':
        return { 'api-key': this.deps.credentials.apiKey(provider, keyId) };
      case 'anthropic':
        return { 'x-api-key': this.deps.credentials.apiKey(provider, keyId) };
      case 'gemini':
        return { 'x-goog-api-key': this.deps.credentials.apiKey(provider, keyId) };
      default:
        return { authorization: `Bearer ${this.deps.credentials.apiKey(provider, keyId)}` };
    }
  }
}

function joinPath(basePath: string, path: string): string {
  const b = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
  if (!b || path.startsWith(b + '/')) return path;
  return b + path;
}

function errorReply(err: { status: number; message: string; code: string; type: string; headers?: Record<string, string> }): ProcessingResponse {
  // An attempt-level local reply: the router sees it as this attempt's response and may retry.
  const body = new TextEncoder().encode(JSON.stringify({ error: { message: err.message, type: err.type, param: null, code: err.code } }));
  return immediate(err.status, { 'content-type': 'application/json', ...(err.headers ?? {}) }, body, `switchboard_${err.code}`);
}
