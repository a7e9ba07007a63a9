// data: URLs carry inline images in OpenAI-style bodies; providers that want base64 need them split.
import type { ImageSource } from './types.ts';

const DATA_URL = /^data:([a-z0-9.+-]+\/[a-z0-9.+-]+)?(?:;[^,;]*)*?;base64,(.*)$/is;

export function imageSourceFromUrl(url: string): ImageSource {
  const m = DATA_URL.exec(url);
  if (m) return { kind: 'base64', mediaType: (m[1] ?? 'application/octet-stream').toLowerCase(), data: m[2] ?? '' };
  return { kind: 'url', url };
}

export function imageSourceToUrl(src: ImageSource): string {
  return src.kind === 'url' ? src.url : `data:${src.mediaType};base64,${src.data}`;
}
