// The router-level ext_proc filter: one instance per downstream request. Headers: who is calling
// and in which dialect. Body: parse once, guardrails, routing, budget reservation, then the route
// header that picks the chain's cluster. Response: map errors, translate JSON or stream chunks
// into the ingress dialect, settle cost and write the audit record exactly once.
import type { Logger } from 'pino';
import * as adapters from '../../provider-adapters/index.ts';
import type { GatewayErrorInfo, IngressDialect, ProviderType, Usage } from '../../provider-adapters/contract.ts';
import { gatewayErrors } from '../errors/gateway-errors.ts';
import { BodySendMode, bodyBytes, headerMap, immediate, setHeaders, type ProcessingRequest, type ProcessingResponse } from '../server/messages.ts';
import type { StreamHandler } from '../server/processing-stream.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { CHAIN_HEADER, chainKey, TARGET_RESPONSE_HEADER } from '../../envoy/bootstrap.ts';
import { CLIENT_CREDENTIAL_HEADERS, clientInternalHeaders, extractVirtualKey, parseTagHeader, stripKeyFromQuery } from './ingress.ts';
import type { ContextRegistry, RequestContext } from './request-context.ts';
import type { AuditPort, AuthPort, Clock, GovernancePort, GuardrailsPort, PricingPort, Principal, RoutingPort } from './ports.ts';
import type { ProviderConfig } from '../config/providers-schema.ts';
import { prepareAttempt, type AttemptDeps } from './attempt.ts';
import { prepareFallbacks, reconcileAttempts, type PreparedFallbackLimits } from './prepared-fallbacks.ts';
import type { AttemptJournal } from './attempt-log.ts';
import type { AfterResponse } from './after-response.ts';
import { countTextTokens } from '../../provider-adapters/canonical/tokens.ts';

/** Gemini streams are SSE too (alt=sse); Bedrock's event-stream is translated to the client's dialect. */
function streamContentType(_dialect: IngressDialect): string {
  return 'text/event-stream';
}

export interface RouterFilterDeps {
  workerIndex: number;
  registry: ContextRegistry;
  providers(): Record<string, ProviderConfig>;
  auth: AuthPort;
  routing(): RoutingPort;
  governance: GovernancePort;
  pricing: PricingPort;
  guardrails(): GuardrailsPort;
  audit: AuditPort;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Bound for a reservation when the request sets no max tokens. */
  defaultMaxOutputTokens: number;
  /** Replaces every configured provider credential found in a body. */
  scrubSecrets(body: Uint8Array): Uint8Array;
  /** True while the worker is past its capacity: new requests are refused early. */
  overloaded(): boolean;
  attempts: AttemptDeps;
  journal: AttemptJournal;
  /**
   * Standalone (per-worker chain clusters): prepare attempt 1 here, Envoy skips the upstream
   * filter for it. Mesh (the upstream filter may land on another pod): leave every attempt to it.
   */
  pretranslate: boolean;
  /** With pretranslate: which later chain steps to prepare up front for Envoy's Lua filter. */
  preparedFallbacks: () => PreparedFallbackLimits;
  /** Settling and the audit record run here, after the answer is on its way. */
  afterResponse: AfterResponse;
}

type Phase = 'headers' | 'body' | 'upstream' | 'response' | 'done';
const enc = new TextEncoder();

export class RouterFilter implements StreamHandler {
  private phase: Phase = 'headers';
  private requestId = '';
  private method = '';
  private path = '';
  private dialect: IngressDialect = 'openai-chat';
  private pathModel: string | undefined;
  private pathStream: boolean | undefined;
  private tags: Record<string, string> = {};
  private explain = false;
  private principal: Principal | undefined;
  private ctx: RequestContext | undefined;
  private responseStatus = 0;
  private upstreamTarget = '';
  private responseHeaders: Record<string, string> = {};
  private attemptCount = 1;
  private translator: adapters.StreamTranslator | undefined;
  private bufferedError = false;
  private finished = false;

  private readonly deps: RouterFilterDeps;

  constructor(deps: RouterFilterDeps) {
    this.deps = deps;
  }

