// The upstream ext_proc filter: Envoy runs it inside the chain cluster after it picked the
// endpoint, for every attempt in a mesh, and standalone only for an attempt nothing was prepared
// for (the router-level filter prepares attempt 1 and the next fallback steps; a Lua filter marks
// the others, envoy/prepared-fallback-filters.ts). It translates the request for the provider and
// model of that step, injects that provider's credentials and answers the headers message with
// CONTINUE_AND_REPLACE, so Envoy never ships the body to Switchboard again.
import type { Logger } from 'pino';
import * as adapters from '../../provider-adapters/index.ts';
import type { ProviderConfig } from '../config/providers-schema.ts';
import { attribute, BodySendMode, bodyBytes, headerMap, immediate, ResponseStatus, setHeaders, type ProcessingRequest, type ProcessingResponse } from '../server/messages.ts';
import type { StreamHandler } from '../server/processing-stream.ts';
import { CHAIN_HEADER } from '../../envoy/bootstrap.ts';
import { TRANSLATE_HEADER } from '../../envoy/prepared-fallback-filters.ts';
import { CONTEXT_HEADER, parseContextHeader } from './router-filter.ts';
import type { ContextRegistry, RequestContext } from './request-context.ts';
import type { Clock, CredentialsPort, KeyPoolPort, Principal } from './ports.ts';
import { gatewayErrors } from '../errors/gateway-errors.ts';
import type { AttemptJournal } from './attempt-log.ts';
import { prepareAttempt } from './attempt.ts';

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
    const prepared = await prepareAttempt(this.deps, ctx, this.target, this.deps.clock.now(), [CHAIN_HEADER, CONTEXT_HEADER, TRANSLATE_HEADER]);
    if (!prepared.ok) return errorReply(prepared.error);
    const common = {
      status: ResponseStatus.CONTINUE_AND_REPLACE,
      header_mutation: { set_headers: setHeaders(prepared.set), remove_headers: prepared.remove },
      body_mutation: { body: prepared.body },
    };
    return phase === 'request_headers' ? { request_headers: { response: common } } : { request_body: { response: { ...common, status: ResponseStatus.CONTINUE } } };
  }
}

function errorReply(err: { status: number; message: string; code: string; type: string; headers?: Record<string, string> }): ProcessingResponse {
  // An attempt-level local reply: the router sees it as this attempt's response and may retry.
  const body = new TextEncoder().encode(JSON.stringify({ error: { message: err.message, type: err.type, param: null, code: err.code } }));
  return immediate(err.status, { 'content-type': 'application/json', ...(err.headers ?? {}) }, body, `switchboard_${err.code}`);
}
