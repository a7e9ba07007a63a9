// OpenAI-format error bodies (also Azure and compatible servers) -> gateway error.
import type { GatewayErrorInfo } from '../contract.ts';
import { isObject, obj, parseJsonBytes, str } from '../canonical/json.ts';
import { toGatewayError } from '../canonical/provider-error.ts';

export function mapOpenAIError(status: number, body: Uint8Array, headers: Record<string, string>): GatewayErrorInfo {
  const parsed = parseJsonBytes(body);
  const root = parsed.ok ? parsed.value : undefined;
  // Most servers use {"error":{...}}; some compatible ones (vLLM, Ollama) use {"error":"text"} or {"message":...}.
  const errVal = isObject(root) ? root.error : undefined;
  const err = obj(errVal);
  const message =
    str(err.message) ?? str(errVal) ?? str(obj(root).message) ?? str(obj(root).detail) ?? new TextDecoder().decode(body).slice(0, 500);
  const code = str(err.code);
  const innerCode = str(obj(err.innererror).code);
  const contentFilter = code === 'content_filter' || code === 'content_policy_violation' || innerCode === 'ResponsibleAIPolicyViolation';
  return toGatewayError(
    {
      status,
      message,
      type: str(err.type),
      code: code === 'context_length_exceeded' || code === 'insufficient_quota' || code === 'invalid_api_key' ? code : undefined,
      param: str(err.param) ?? null,
      contentFilter,
    },
    headers,
  );
}
