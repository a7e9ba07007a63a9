// The translation layer's public API: everything the pipeline (extproc/) calls.
// Pure: no I/O, no clock, no randomness. Ids and timestamps come in as arguments.
import type { GatewayErrorInfo, IngressDialect, ProviderType, Usage, WireRequest, WireResponse } from './contract.ts';
import type { DialectAdapter, ProviderAdapter, PassthroughObserver, StreamDecoder, StreamEncoder } from './canonical/adapter.ts';
import { invalidBody, TranslationError, unsupportedParam } from './canonical/errors.ts';
import { jsonBytes, parseJsonBytes } from './canonical/json.ts';
import { streamCutError } from './canonical/provider-error.ts';
import { countInputTokens } from './canonical/tokens.ts';
import type { CanonicalRequest, CanonicalResponse, ProviderTarget } from './canonical/types.ts';
import { openAIClientWantsUsage } from './dialects/openai-chat/parse.ts';
import { DIALECTS, PROVIDERS } from './registry.ts';
import { ToolSequencer } from './canonical/tool-sequencer.ts';

export type * from './contract.ts';
export type * from './canonical/types.ts';
export { detectDialect, type DetectedDialect } from './detect.ts';
export { countInputTokens, estimateInputTokens, estimateTextTokens, IMAGE_TOKEN_ESTIMATE } from './canonical/tokens.ts';
export { signBedrockRequest, type AwsCredentials } from './bedrock/sign.ts';

function dialectAdapter(dialect: IngressDialect): DialectAdapter {
  const d = DIALECTS[dialect];
  if (!d) throw new Error(`No adapter for dialect ${dialect}`);
  return d;
}

function providerAdapter(type: ProviderType): ProviderAdapter {
  const p = PROVIDERS[type];
  if (!p) throw new Error(`No adapter for provider ${type}`);
  return p;
}

function catchTranslation<T>(fn: () => T): T | { ok: false; error: GatewayErrorInfo } {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TranslationError) return { ok: false, error: e.info };
    throw e;
  }
}

// ---------------------------------------------------------------- ingress

export type ParseResult =
  | { ok: true; request: CanonicalRequest; raw: unknown; /** stream usage chunk requested by the client itself */ clientWantsUsage: boolean }
  | { ok: false; error: GatewayErrorInfo };

export function parseIngress(dialect: IngressDialect, body: Uint8Array, opts: { pathModel?: string; stream?: boolean } = {}): ParseResult {
  const parsed = parseJsonBytes(body);
  if (!parsed.ok) return { ok: false, error: invalidBody(`Request body is not valid JSON: ${parsed.message}`) };
  const raw = parsed.value;
  return catchTranslation(() => {
    const request = dialectAdapter(dialect).parse(raw, opts);
    // Only OpenAI chat makes stream usage opt-in; every other dialect always reports it.
    const clientWantsUsage = dialect === 'openai-chat' ? openAIClientWantsUsage(raw) : true;
    return { ok: true as const, request, raw, clientWantsUsage };
  });
}

export function renderError(dialect: IngressDialect, err: GatewayErrorInfo): WireResponse {
  return {
    status: err.status,
    headers: { 'content-type': 'application/json', ...err.headers },
    body: jsonBytes(dialectAdapter(dialect).errorBody(err)),
  };
}

// ---------------------------------------------------------------- upstream

export interface BuildUpstreamArgs {
  dialect: IngressDialect;
  request: CanonicalRequest;
  raw: unknown;
  provider: ProviderTarget;
  model: string;
  clientWantsUsage?: boolean;
}

export type BuildResult =
  | {
      ok: true;
      wire: WireRequest;
      droppedParams: string[];
      /**
       * Set when the gateway answers itself instead of calling upstream: count_tokens for a
       * non-Anthropic provider is answered from the local o200k estimate. Send this to the client.
       */
      localResponse?: WireResponse;
    }
  | { ok: false; error: GatewayErrorInfo };

