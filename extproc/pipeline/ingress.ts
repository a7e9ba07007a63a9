// Reading what the client sent before any body arrives: internal headers it may not set, the
// credential in the place its SDK puts it, and the tag header routing rules match on.
import type { IngressDialect } from '../../provider-adapters/contract.ts';

export const INTERNAL_HEADER_PREFIX = 'x-sb-';
/** Client credentials, removed before anything goes upstream. */
export const CLIENT_CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'x-goog-api-key', 'api-key'];

/** Every x-sb-* header the client sent: Switchboard trusts none of them. */
export function clientInternalHeaders(headers: Map<string, string>): string[] {
  const out: string[] = [];
  for (const name of headers.keys()) if (name.startsWith(INTERNAL_HEADER_PREFIX)) out.push(name);
  return out;
}

/** The virtual key, where each dialect's SDK sends it. */
export function extractVirtualKey(dialect: IngressDialect | 'models', headers: Map<string, string>, path: string): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.get('authorization') ?? '')?.[1]?.trim();
  switch (dialect) {
    case 'anthropic-messages':
    case 'anthropic-count-tokens':
      return headers.get('x-api-key') ?? bearer;
    case 'gemini-generate': {
      const query = path.includes('?') ? new URLSearchParams(path.slice(path.indexOf('?') + 1)).get('key') : null;
      return headers.get('x-goog-api-key') ?? query ?? bearer;
    }
    default:
      return bearer ?? headers.get('x-api-key');
  }
}

/** `x-sb-tags: task=summarization, tier=gold` -> { task: 'summarization', tier: 'gold' } */
export function parseTagHeader(value: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  if (!value) return tags;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (name) tags[name] = eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return tags;
}

/** Removes ?key=... (Gemini SDKs may put the key in the query) so it never travels upstream. */
export function stripKeyFromQuery(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const params = new URLSearchParams(path.slice(q + 1));
  if (!params.has('key')) return path;
  params.delete('key');
  const rest = params.toString();
  return rest ? `${path.slice(0, q)}?${rest}` : path.slice(0, q);
}
