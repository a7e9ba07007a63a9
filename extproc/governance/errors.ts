// Governance rows of the gateway error table (docs: shared ARCHITECTURE.md, "One error table").
import type { GatewayErrorInfo } from '../../provider-adapters/contract.ts';

export function notAllowedError(message: string): GatewayErrorInfo {
  return { status: 403, type: 'permission_error', code: 'model_not_allowed', message, param: 'model' };
}

export function budgetExceededError(message: string): GatewayErrorInfo {
  // A budget does not refill in seconds: tell SDKs not to retry.
  return { status: 429, type: 'insufficient_quota', code: 'budget_exceeded', message, param: null, headers: { 'x-should-retry': 'false' } };
}

export function rateLimitedError(message: string, retryAfterSeconds: number): GatewayErrorInfo {
  return { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', message, param: null, headers: { 'retry-after': String(retryAfterSeconds) } };
}

export function budgetUnavailableError(): GatewayErrorInfo {
  return {
    status: 503,
    type: 'api_error',
    code: 'budget_unavailable',
    message: 'Budgets cannot be checked right now (state store unavailable); the request was refused rather than run unmetered. Please retry shortly.',
    param: null,
    headers: { 'retry-after': '1' },
  };
}

export function policyError(message: string): GatewayErrorInfo {
  return { status: 403, type: 'permission_error', code: 'policy_misconfigured', message, param: null };
}

/** 1234567 micro-dollars -> "1.234567". */
export function microsToDollars(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  return `${sign}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}
