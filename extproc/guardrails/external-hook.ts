// Calls an external moderation service over HTTP. The fetch function is injected (undici's fetch
// in production, anything fetch-shaped in tests); a timeout bounds the wait.
import type { ExternalHookConfig } from './schema.ts';

export interface FetchLikeResponse {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<FetchLikeResponse>;

export interface ExternalHookRequest {
  dialect?: string;
  policy: string;
  /** Text parts after local redaction: secrets never leave for the moderation service. */
  texts: string[];
}

export type ExternalHookResult = { ok: true; flagged: boolean; categories: string[] } | { ok: false; reason: string };

function readVerdict(body: unknown): { flagged: boolean; categories: string[] } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.flagged === 'boolean') {
    const categories = Array.isArray(b.categories) ? b.categories.filter((c): c is string => typeof c === 'string') : [];
    return { flagged: b.flagged, categories };
  }
  // OpenAI moderation shape: { results: [{ flagged, categories: { name: bool } }] }
  if (Array.isArray(b.results)) {
    let flagged = false;
    const categories: string[] = [];
    for (const r of b.results as Record<string, unknown>[]) {
      if (r?.flagged === true) flagged = true;
      if (typeof r?.categories === 'object' && r.categories !== null) {
        for (const [name, on] of Object.entries(r.categories)) if (on === true) categories.push(name);
      }
    }
    return { flagged, categories };
  }
  return undefined;
}

export async function callExternalHook(config: ExternalHookConfig, request: ExternalHookRequest, fetchImpl: FetchLike): Promise<ExternalHookResult> {
  try {
    const res = await fetchImpl(config.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...config.headers },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(config.timeoutMs),
    });
    if (!res.ok) return { ok: false, reason: `http_${res.status}` };
    const verdict = readVerdict(await res.json());
    return verdict ? { ok: true, ...verdict } : { ok: false, reason: 'bad_response' };
  } catch (err) {
    const name = (err as Error)?.name;
    return { ok: false, reason: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'unreachable' };
  }
}
