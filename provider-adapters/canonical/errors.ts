// Constructors for the gateway errors the translation layer raises itself.
import type { GatewayErrorInfo } from '../contract.ts';

export function invalidBody(message: string, param: string | null = null): GatewayErrorInfo {
  return { status: 400, type: 'invalid_request_error', code: 'invalid_body', message, param };
}

/** A parameter the chosen provider cannot honour and that would change the answer if dropped. */
export function unsupportedParam(param: string, provider: string, why = ''): GatewayErrorInfo {
  const reason = why ? `: ${why}` : '';
  return {
    status: 400,
    type: 'invalid_request_error',
    code: 'unsupported_parameter',
    message: `Parameter '${param}' is not supported by provider '${provider}'${reason}`,
    param,
  };
}

/** Thrown inside translators and turned into a Result at the module edge, so deep helpers stay simple. */
export class TranslationError extends Error {
  readonly info: GatewayErrorInfo;
  constructor(info: GatewayErrorInfo) {
    super(info.message);
    this.info = info;
  }
}

export function fail(info: GatewayErrorInfo): never {
  throw new TranslationError(info);
}
