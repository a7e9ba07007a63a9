// The one model every dialect parses into and every provider renders from (N + M, not N x M).
import type { GatewayErrorInfo, ProviderType, Usage } from '../contract.ts';

export type ImageSource =
  | { kind: 'url'; url: string }
  | { kind: 'base64'; mediaType: string; data: string };

export interface TextPart {
  type: 'text';
  text: string;
}
export interface ImagePart {
  type: 'image';
  source: ImageSource;
  /** OpenAI image detail hint; only OpenAI honours it. */
  detail?: string;
  /** The ingress parameter path, so a provider that cannot take this image can name it in a 400. */
  param: string;
}
export interface ToolCallPart {
  type: 'tool_call';
  id: string;
  name: string;
  /** JSON text of the arguments, exactly as produced (OpenAI keeps it as a string too). */
  arguments: string;
}
export interface ToolResultPart {
  type: 'tool_result';
  toolCallId: string;
  /** The tool's name when known (Gemini needs it; filled from the matching call when absent). */
  name?: string;
  content: Array<TextPart | ImagePart>;
  isError?: boolean;
}
export type ContentPart = TextPart | ImagePart | ToolCallPart | ToolResultPart;

export interface CanonicalMessage {
  role: 'user' | 'assistant';
  content: ContentPart[];
}

export interface CanonicalTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

export type ReasoningEffort = 'minimal' | 'low' | 'medium' | 'high';

/**
 * A parameter the ingress dialect carried that has no canonical slot. `droppable` means removing
 * it does not change the answer's meaning (e.g. `store`, `service_tier`); otherwise a provider
 * that cannot pass it through must reject the request with a 400 naming `param`.
 */
export interface UnmappedParam {
  param: string;
  droppable: boolean;
}

export type Operation = 'chat' | 'embeddings' | 'count_tokens';

export interface EmbeddingInput {
  /** Strings to embed. Token-id inputs are only accepted for passthrough to OpenAI-format providers. */
  texts: string[];
  dimensions?: number;
  encodingFormat?: 'float' | 'base64';
}

export interface CanonicalRequest {
  operation: Operation;
  model: string;
  system?: string;
  messages: CanonicalMessage[];
  tools?: CanonicalTool[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokens?: number;
  stop?: string[];
  responseFormat?: ResponseFormat;
  presencePenalty?: number;
  frequencyPenalty?: number;
  seed?: number;
  n?: number;
  reasoning?: { effort?: ReasoningEffort; budgetTokens?: number };
  stream: boolean;
  /** String map; OpenAI metadata, Anthropic metadata.user_id lands in `user`. */
  metadata?: Record<string, string>;
  user?: string;
  unmapped: UnmappedParam[];
  embedding?: EmbeddingInput;
}

/**
 * Canonical finish reasons. `stop` is a natural end, `stop_sequence` a caller stop string
 * (Anthropic/Bedrock tell them apart; OpenAI/Gemini report both as stop).
 */
export type FinishReason = 'stop' | 'stop_sequence' | 'length' | 'tool_calls' | 'content_filter' | 'error';

export interface CanonicalResponse {
  id?: string;
  model?: string;
  content: Array<TextPart | ToolCallPart>;
  finishReason: FinishReason;
  stopSequence?: string;
  usage?: Usage;
}

export interface CanonicalEmbeddingResponse {
  vectors: number[][];
  usage?: Usage;
}

/**
 * Stream events. Tool-call `index` counts tool calls within the message from 0, whatever the
 * provider's own block numbering is.
 */
export type CanonicalStreamEvent =
  | { type: 'message_start'; id?: string; model?: string; usage?: Usage }
  | { type: 'text_delta'; text: string }
  | { type: 'tool_call_start'; index: number; id: string; name: string }
  | { type: 'tool_call_delta'; index: number; argumentsDelta: string }
  | { type: 'tool_call_end'; index: number }
  | { type: 'finish'; reason: FinishReason; stopSequence?: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'error'; error: GatewayErrorInfo };

/** Where and how to reach one provider endpoint. Never carries credentials. */
export interface ProviderTarget {
  type: ProviderType;
  baseUrl: string;
  /** Azure OpenAI api-version query parameter. */
  apiVersion?: string;
  /** Azure OpenAI deployment name (defaults to the model). */
  deployment?: string;
  /** AWS region for Bedrock. */
  region?: string;
}

export type Result<T> = ({ ok: true } & T) | { ok: false; error: GatewayErrorInfo };