function isPassthrough(dialect: IngressDialect, provider: ProviderAdapter): boolean {
  return provider.nativeDialects.includes(dialect) && provider.passthrough !== undefined;
}

export function buildUpstreamRequest(args: BuildUpstreamArgs): BuildResult {
  const provider = providerAdapter(args.provider.type);
  return catchTranslation((): BuildResult => {
    if (isPassthrough(args.dialect, provider) && provider.passthrough) {
      return { ok: true, ...provider.passthrough(args.dialect, args.raw, args.request, args.provider, args.model) };
    }
    switch (args.request.operation) {
      case 'chat':
        return { ok: true, ...provider.buildChat(args.request, args.provider, args.model) };
      case 'embeddings':
        if (!provider.buildEmbeddings) throw new TranslationError(unsupportedParam('input', args.provider.type, 'this provider has no embeddings endpoint'));
        return { ok: true, ...provider.buildEmbeddings(args.request, args.provider, args.model) };
      case 'count_tokens': {
        const body = jsonBytes({ input_tokens: countInputTokens(args.request) });
        const localResponse: WireResponse = { status: 200, headers: { 'content-type': 'application/json' }, body };
        return { ok: true, wire: { method: 'POST', path: '', headers: {}, body: new Uint8Array() }, droppedParams: [], localResponse };
      }
    }
  });
}

// ---------------------------------------------------------------- responses

export interface TranslateJsonArgs {
  dialect: IngressDialect;
  providerType: ProviderType;
  model: string;
  status: number;
  body: Uint8Array;
  requestId: string;
  created: number;
  /** Upstream response headers (lower-case names); Retry-After etc. are carried into errors. */
  headers?: Record<string, string>;
  /** openai-embeddings only: the client's encoding_format, when the provider had to be translated. */
  encodingFormat?: 'float' | 'base64';
  /** Output guardrails over the answer's text (see TextFilter). */
  textFilter?: TextFilter;
}

export interface TranslatedJson {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  usage?: Usage;
  finishReason?: string;
  error?: GatewayErrorInfo;
}

function errorResult(dialect: IngressDialect, error: GatewayErrorInfo): TranslatedJson {
  const wire = renderError(dialect, error);
  return { status: wire.status, headers: wire.headers, body: wire.body, error };
}

export function translateJsonResponse(args: TranslateJsonArgs): TranslatedJson {
  const provider = providerAdapter(args.providerType);
  const dialect = dialectAdapter(args.dialect);
  if (args.status < 200 || args.status >= 300) {
    return errorResult(args.dialect, provider.mapError(args.status, args.body, args.headers ?? {}));
  }
  const parsed = parseJsonBytes(args.body);
  if (!parsed.ok) {
    return errorResult(args.dialect, { status: 502, type: 'server_error', code: 'upstream_invalid_response', message: 'The upstream provider returned a body that is not JSON', param: null });
  }
  const json = { 'content-type': 'application/json' };
  if (!(args.textFilter && args.dialect !== 'openai-embeddings') && isPassthrough(args.dialect, provider) && provider.passthroughUsage) {
    const { usage, finishReason } = provider.passthroughUsage(args.dialect, parsed.value);
    const out: TranslatedJson = { status: args.status, headers: json, body: args.body };
    if (usage) out.usage = usage;
    if (finishReason) out.finishReason = finishReason;
    return out;
  }
  const ctx = { model: args.model, requestId: args.requestId, created: args.created, clientWantsUsage: true };
  const result = catchTranslation(() => {
    if (args.dialect === 'openai-embeddings') {
      if (!provider.parseEmbeddingsResponse || !dialect.renderEmbeddings) throw new TranslationError(unsupportedParam('input', args.providerType));
      const emb = provider.parseEmbeddingsResponse(parsed.value);
      const format = args.encodingFormat;
      return { body: dialect.renderEmbeddings(emb, format ? { model: args.model, encodingFormat: format } : { model: args.model }, ctx), usage: emb.usage, finishReason: undefined };
    }
    // A passed-through request is answered in the dialect's own format (e.g. Responses).
    const resp = (isPassthrough(args.dialect, provider) ? provider.parsePassthroughResponse?.(args.dialect, parsed.value) : undefined) ?? provider.parseChatResponse(parsed.value);
    if (args.textFilter) {
      const filtered = filterResponseText(resp, args.textFilter);
      if (filtered.blocked) return { blocked: filtered.blocked, body: undefined, usage: resp.usage, finishReason: undefined };
    }
    return { body: dialect.renderResponse(resp, ctx), usage: resp.usage, finishReason: resp.finishReason as string | undefined };
  });
  if ('ok' in result) return errorResult(args.dialect, result.error);
  if ('blocked' in result && result.blocked) {
    const blocked = errorResult(args.dialect, outputBlockedError(result.blocked.ruleId));
    if (result.usage) blocked.usage = result.usage;
    return blocked;
  }
  const out: TranslatedJson = { status: 200, headers: json, body: jsonBytes(result.body) };
  if (result.usage) out.usage = result.usage;
  if (result.finishReason) out.finishReason = result.finishReason;
  return out;
}

