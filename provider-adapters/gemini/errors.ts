// Gemini (Google API) error envelope -> gateway error, and gateway error -> Google status names.
import type { GatewayErrorInfo } from '../contract.ts';
import { arr, isObject, obj, parseJsonBytes, str } from '../canonical/json.ts';
import { toGatewayError } from '../canonical/provider-error.ts';

export function mapGeminiError(status: number, body: Uint8Array, headers: Record<string, string>): GatewayErrorInfo {
  const parsed = parseJsonBytes(body);
  const root = parsed.ok ? parsed.value : undefined;
  // Streams and some proxies wrap the error in an array.
  const err = obj(obj(Array.isArray(root) ? root[0] : root).error);
  const message = str(err.message) ?? new TextDecoder().decode(body).slice(0, 500);
  const h = { ...headers };
  // RetryInfo.retryDelay ("23s") is Google's Retry-After.
  const retry = arr(err.details).find((d) => isObject(d) && String(d['@type']).endsWith('RetryInfo'));
  const delay = str(obj(retry).retryDelay);
  if (delay && !Object.keys(h).some((k) => k.toLowerCase() === 'retry-after')) h['retry-after'] = String(Math.ceil(parseFloat(delay)));
  const contentFilter = /safety|blocked/i.test(message) && status === 400;
  return toGatewayError({ status, message, contentFilter }, h);
}

export function googleStatus(status: number): string {
  switch (status) {
    case 400: return 'INVALID_ARGUMENT';
    case 401: return 'UNAUTHENTICATED';
    case 403: return 'PERMISSION_DENIED';
    case 404: return 'NOT_FOUND';
    case 409: return 'ABORTED';
    case 413: return 'INVALID_ARGUMENT';
    case 429: return 'RESOURCE_EXHAUSTED';
    case 501: return 'UNIMPLEMENTED';
    case 503: return 'UNAVAILABLE';
    case 504: return 'DEADLINE_EXCEEDED';
    default: return status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION';
  }
}

export function geminiErrorBody(err: GatewayErrorInfo): unknown {
  return { error: { code: err.status, message: err.message, status: googleStatus(err.status) } };
}
