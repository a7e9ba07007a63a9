// Request tags for rule matching. Clients send them in a header (`x-sb-tags: task=summarization,
// tier=gold`) and, where the dialect has one, in the body's `metadata` object (OpenAI chat and
// responses). The header wins on a conflict: it is addressed to the gateway, while body metadata
// is primarily meant for the provider.

export const TAGS_HEADER = 'x-sb-tags';

const MAX_TAGS = 64;
const MAX_TAG_LENGTH = 256;

/** Parses `k=v,k2=v2`. Malformed pairs (no `=`, empty key) are skipped, not fatal. */
export function parseTagsHeader(header: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  if (!header) return tags;
  let count = 0;
  for (const pair of header.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (!key || key.length > MAX_TAG_LENGTH || value.length > MAX_TAG_LENGTH) continue;
    if (count++ >= MAX_TAGS) break;
    tags[key] = value;
  }
  return tags;
}

/** Scalar entries of a body `metadata` object, as strings. Nested values are ignored. */
export function tagsFromBodyMetadata(metadata: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return tags;
  let count = 0;
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
    const text = String(value);
    if (key.length > MAX_TAG_LENGTH || text.length > MAX_TAG_LENGTH) continue;
    if (count++ >= MAX_TAGS) break;
    tags[key] = text;
  }
  return tags;
}

export function collectTags(input: { header?: string; bodyMetadata?: unknown }): Record<string, string> {
  return { ...tagsFromBodyMetadata(input.bodyMetadata), ...parseTagsHeader(input.header) };
}
