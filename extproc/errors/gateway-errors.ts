// The one table of gateway errors (ARCHITECTURE.md). Every rejection Switchboard makes is built
// here and rendered in the ingress dialect's envelope by the adapters, so status, type and code
// never drift between call sites. Messages never carry a secret or a provider key.
import type { GatewayErrorInfo } from '../../provider-adapters/contract.ts';

export const gatewayErrors = {
  invalidApiKey: (message = 'Invalid or missing virtual key.'): GatewayErrorInfo => ({ status: 401, type: 'authentication_error', code: 'invalid_api_key', message }),
  modelNotAllowed: (model: string): GatewayErrorInfo => ({ status: 403, type: 'permission_error', code: 'model_not_allowed', message: `This key may not use model "${model}".`, param: 'model' }),
  budgetExceeded: (scope: string): GatewayErrorInfo => ({ status: 429, type: 'insufficient_quota', code: 'budget_exceeded', message: `Budget exhausted for ${scope}.`, headers: { 'x-should-retry': 'false' } }),
  rateLimited: (scope: string, retryAfterSeconds: number): GatewayErrorInfo => ({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', message: `Rate limit reached for ${scope}; retry after ${retryAfterSeconds}s.`, headers: { 'retry-after': String(retryAfterSeconds) } }),
  contentBlocked: (policy: string, rule: string): GatewayErrorInfo => ({ status: 400, type: 'invalid_request_error', code: 'content_blocked', message: `Request blocked by guardrail policy "${policy}" (rule ${rule}).` }),
  invalidBody: (message: string, param: string | null = null): GatewayErrorInfo => ({ status: 400, type: 'invalid_request_error', code: 'invalid_body', message, param }),
  modelNotFound: (model: string): GatewayErrorInfo => ({ status: 404, type: 'invalid_request_error', code: 'model_not_found', message: `The model "${model}" does not exist or has no route.`, param: 'model' }),
  routeNotFound: (method: string, path: string): GatewayErrorInfo => ({ status: 404, type: 'invalid_request_error', code: 'not_found', message: `No API at ${method} ${path}.` }),
  requestTooLarge: (limit: number): GatewayErrorInfo => ({ status: 413, type: 'invalid_request_error', code: 'request_too_large', message: `Request body exceeds ${limit} bytes.` }),
  overloaded: (): GatewayErrorInfo => ({ status: 503, type: 'api_error', code: 'overloaded', message: 'The gateway is over capacity; retry shortly.', headers: { 'retry-after': '1' } }),
  unavailable: (message: string): GatewayErrorInfo => ({ status: 503, type: 'api_error', code: 'service_unavailable', message }),
  upstreamFailed: (status: number, attempts: string): GatewayErrorInfo => ({ status: status >= 400 ? status : 502, type: 'api_error', code: 'upstream_error', message: `Every target failed (attempts: ${attempts}).` }),
} as const;
