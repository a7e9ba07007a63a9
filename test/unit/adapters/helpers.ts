// Shared test utilities: fixture loading and chunk splitting for stream split-safety.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createStreamTranslator, type StreamTranslatorArgs } from '../../../provider-adapters/index.ts';

export const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'providers');

export function fixtureBytes(provider: string, name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, provider, name)));
}

export function fixtureText(provider: string, name: string): string {
  return readFileSync(join(FIXTURES, provider, name), 'utf8');
}

export function fixtureJson<T = unknown>(provider: string, name: string): T {
  return JSON.parse(fixtureText(provider, name)) as T;
}

export function fixtureNames(provider: string, prefix: string): string[] {
  return readdirSync(join(FIXTURES, provider)).filter((f) => f.startsWith(prefix)).sort();
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/** Every way of cutting `data` into two pieces, plus one byte at a time. */
export function splits(data: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i <= data.length; i++) out.push([data.subarray(0, i), data.subarray(i)]);
  out.push(Array.from(data, (_b, i) => data.subarray(i, i + 1)));
  return out;
}

export interface StreamRun {
  output: string;
  complete: boolean;
  usage: ReturnType<ReturnType<typeof createStreamTranslator>['usage']>;
  outputText: string;
}

export function runStream(args: StreamTranslatorArgs, chunks: Uint8Array[]): StreamRun {
  const t = createStreamTranslator(args);
  const parts: Uint8Array[] = [];
  for (const c of chunks) parts.push(t.push(c));
  const end = t.end();
  parts.push(end.tail);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return { output: text(all), complete: end.complete, usage: end.usage, outputText: t.outputText() };
}

/** Parses SSE text into (event, JSON data) pairs for assertions. */
export function sseEvents(s: string): Array<{ event?: string; data: string }> {
  const out: Array<{ event?: string; data: string }> = [];
  for (const block of s.split(/\r?\n\r?\n/)) {
    if (block.trim() === '') continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    out.push(event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') });
  }
  return out;
}

export function streamArgs(dialect: StreamTranslatorArgs['dialect'], providerType: StreamTranslatorArgs['providerType'], clientWantsUsage = true): StreamTranslatorArgs {
  return { dialect, providerType, model: 'client-model', requestId: 'req_1', created: 1700000000, clientWantsUsage };
}