  async handle(req: ProcessingRequest): Promise<ProcessingResponse | null> {
    const started = performance.now();
    try {
      if (req.request_headers) return await this.onRequestHeaders(req);
      if (req.request_body) return await this.onRequestBody(bodyBytes(req.request_body), req.request_body.end_of_stream ?? true);
      if (req.response_headers) return this.onResponseHeaders(req);
      if (req.response_body) return await this.onResponseBody(bodyBytes(req.response_body), req.response_body.end_of_stream ?? false);
      if (req.request_trailers) return { request_trailers: {} };
      if (req.response_trailers) return { response_trailers: {} };
      return null;
    } finally {
      const phase = req.request_headers ? 'request_headers' : req.request_body ? 'request_body' : req.response_headers ? 'response_headers' : 'response_body';
      this.deps.metrics.processingSeconds.observe({ phase }, (performance.now() - started) / 1000);
    }
  }

  close(broken: boolean): void {
    if (this.finished) return;
    // The stream ended before the response did: the client went away or the upstream broke.
    // Settle what was delivered, so a broken stream is never billed as free.
    // The target that answered (if any) prices what was delivered; without it finish() releases.
    // Ending the translator flushes text the output guardrails still held back: the client never
    // gets it, but the provider delivered (and bills) it, and a usage event may have been seen.
    const [provider, model] = splitTarget(this.upstreamTarget);
    if (this.ctx && this.translator && !this.ctx.usage) this.ctx.usage = this.translator.end().usage;
    if (this.ctx) this.finish(broken ? 499 : this.responseStatus || 499, broken ? 'stream_broken' : 'incomplete', provider || undefined, model || undefined);
  }

  // --- request headers -------------------------------------------------------------------

  private async onRequestHeaders(req: ProcessingRequest): Promise<ProcessingResponse> {
    const h = headerMap(req.request_headers);
    this.requestId = h.get('x-request-id') ?? '';
    this.method = h.get(':method') ?? 'GET';
    this.path = h.get(':path') ?? '/';
    this.tags = parseTagHeader(h.get('x-sb-tags'));
    this.explain = h.get('x-sb-explain') === '1';
    const pathOnly = this.path.split('?')[0] ?? '/';

    if (this.method === 'GET' && (pathOnly === '/v1/models' || pathOnly === '/models')) return this.listModels(h);
    if (this.method === 'GET' && pathOnly === '/healthz') return immediate(200, { 'content-type': 'application/json' }, enc.encode('{"status":"ok"}'), 'health');

    const detected = adapters.detectDialect(this.method, this.path);
    if (!detected) return this.reject('openai-chat', gatewayErrors.routeNotFound(this.method, pathOnly));
    if (this.deps.overloaded()) return this.reject(detected.dialect, gatewayErrors.overloaded());
    this.dialect = detected.dialect;
    this.pathModel = detected.pathModel;
    this.pathStream = detected.stream;

    const auth = await this.deps.auth.authenticate(extractVirtualKey(this.dialect, h, this.path), this.deps.clock.now());
    if (!auth.ok) return this.reject(this.dialect, auth.error);
    this.principal = auth.principal;
    if (req.request_headers?.end_of_stream) return this.reject(this.dialect, gatewayErrors.invalidBody('A request body is required.'));

    this.phase = 'body';
    const remove = [...clientInternalHeaders(h), ...CLIENT_CREDENTIAL_HEADERS.filter((n) => h.has(n))];
    const cleanPath = stripKeyFromQuery(this.path);
    return {
      request_headers: {
        response: {
          header_mutation: {
            remove_headers: remove,
            ...(cleanPath !== this.path ? { set_headers: setHeaders({ ':path': cleanPath }) } : {}),
          },
        },
      },
    };
  }

  private async listModels(h: Map<string, string>): Promise<ProcessingResponse> {
    const auth = await this.deps.auth.authenticate(extractVirtualKey('openai-chat', h, this.path), this.deps.clock.now());
    if (!auth.ok) return this.reject('openai-chat', auth.error);
    const data = this.deps.auth.listModels(auth.principal).map((id) => ({ id, object: 'model', created: 0, owned_by: 'switchboard' }));
    return immediate(200, { 'content-type': 'application/json' }, enc.encode(JSON.stringify({ object: 'list', data })), 'models');
  }

  // --- request body ----------------------------------------------------------------------

