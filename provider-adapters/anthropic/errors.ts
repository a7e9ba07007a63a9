// Anthropic error envelope -> gateway error. 529 overloaded becomes 503 (toGatewayError).
import type { GatewayErrorInfo } from '../contract.ts';
import { obj, parseJsonBytes, str } from '../canonical/json.ts';
import { toGatewayError } from '../canonical/provider-error.ts';

export function mapAnthropicError(status: number, body: Uint8Array, headers: Record<string, string>): GatewayErrorInfo {
  const parsed = parseJsonBytes(body);
  const err = obj(obj(parsed.ok ? parsed.value : undefined).error);
  const message = str(err.message) ?? new TextDecoder().decode(body).slice(0, 500);
  const type = str(err.type);
  return toGatewayError({ status, message, code: type === 'overloaded_error' ? 'overloaded' : undefined }, headers);
}

/** Gateway error -> Anthropic error type (their SDK switches on it). */
export function anthropicErrorType(err: GatewayErrorInfo): string {
  if (err.status === 401) return 'authentication_error';
  if (err.status === 403) return 'permission_error';
  if (err.status === 404) return 'not_found_error';
  if (err.status === 413) return 'request_too_large';
  if (err.status === 429) return 'rate_limit_error';
  if (err.status === 503 || err.status === 529) return 'overloaded_error';
  if (err.status >= 500) return 'api_error';
  return 'invalid_request_error';
}