/** Runs every text part of a whole answer through the filter, in order, in place. */
function filterResponseText(resp: CanonicalResponse, filter: TextFilter): { blocked?: { ruleId: string } } {
  for (const part of resp.content) {
    if (part.type !== 'text') continue;
    const a = filter.push(part.text);
    if (a.blocked) return { blocked: a.blocked };
    const b = filter.flush();
    if (b.blocked) return { blocked: b.blocked };
    part.text = a.text + b.text;
  }
  return {};
}

// ---------------------------------------------------------------- streams

export interface StreamTranslator {
  /** Bytes to send the client now (may be empty while an event is incomplete). */
  push(chunk: Uint8Array): Uint8Array;
  /** End of upstream stream: the last bytes, usage, and whether a proper terminal event was seen. */
  end(): { tail: Uint8Array; usage?: Usage; complete: boolean };
  usage(): Usage | undefined;
  outputText(): string;
}

export interface StreamTranslatorArgs {
  dialect: IngressDialect;
  providerType: ProviderType;
  model: string;
  requestId: string;
  created: number;
  clientWantsUsage: boolean;
  /** Output guardrails: rewrites (redacts) answer text in flight, or blocks the rest of it. */
  textFilter?: TextFilter;
}

/**
 * Sees the answer's text in order and may hold some back (a secret can straddle two chunks);
 * what it returns is what the client gets. `blocked` ends the answer with the dialect's in-band
 * error. Supplied by the caller, so the adapters stay pure.
 */
export interface TextFilter {
  push(text: string): { text: string; blocked?: { ruleId: string } };
  flush(): { text: string; blocked?: { ruleId: string } };
}

export function outputBlockedError(ruleId: string): GatewayErrorInfo {
  return { status: 400, type: 'invalid_request_error', code: 'content_blocked', message: `The answer was stopped by an output guardrail (rule ${ruleId}).`, param: null };
}

const textEncoder = new TextEncoder();

class PassthroughTranslator implements StreamTranslator {
  private readonly observer: PassthroughObserver;
  private readonly encoder: StreamEncoder;
  constructor(observer: PassthroughObserver, encoder: StreamEncoder) {
    this.observer = observer;
    this.encoder = encoder;
  }
  push(chunk: Uint8Array): Uint8Array {
    return this.observer.push(chunk);
  }
  end(): { tail: Uint8Array; usage?: Usage; complete: boolean } {
    const { tail, complete, failed } = this.observer.end();
    const extra = complete || failed ? new Uint8Array() : textEncoder.encode(this.encoder.fail(streamCutError()));
    const out = new Uint8Array(tail.length + extra.length);
    out.set(tail);
    out.set(extra, tail.length);
    const usage = this.observer.usage();
    return usage ? { tail: out, usage, complete } : { tail: out, complete };
  }
  usage(): Usage | undefined {
    return this.observer.usage();
  }
  outputText(): string {
    return this.observer.outputText();
  }
}