  private async onRequestBody(body: Uint8Array, _endOfStream: boolean): Promise<ProcessingResponse> {
    const principal = this.principal;
    if (this.phase !== 'body' || !principal) return { request_body: { response: {} } };
    const parsed = adapters.parseIngress(this.dialect, body, { pathModel: this.pathModel, stream: this.pathStream });
    if (!parsed.ok) return this.reject(this.dialect, parsed.error);
    const request = parsed.request;
    const requestedModel = request.model;
    if (!requestedModel) return this.reject(this.dialect, gatewayErrors.invalidBody('"model" is required.', 'model'));

    // Guardrails run before routing: whichever provider a request ends up at, it sees only what passed.
    const policy = principal.guardrailPolicy;
    const scan = await this.deps.guardrails().scanRequest(this.dialect, parsed.raw, policy);
    for (const f of scan.findings) this.deps.metrics.guardrailFindings.inc({ rule: f.ruleId, action: f.action });
    if (scan.action === 'block') {
      const blocked = scan.blockedBy ?? { ruleId: 'unknown', policy: policy ?? 'default' };
      return this.reject(this.dialect, gatewayErrors.contentBlocked(blocked.policy, blocked.ruleId), scan.findings.map((f) => f.ruleId));
    }
    let raw = parsed.raw;
    let canonical = request;
    let newBody: Uint8Array | undefined;
    if (scan.action === 'redact' && scan.body !== undefined) {
      newBody = enc.encode(JSON.stringify(scan.body));
      const reparsed = adapters.parseIngress(this.dialect, newBody, { pathModel: this.pathModel, stream: this.pathStream });
      if (!reparsed.ok) return this.reject(this.dialect, reparsed.error);
      raw = reparsed.raw;
      canonical = reparsed.request;
    }

    const promptTokens = adapters.estimateInputTokens(canonical);
    const metadataTags = canonical.metadata ?? {};
    const routeInput = {
      model: requestedModel,
      keyId: principal.keyId,
      team: principal.team,
      customer: principal.customer,
      tags: { ...metadataTags, ...this.tags },
      promptTokens,
      fallbackOverride: principal.fallbackOverride,
    };
    const routing = this.deps.routing();
    if (this.explain) {
      return immediate(200, { 'content-type': 'application/json' }, enc.encode(JSON.stringify({ explain: routing.explain(routeInput) })), 'explain');
    }
    const decision = routing.decide(routeInput);
    if (!decision.ok) {
      if (decision.reason === 'keys_cooling_down') return this.reject(this.dialect, gatewayErrors.rateLimited(`every provider of model ${requestedModel}`, decision.retryAfterSeconds));
      return this.reject(this.dialect, gatewayErrors.modelNotFound(requestedModel));
    }
    for (const step of decision.chain) {
      if (!this.deps.auth.isModelAllowed(principal, step.provider, step.model, requestedModel)) {
        return this.reject(this.dialect, gatewayErrors.modelNotAllowed(requestedModel));
      }
    }

    const providers = this.deps.providers();
    const primaryProvider = providers[decision.primary.provider];
    if (!primaryProvider) return this.reject(this.dialect, gatewayErrors.modelNotFound(requestedModel));
    if (this.dialect === 'anthropic-count-tokens') {
      // Only Anthropic counts tokens remotely; for any other provider the adapters answer locally.
      const local = adapters.buildUpstreamRequest({ dialect: this.dialect, request: canonical, raw, provider: { type: primaryProvider.type, baseUrl: '' }, model: decision.primary.model });
      if (local.ok && local.localResponse) {
        this.phase = 'done';
        this.finished = true;
        return immediate(local.localResponse.status, local.localResponse.headers, local.localResponse.body, 'count_tokens');
      }
    }
    const maxOut = canonical.maxTokens ?? this.deps.defaultMaxOutputTokens;
    // Reserve for the dearest step of the chain: a fallback may answer.
    let estimateMicros = 0;
    for (const step of decision.chain) {
      const p = providers[step.provider];
      if (!p) continue;
      const est = this.deps.pricing.estimate(p.type, step.provider, step.model, promptTokens, maxOut);
      if (!est.ok) return this.reject(this.dialect, est.error);
      estimateMicros = Math.max(estimateMicros, est.micros);
    }
    // Answers no longer wait for their audit record, so a sink that cannot keep up holds back
    // new requests instead: records are never dropped and memory stays bounded.
    const room = this.deps.audit.room();
    if (room) await room;
    const now = this.deps.clock.now();
    const admitted = await this.deps.governance.admit({
      requestId: this.requestId,
      principal,
      provider: decision.primary.provider,
      model: decision.primary.model,
      estimateMicros,
      estimateTokens: promptTokens + maxOut,
      now,
    });
    if (!admitted.ok) return this.reject(this.dialect, admitted.error);

    const stream = canonical.stream;
    this.ctx = {
      requestId: this.requestId,
      startedAt: now,
      dialect: this.dialect,
      pathModel: this.pathModel,
      stream,
      clientWantsUsage: parsed.clientWantsUsage,
      request: canonical,
      raw,
      requestedModel,
      promptTokens,
      principal,
      rule: decision.rule,
      chain: decision.chain,
      attempts: [],
      headersSetUpstream: [],
      droppedParams: [],
      findings: scan.findings,
      governanceHeaders: admitted.headers,
      reserved: true,
      settled: false,
    };
    if (!this.deps.pretranslate) {
      // Mesh mode: the upstream filter may run in another process, so every attempt is
      // translated there, from the client's body and what x-sb-ctx says about it.
      this.deps.registry.put(this.ctx);
      this.phase = 'upstream';
      return {
        request_body: {
          response: {
            header_mutation: {
              set_headers: setHeaders({
                [CHAIN_HEADER]: chainKey(decision.chainId, this.deps.workerIndex),
                [CONTEXT_HEADER]: contextHeader(this.dialect, stream, this.ctx.clientWantsUsage, this.pathModel),
                ...(newBody ? { 'content-length': String(newBody.length) } : {}),
              }),
            },
            ...(newBody ? { body_mutation: { body: newBody } } : {}),
            clear_route_cache: true,
          },
        },
      };
    }
    // Attempt 1 is prepared here, in this same message: the chain cluster's Lua filter sees the
    // router-prepared step and lets it pass, which saves a whole ext_proc stream per request.
    // A step that cannot be prepared (credentials missing, keys cooling down) is skipped by
    // starting the chain further on.
    let chainId = decision.chainId;
    let prepared = await prepareAttempt(this.deps.attempts, this.ctx, `${decision.chain[0]!.provider}/${decision.chain[0]!.model}`, now, []);
    for (let skip = 1; !prepared.ok && prepared.error.status >= 429 && skip < decision.chain.length; skip++) {
      const suffix = decision.suffix?.(skip);
      if (!suffix) break;
      chainId = suffix.chainId;
      this.ctx.chain = suffix.chain;
      prepared = await prepareAttempt(this.deps.attempts, this.ctx, `${suffix.chain[0]!.provider}/${suffix.chain[0]!.model}`, now, []);
    }
    for (const a of this.ctx.attempts) this.deps.journal.record(this.requestId, { provider: a.provider, model: a.model, ...(a.keyId ? { keyId: a.keyId } : {}) }, now);
    if (!prepared.ok) {
      await this.deps.governance.release(this.requestId).catch(() => undefined);
      return this.reject(this.dialect, prepared.error);
    }
    // Attempts that could not be prepared never reach Envoy, so they are not Envoy's to log.
    this.ctx.attempts = this.ctx.attempts.slice(-1);
    const first = this.ctx.attempts[0]!;
    const fallbacks = await prepareFallbacks(this.deps.attempts, this.ctx, { provider: first.provider, keyId: prepared.keyId, set: prepared.set }, now, this.deps.preparedFallbacks());
    if (fallbacks.metadata) {
      this.ctx.preparedSteps = fallbacks.steps;
      // An attempt the upstream filter translates must clear whatever a prepared one set.
      this.ctx.headersSetUpstream = fallbacks.headerNames;
      this.deps.journal.expect(this.requestId, fallbacks.candidates, now);
    }
    this.deps.registry.put(this.ctx);
    this.phase = 'upstream';
    return {
      request_body: {
        response: {
          header_mutation: {
            set_headers: setHeaders({ ...prepared.set, [CHAIN_HEADER]: chainKey(chainId, this.deps.workerIndex) }),
            remove_headers: prepared.remove,
          },
          body_mutation: { body: prepared.body },
          clear_route_cache: true,
        },
      },
      ...(fallbacks.metadata ? { dynamic_metadata: fallbacks.metadata } : {}),
    };
  }

