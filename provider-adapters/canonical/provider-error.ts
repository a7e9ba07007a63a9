// Shared rules for turning a provider's error into a gateway error, whatever its envelope.
import type { GatewayErrorInfo } from '../contract.ts';

const CONTEXT_LENGTH = /context[_ ]length|context window|maximum context|prompt is too long|input is too long|too many (input )?tokens|exceeds the maximum (number of )?tokens|input token count.*exceeds/i;

export function typeForStatus(status: number): string {
  if (status === 400 || status === 422) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 408 || status === 504) return 'timeout_error';
  if (status === 413) return 'invalid_request_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

export function codeForStatus(status: number): string {
  if (status === 401) return 'invalid_api_key';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'model_not_found';
  if (status === 408 || status === 504) return 'upstream_timeout';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_exceeded';
  if (status === 503 || status === 529) return 'overloaded';
  return status >= 500 ? 'upstream_error' : 'invalid_request';
}

export interface ProviderErrorFacts {
  status: number;
  message: string;
  type?: string;
  code?: string;
  param?: string | null;
  contentFilter?: boolean;
}

/**
 * 529 (Anthropic overloaded) becomes 503 so retry policies and clients see a standard status;
 * Retry-After / x-should-retry from the provider are kept so clients back off correctly.
 */
export function toGatewayError(facts: ProviderErrorFacts, headers: Record<string, string>): GatewayErrorInfo {
  const status = facts.status === 529 ? 503 : facts.status;
  let code = facts.code ?? codeForStatus(status);
  if (status === 400 && CONTEXT_LENGTH.test(facts.message)) code = 'context_length_exceeded';
  if (facts.contentFilter) code = 'content_filter';
  const out: GatewayErrorInfo = {
    status,
    type: facts.type ?? typeForStatus(status),
    code,
    message: facts.message || `Upstream provider returned HTTP ${facts.status}`,
    param: facts.param ?? null,
  };
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const key = k.toLowerCase();
    if (key === 'retry-after' || key === 'x-should-retry' || key === 'retry-after-ms') kept[key] = v;
  }
  if (Object.keys(kept).length > 0) out.headers = kept;
  return out;
}

/** The error a client sees when a stream stops before the provider's terminal event. */
export function streamCutError(): GatewayErrorInfo {
  return {
    status: 502,
    type: 'server_error',
    code: 'stream_interrupted',
    message: 'The upstream stream ended before the response was complete',
    param: null,
  };
}
