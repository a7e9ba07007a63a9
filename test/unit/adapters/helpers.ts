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

export interface Reassembled {
  text: string;
  tools: Array<{ id: string; name: string; args: string }>;
  finish?: string;
  usage?: Record<string, unknown>;
  terminal: boolean;
  error?: Record<string, unknown>;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What an OpenAI SDK would rebuild from a chat.completion.chunk stream. */
export function reassembleOpenAIChat(sse: string): Reassembled {
  const r: Reassembled = { text: '', tools: [], terminal: false };
  for (const e of sseEvents(sse)) {
    if (e.data === '[DONE]') {
      r.terminal = true;
      continue;
    }
    const c = JSON.parse(e.data) as Json;
    if (c.error) r.error = c.error;
    if (c.usage) r.usage = c.usage;
    for (const ch of c.choices ?? []) {
      if (ch.delta?.content) r.text += ch.delta.content;
      for (const tc of ch.delta?.tool_calls ?? []) {
        const slot = (r.tools[tc.index] ??= { id: '', name: '', args: '' });
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.name = tc.function.name;
        slot.args += tc.function?.arguments ?? '';
      }
      if (ch.finish_reason) r.finish = ch.finish_reason;
    }
  }
  return r;
}

/** What the Anthropic SDK would rebuild; also checks block start/stop pairing. */
export function reassembleAnthropic(sse: string): Reassembled {
  const r: Reassembled = { text: '', tools: [], terminal: false };
  const blocks = new Map<number, { type: string; tool?: number; stopped: boolean }>();
  let sawStart = false;
  for (const e of sseEvents(sse)) {
    const d = JSON.parse(e.data) as Json;
    if (e.event !== d.type) throw new Error(`event name ${e.event} != ${d.type}`);
    switch (d.type) {
      case 'message_start':
        sawStart = true;
        r.usage = { ...d.message.usage };
        break;
      case 'content_block_start': {
        if (!sawStart) throw new Error('block before message_start');
        for (const b of blocks.values()) if (!b.stopped) throw new Error('overlapping blocks');
        const b: { type: string; tool?: number; stopped: boolean } = { type: d.content_block.type, stopped: false };
        if (b.type === 'tool_use') {
          b.tool = r.tools.length;
          r.tools.push({ id: d.content_block.id, name: d.content_block.name, args: '' });
        }
        blocks.set(d.index, b);
        break;
      }
      case 'content_block_delta': {
        const b = blocks.get(d.index);
        if (!b || b.stopped) throw new Error(`delta for closed block ${d.index}`);
        if (d.delta.type === 'text_delta') r.text += d.delta.text;
        if (d.delta.type === 'input_json_delta' && b.tool !== undefined) (r.tools[b.tool] as { args: string }).args += d.delta.partial_json;
        break;
      }
      case 'content_block_stop': {
        const b = blocks.get(d.index);
        if (!b) throw new Error('stop of unknown block');
        b.stopped = true;
        break;
      }
      case 'message_delta':
        r.finish = d.delta.stop_reason;
        r.usage = { ...r.usage, ...d.usage };
        break;
      case 'message_stop':
        for (const b of blocks.values()) if (!b.stopped) throw new Error('unclosed block at message_stop');
        r.terminal = true;
        break;
      case 'error':
        r.error = d.error;
        break;
    }
  }
  return r;
}