  // --- response --------------------------------------------------------------------------

  private onResponseHeaders(req: ProcessingRequest): ProcessingResponse {
    const h = headerMap(req.response_headers);
    this.responseHeaders = Object.fromEntries(h);
    this.responseStatus = Number(h.get(':status') ?? '0');
    this.upstreamTarget = h.get(TARGET_RESPONSE_HEADER) ?? '';
    this.attemptCount = Number(h.get('x-envoy-attempt-count') ?? '1');
    const ctx = this.ctx;
    if (!ctx) {
      // An immediate response of ours, or Envoy's own reply before routing: pass it through.
      this.phase = 'done';
      return { response_headers: { response: { header_mutation: { remove_headers: [TARGET_RESPONSE_HEADER] } } } };
    }
    this.phase = 'response';
    const [provider = '', model = ''] = this.upstreamTarget.split('/', 2).length === 2 ? splitTarget(this.upstreamTarget) : ['', ''];
    reconcileAttempts(ctx, this.upstreamTarget, this.attemptCount);
    const last = ctx.attempts[ctx.attempts.length - 1];
    if (last) last.status = this.responseStatus;
    const contentType = h.get('content-type') ?? '';
    const isStream = this.responseStatus < 400 && (contentType.includes('text/event-stream') || contentType.includes('application/vnd.amazon.eventstream'));
    const info: Record<string, string> = {
      'x-sb-provider': provider,
      'x-sb-model': model,
      // Envoy only retries an attempt that failed, but its status reaches us later, with the
      // access log: every attempt before the one answering is marked as having failed.
      'x-sb-attempts': ctx.attempts.map((a, i) => `${a.provider}/${a.model}${a.status ? `:${a.status}` : i < ctx.attempts.length - 1 ? ':failed' : ''}`).join(',') || String(this.attemptCount),
      'x-sb-route': ctx.rule,
      'x-sb-request-id': ctx.requestId,
      ...ctx.governanceHeaders,
      ...(ctx.droppedParams.length ? { 'x-sb-dropped-params': ctx.droppedParams.join(',') } : {}),
    };
    const remove = [TARGET_RESPONSE_HEADER, 'x-envoy-upstream-service-time', 'x-envoy-attempt-count'];
    if (this.responseStatus >= 400 || !isStream) {
      this.bufferedError = this.responseStatus >= 400;
      return {
        response_headers: { response: { header_mutation: { set_headers: setHeaders(info), remove_headers: [...remove, 'content-length'] } } },
        mode_override: { response_body_mode: BodySendMode.BUFFERED },
      };
    }
    const providerCfg = this.deps.providers()[provider];
    const textFilter = this.outputFilter(ctx);
    this.translator = adapters.createStreamTranslator({
      dialect: ctx.dialect,
      providerType: (providerCfg?.type ?? 'openai') as ProviderType,
      model: ctx.requestedModel,
      requestId: ctx.requestId,
      created: Math.floor(ctx.startedAt / 1000),
      clientWantsUsage: ctx.clientWantsUsage,
      ...(textFilter ? { textFilter } : {}),
    });
    return {
      response_headers: {
        response: {
          header_mutation: {
            set_headers: setHeaders({ ...info, 'content-type': streamContentType(ctx.dialect), 'cache-control': 'no-cache' }),
            remove_headers: [...remove, 'content-length'],
          },
        },
      },
      mode_override: { response_body_mode: BodySendMode.STREAMED },
    };
  }