class TranslatingTranslator implements StreamTranslator {
  private readonly decoder: StreamDecoder;
  private readonly encoder: StreamEncoder;
  private readonly filter: TextFilter | undefined;
  private lastUsage: Usage | undefined;
  private text = '';
  private failed = false;
  private readonly sequencer = new ToolSequencer();
  constructor(decoder: StreamDecoder, encoder: StreamEncoder, filter?: TextFilter) {
    this.decoder = decoder;
    this.encoder = encoder;
    this.filter = filter;
  }
  push(chunk: Uint8Array): Uint8Array {
    return textEncoder.encode(this.encode(this.decoder.push(chunk)));
  }
  end(): { tail: Uint8Array; usage?: Usage; complete: boolean } {
    let out = this.encode(this.decoder.end());
    out += this.flushFilter();
    let complete = false;
    if (!this.failed) {
      complete = this.decoder.complete();
      out += complete ? this.encoder.finish() : this.encoder.fail(streamCutError());
    }
    const tail = textEncoder.encode(out);
    return this.lastUsage ? { tail, usage: this.lastUsage, complete } : { tail, complete };
  }
  usage(): Usage | undefined {
    return this.lastUsage;
  }
  outputText(): string {
    return this.text;
  }
  private encode(events: ReturnType<StreamDecoder['push']>): string {
    let out = '';
    for (let ev of events.flatMap((e) => this.sequencer.push(e))) {
      if (this.failed) break; // nothing may follow an in-band error
      if (this.filter && ev.type === 'text_delta') {
        const r = this.filter.push(ev.text);
        if (r.blocked) {
          out += this.blocked(r.blocked.ruleId);
          break;
        }
        if (!r.text) continue;
        ev = { type: 'text_delta', text: r.text };
      }
      // Text the filter still holds belongs before the end of the message.
      if (this.filter && (ev.type === 'finish' || ev.type === 'tool_call_start')) out += this.flushFilter();
      if (this.failed) break;
      if (ev.type === 'text_delta') this.text += ev.text;
      if (ev.type === 'usage') this.lastUsage = ev.usage;
      if (ev.type === 'error') this.failed = true;
      out += this.encoder.encode(ev);
    }
    return out;
  }

  private flushFilter(): string {
    if (!this.filter || this.failed) return '';
    const r = this.filter.flush();
    if (r.blocked) return this.blocked(r.blocked.ruleId);
    if (!r.text) return '';
    this.text += r.text;
    return this.encoder.encode({ type: 'text_delta', text: r.text });
  }

  private blocked(ruleId: string): string {
    this.failed = true;
    return this.encoder.fail(outputBlockedError(ruleId));
  }
}

export function createStreamTranslator(args: StreamTranslatorArgs): StreamTranslator {
  const provider = providerAdapter(args.providerType);
  const encoder = dialectAdapter(args.dialect).createStreamEncoder({
    model: args.model,
    requestId: args.requestId,
    created: args.created,
    clientWantsUsage: args.clientWantsUsage,
  });
  // Passthrough forwards bytes untouched; output guardrails need the text, so they translate.
  if (!args.textFilter && isPassthrough(args.dialect, provider) && provider.createPassthroughObserver) {
    return new PassthroughTranslator(provider.createPassthroughObserver(args.dialect, args.clientWantsUsage), encoder);
  }
  const decoder = (isPassthrough(args.dialect, provider) ? provider.createPassthroughDecoder?.(args.dialect) : undefined) ?? provider.createStreamDecoder();
  return new TranslatingTranslator(decoder, encoder, args.textFilter);
}

export { invalidBody };
