// The shapes every provider module and every dialect module implement, so index.ts can pair any
// dialect with any provider through the canonical model.
import type { GatewayErrorInfo, IngressDialect, Usage, WireRequest } from '../contract.ts';
import type {
  CanonicalEmbeddingResponse,
  CanonicalRequest,
  CanonicalResponse,
  CanonicalStreamEvent,
  ProviderTarget,
} from './types.ts';

/** Turns a provider's stream bytes into canonical events. */
export interface StreamDecoder {
  push(chunk: Uint8Array): CanonicalStreamEvent[];
  /** Called once at end of stream; returns whatever the last bytes completed. */
  end(): CanonicalStreamEvent[];
  /** True once the provider's terminal event arrived (OpenAI [DONE], Anthropic message_stop, ...). */
  complete(): boolean;
}

/** Turns canonical events into a dialect's stream text. */
export interface StreamEncoder {
  encode(event: CanonicalStreamEvent): string;
  /** The dialect's proper ending after a complete stream. */
  finish(): string;
  /** The dialect's in-band error after a broken stream or a provider error event. */
  fail(error: GatewayErrorInfo): string;
}

export interface RenderContext {
  model: string;
  requestId: string;
  created: number;
  clientWantsUsage: boolean;
}

export interface BuiltRequest {
  wire: WireRequest;
  droppedParams: string[];
}

/** Reads a stream in the client's own format: bytes pass through, usage and completion are observed. */
export interface PassthroughObserver {
  /** Returns the bytes to forward (identical input, minus anything the gateway itself injected). */
  push(chunk: Uint8Array): Uint8Array;
  /** `failed`: the provider already sent an in-band error, so no second one is appended. */
  end(): { tail: Uint8Array; complete: boolean; failed?: boolean };
  usage(): Usage | undefined;
  outputText(): string;
}

export interface ProviderAdapter {
  /** Canonical -> provider wire request for chat-style generation. */
  buildChat(request: CanonicalRequest, target: ProviderTarget, model: string): BuiltRequest;
  /** Canonical -> provider embeddings request; absent when the provider has no embeddings API here. */
  buildEmbeddings?(request: CanonicalRequest, target: ProviderTarget, model: string): BuiltRequest;
  parseChatResponse(json: unknown): CanonicalResponse;
  parseEmbeddingsResponse?(json: unknown): CanonicalEmbeddingResponse;
  createStreamDecoder(): StreamDecoder;
  /** A non-2xx body -> gateway error (status normalised, Retry-After kept). */
  mapError(status: number, body: Uint8Array, headers: Record<string, string>): GatewayErrorInfo;
  /** Dialects this provider speaks natively, so their bodies pass through with only the model replaced. */
  nativeDialects: readonly IngressDialect[];
  passthrough?(
    dialect: IngressDialect,
    raw: unknown,
    request: CanonicalRequest,
    target: ProviderTarget,
    model: string,
  ): BuiltRequest;
  /** Usage from a native-dialect JSON body (passthrough responses are returned byte for byte). */
  passthroughUsage?(dialect: IngressDialect, json: unknown): { usage?: Usage; finishReason?: string };
  createPassthroughObserver?(dialect: IngressDialect, clientWantsUsage: boolean): PassthroughObserver;
  /**
   * When a native-dialect request was passed through but its answer must still be translated
   * (output guardrails need the text), the answer is in the dialect's format, not necessarily in
   * the format parseChatResponse / createStreamDecoder read. These read it; undefined (or absent)
   * means the provider's chat format is the dialect's format.
   */
  parsePassthroughResponse?(dialect: IngressDialect, json: unknown): CanonicalResponse | undefined;
  createPassthroughDecoder?(dialect: IngressDialect): StreamDecoder | undefined;
}

export interface DialectAdapter {
  parse(raw: unknown, opts: { pathModel?: string; stream?: boolean }): CanonicalRequest;
  renderResponse(response: CanonicalResponse, ctx: RenderContext): unknown;
  renderEmbeddings?(response: CanonicalEmbeddingResponse, request: { model: string; encodingFormat?: string }, ctx: RenderContext): unknown;
  createStreamEncoder(ctx: RenderContext): StreamEncoder;
  errorBody(error: GatewayErrorInfo): unknown;
}