  private async onResponseBody(body: Uint8Array, endOfStream: boolean): Promise<ProcessingResponse> {
    const ctx = this.ctx;
    if (!ctx || this.phase !== 'response') return { response_body: { response: {} } };
    if (this.translator) return this.onStreamChunk(ctx, body, endOfStream);

    // Buffered: a JSON answer or an error from a provider or from Envoy itself.
    const [provider, model] = splitTarget(this.upstreamTarget);
    const providerCfg = provider ? this.deps.providers()[provider] : undefined;
    if (!providerCfg) {
      // No target answered: Envoy's own reply (no healthy upstream, connect failure, timeout).
      const err = gatewayErrors.upstreamFailed(this.responseStatus, ctx.attempts.map((a) => `${a.provider}/${a.model}`).join(',') || 'none');
      const wire = adapters.renderError(ctx.dialect, err);
      this.finish(err.status, 'upstream_failed');
      return bodyReplace(wire.body, { 'content-type': 'application/json' });
    }
    const textFilter = this.bufferedError ? undefined : this.outputFilter(ctx);
    const out = adapters.translateJsonResponse({
      ...(textFilter ? { textFilter } : {}),
      dialect: ctx.dialect,
      providerType: providerCfg.type,
      model: ctx.requestedModel,
      status: this.responseStatus,
      body,
      requestId: ctx.requestId,
      created: Math.floor(ctx.startedAt / 1000),
      headers: this.responseHeaders,
    });
    ctx.usage = out.usage;
    // A provider's error may quote the key it was sent (OpenAI masks it, proxies may not).
    const outBody = out.status >= 400 ? this.deps.scrubSecrets(out.body) : out.body;
    this.finish(out.status, out.status < 400 ? 'ok' : 'upstream_error', provider, model);
    const extra: Record<string, string> = { 'content-type': 'application/json' };
    if (out.status !== this.responseStatus) extra[':status'] = String(out.status);
    if (out.error?.headers) Object.assign(extra, out.error.headers);
    return bodyReplace(outBody, extra);
  }

