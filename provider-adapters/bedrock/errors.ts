// Bedrock error bodies ({"message": ...}, type in x-amzn-errortype) and stream exceptions.
import type { GatewayErrorInfo } from '../contract.ts';
import { obj, parseJsonBytes, str } from '../canonical/json.ts';
import { toGatewayError } from '../canonical/provider-error.ts';

/** Stream exception types (camelCase in event streams, PascalCase in x-amzn-errortype) -> HTTP status. */
const EXCEPTION_STATUS: Record<string, number> = {
  throttlingexception: 429,
  validationexception: 400,
  accessdeniedexception: 403,
  resourcenotfoundexception: 404,
  modeltimeoutexception: 408,
  modelnotreadyexception: 503,
  serviceunavailableexception: 503,
  modelstreamerrorexception: 502,
  modelerrorexception: 502,
  internalserverexception: 500,
  servicequotaexceededexception: 429,
};

export function bedrockExceptionStatus(type: string | undefined, fallback: number): number {
  return (type && EXCEPTION_STATUS[type.toLowerCase()]) || fallback;
}

export function mapBedrockError(status: number, body: Uint8Array, headers: Record<string, string>): GatewayErrorInfo {
  const parsed = parseJsonBytes(body);
  const root = obj(parsed.ok ? parsed.value : undefined);
  const message = str(root.message) ?? str(root.Message) ?? new TextDecoder().decode(body).slice(0, 500);
  const typeHeader = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-amzn-errortype')?.[1];
  const type = typeHeader?.split(':')[0];
  const mapped = status === 400 || status === 500 ? bedrockExceptionStatus(type, status) : status;
  return toGatewayError({ status: mapped, message }, headers);
}
