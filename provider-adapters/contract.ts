// The contract between the gateway pipeline and the pure translation layer.
// Everything here is data in, data out: no I/O, no clock, no globals. The pipeline (extproc/)
// owns side effects and passes in whatever time- or secret-dependent input a function needs.

/** What clients speak to Switchboard. */
export type IngressDialect =
  | 'openai-chat' // POST /v1/chat/completions
  | 'openai-embeddings' // POST /v1/embeddings
  | 'openai-responses' // POST /v1/responses
  | 'anthropic-messages' // POST /v1/messages
  | 'anthropic-count-tokens' // POST /v1/messages/count_tokens
  | 'gemini-generate'; // POST /v1beta/models/{model}:generateContent | :streamGenerateContent

/** Upstream provider wire formats. OpenAI-compatible presets share the openai format. */
export type ProviderType =
  | 'openai'
  | 'azure-openai'
  | 'anthropic'
  | 'gemini'
  | 'bedrock'
  | 'groq'
  | 'mistral'
  | 'vllm'
  | 'ollama'
  | 'openai-compatible';

/** Token usage in one shape for every provider. Integers; absent means the provider did not say. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number; // read from prompt cache
  cacheCreationInputTokens?: number; // written to prompt cache (Anthropic)
  reasoningTokens?: number; // thinking / reasoning tokens, included in outputTokens
}

/** A header/body pair the pipeline hands to Envoy. Body already serialised. */
export interface WireRequest {
  method: 'POST' | 'GET';
  /** Path and query, e.g. /v1/chat/completions or /model/{id}/converse-stream */
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A translated response body (JSON, or a chunk of a stream) and headers to set on the way back. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A gateway or provider error, before it is rendered in the ingress dialect's envelope. */
export interface GatewayErrorInfo {
  status: number;
  /** OpenAI-style type: authentication_error, permission_error, invalid_request_error, ... */
  type: string;
  /** Stable code: invalid_api_key, model_not_allowed, budget_exceeded, ... */
  code: string;
  message: string;
  param?: string | null;
  /** Extra headers: Retry-After, x-should-retry, ... */
  headers?: Record<string, string>;
}