  private async onStreamChunk(ctx: RequestContext, chunk: Uint8Array, endOfStream: boolean): Promise<ProcessingResponse> {
    const translator = this.translator!;
    const out = translator.push(chunk);
    if (!endOfStream) return { response_body: { response: { body_mutation: { body: out } } } };
    const end = translator.end();
    ctx.usage = end.usage ?? translator.usage();
    const tail = end.tail;
    const [provider, model] = splitTarget(this.upstreamTarget);
    this.finish(this.responseStatus, end.complete ? 'ok' : 'stream_cut', provider, model);
    return { response_body: { response: { body_mutation: { body: concat(out, tail) } } } };
  }

  /** Output guardrails as the adapters' text filter; findings go to metrics and the audit record. */
  private outputFilter(ctx: RequestContext): adapters.TextFilter | undefined {
    const guard = this.deps.guardrails().createStreamGuard(ctx.principal.guardrailPolicy);
    if (!guard) return undefined;
    const note = (r: { text: string; findings: { ruleId: string; action: 'block' | 'redact' | 'monitor' }[]; blocked?: { ruleId: string } }) => {
      for (const f of r.findings) {
        ctx.findings.push(f);
        this.deps.metrics.guardrailFindings.inc({ rule: f.ruleId, action: f.action });
      }
      return r.blocked ? { text: r.text, blocked: r.blocked } : { text: r.text };
    };
    return { push: (text) => note(guard.push(text)), flush: () => note(guard.flush()) };
  }

  // --- shared ----------------------------------------------------------------------------

  private reject(dialect: IngressDialect, error: GatewayErrorInfo, findings: string[] = []): ProcessingResponse {
    this.deps.metrics.rejections.inc({ code: error.code });
    this.deps.metrics.requests.inc({ dialect, outcome: 'rejected', status: String(error.status) });
    this.phase = 'done';
    this.finished = true;
    const wire = adapters.renderError(dialect, error);
    this.deps.afterResponse.run(() => this.writeAudit({ status: error.status, outcome: `rejected:${error.code}`, findings, costMicros: 0 }));
    return immediate(wire.status, { ...wire.headers, 'x-sb-request-id': this.requestId }, wire.body, `switchboard_${error.code}`);
  }

  /**
   * Settles cost and writes the audit record, once, whatever way the request ended. Decided now,
   * done after the answer has left: neither the store round trip nor the audit fsync delays it.
   */
  private finish(status: number, outcome: string, provider?: string, model?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.phase = 'done';
    const ctx = this.ctx;
    if (!ctx) return;
    this.deps.registry.delete(ctx.requestId);
    this.deps.journal.finish(ctx.requestId, this.deps.clock.now());
    this.deps.afterResponse.run(() => this.settleAndAudit(ctx, status, outcome, provider, model));
  }

  private async settleAndAudit(ctx: RequestContext, status: number, outcome: string, provider?: string, model?: string): Promise<void> {
    let costMicros = 0;
    const target = provider && model ? { provider, model } : undefined;
    const providerCfg = target ? this.deps.providers()[target.provider] : undefined;
    let usage = ctx.usage;
    if (!usage && this.translator && target) {
      // A stream that ended without usage: bill what was delivered, counted from the text.
      const delivered = this.translator.outputText?.() ?? '';
      if (delivered) usage = { inputTokens: ctx.promptTokens, outputTokens: countTextTokens(delivered) };
      ctx.usage = usage;
    }
    try {
      if (usage && target && providerCfg) {
        costMicros = this.deps.pricing.cost(providerCfg.type, target.provider, target.model, usage);
        this.deps.metrics.tokens.inc({ provider: target.provider, model: target.model, kind: 'input' }, usage.inputTokens);
        this.deps.metrics.tokens.inc({ provider: target.provider, model: target.model, kind: 'output' }, usage.outputTokens);
        this.deps.metrics.costMicros.inc({ provider: target.provider, model: target.model }, costMicros);
        await this.deps.governance.settle(ctx.requestId, { usage, costMicros });
      } else {
        await this.deps.governance.release(ctx.requestId);
      }
      ctx.settled = true;
    } catch (err) {
      this.deps.metrics.accountingFailures.inc({ what: 'settle' });
      this.deps.log.error({ err, requestId: ctx.requestId }, 'settling the request failed; the reservation expires by TTL');
    }
    this.deps.metrics.requests.inc({ dialect: ctx.dialect, outcome, status: String(status) });
    await this.writeAudit({ status, outcome, findings: ctx.findings.map((f) => f.ruleId), costMicros, usage });
  }

  private async writeAudit(r: { status: number; outcome: string; findings: string[]; costMicros: number; usage?: Usage }): Promise<void> {
    const ctx = this.ctx;
    try {
      await this.deps.audit.append({
        time: new Date(this.deps.clock.now()).toISOString(),
        requestId: this.requestId,
        keyId: this.principal?.keyId,
        team: this.principal?.team,
        customer: this.principal?.customer,
        dialect: this.dialect,
        rule: ctx?.rule,
        attempts: ctx?.attempts ?? [],
        status: r.status,
        outcome: r.outcome,
        usage: r.usage,
        costMicros: r.costMicros,
        findings: r.findings,
        // The audit module keeps or drops bodies as configured, and always redacts secrets.
        ...(ctx ? { input: ctx.raw, output: this.translator?.outputText?.() } : {}),
      });
    } catch (err) {
      this.deps.metrics.accountingFailures.inc({ what: 'audit' });
      this.deps.log.error({ err, requestId: this.requestId }, 'audit append failed');
    }
  }
}

export const CONTEXT_HEADER = 'x-sb-ctx';

/** Everything an upstream filter in another process needs to rebuild the request from its body. */
export function contextHeader(dialect: IngressDialect, stream: boolean, wantsUsage: boolean, pathModel?: string): string {
  return [dialect, stream ? 's' : '-', wantsUsage ? 'u' : '-', pathModel ? encodeURIComponent(pathModel) : ''].join(';');
}

export function parseContextHeader(v: string | undefined): { dialect: IngressDialect; stream: boolean; wantsUsage: boolean; pathModel?: string } | null {
  if (!v) return null;
  const [dialect, s, u, pm] = v.split(';');
  if (!dialect) return null;
  return { dialect: dialect as IngressDialect, stream: s === 's', wantsUsage: u === 'u', ...(pm ? { pathModel: decodeURIComponent(pm) } : {}) };
}

function splitTarget(t: string): [string, string] {
  const i = t.indexOf('/');
  return i < 0 ? ['', ''] : [t.slice(0, i), t.slice(i + 1)];
}

function bodyReplace(body: Uint8Array, headers: Record<string, string>): ProcessingResponse {
  return { response_body: { response: { header_mutation: { set_headers: setHeaders(headers) }, body_mutation: { body } } } };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
