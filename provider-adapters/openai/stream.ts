// OpenAI Chat Completions SSE -> canonical events, and the byte-faithful passthrough observer.
import type { StreamDecoder, PassthroughObserver } from '../canonical/adapter.ts';
import { arr, isObject, obj, str } from '../canonical/json.ts';
import type { CanonicalStreamEvent } from '../canonical/types.ts';
import type { Usage } from '../contract.ts';
import { SseParser, type SseEvent } from '../sse/parser.ts';
import { finishFromOpenAI } from './finish.ts';
import { usageFromOpenAI } from './usage.ts';
import { toGatewayError } from '../canonical/provider-error.ts';

const encoder = new TextEncoder();

/** Groq reports stream usage under x_groq.usage; everyone else under usage. */
function chunkUsage(chunk: Record<string, unknown>): Usage | undefined {
  return usageFromOpenAI(chunk.usage) ?? usageFromOpenAI(obj(chunk.x_groq).usage);
}

function inBandError(chunk: Record<string, unknown>): CanonicalStreamEvent | undefined {
  if (!isObject(chunk.error)) return undefined;
  const e = chunk.error;
  const message = str(e.message) ?? 'Upstream stream error';
  return { type: 'error', error: toGatewayError({ status: 500, message, type: str(e.type), code: str(e.code) }, {}) };
}

export class OpenAIChatStreamDecoder implements StreamDecoder {
  private readonly sse = new SseParser();
  private started = false;
  private done = false;
  /** OpenAI tool index -> canonical index, and whether the call is still open. */
  private readonly tools = new Map<number, { index: number; open: boolean }>();

  push(chunk: Uint8Array): CanonicalStreamEvent[] {
    return this.handle(this.sse.push(chunk));
  }
  end(): CanonicalStreamEvent[] {
    return this.handle(this.sse.end());
  }
  complete(): boolean {
    return this.done;
  }

  private handle(events: SseEvent[]): CanonicalStreamEvent[] {
    const out: CanonicalStreamEvent[] = [];
    for (const ev of events) {
      if (ev.data === '[DONE]') {
        this.closeTools(out);
        this.done = true;
        continue;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(ev.data);
      } catch {
        continue; // keep-alives and junk lines carry nothing to translate
      }
      if (!isObject(chunk)) continue;
      const err = inBandError(chunk);
      if (err) {
        out.push(err);
        continue;
      }
      if (!this.started) {
        this.started = true;
        out.push({ type: 'message_start', id: str(chunk.id), model: str(chunk.model) });
      }
      for (const c of arr(chunk.choices)) {
        if (!isObject(c) || (c.index !== undefined && c.index !== 0)) continue;
        const delta = obj(c.delta);
        const text = str(delta.content);
        if (text) out.push({ type: 'text_delta', text });
        for (const tc of arr(delta.tool_calls)) this.toolDelta(obj(tc), out);
        if (c.finish_reason !== null && c.finish_reason !== undefined) {
          this.closeTools(out);
          out.push({ type: 'finish', reason: finishFromOpenAI(c.finish_reason) });
        }
      }
      const usage = chunkUsage(chunk);
      if (usage) out.push({ type: 'usage', usage });
    }
    return out;
  }

  private toolDelta(tc: Record<string, unknown>, out: CanonicalStreamEvent[]): void {
    const openaiIndex = typeof tc.index === 'number' ? tc.index : this.tools.size;
    const fn = obj(tc.function);
    let entry = this.tools.get(openaiIndex);
    if (!entry) {
      entry = { index: this.tools.size, open: true };
      this.tools.set(openaiIndex, entry);
      out.push({ type: 'tool_call_start', index: entry.index, id: str(tc.id) ?? `call_${entry.index}`, name: str(fn.name) ?? '' });
    }
    const args = str(fn.arguments);
    if (args) out.push({ type: 'tool_call_delta', index: entry.index, argumentsDelta: args });
  }

  private closeTools(out: CanonicalStreamEvent[]): void {
    for (const t of this.tools.values()) {
      if (t.open) {
        t.open = false;
        out.push({ type: 'tool_call_end', index: t.index });
      }
    }
  }
}

/**
 * openai-chat client, OpenAI-format provider: events are forwarded as received. Usage is read from
 * the final chunk; that usage-only chunk is dropped when the gateway (not the client) asked for it.
 */
export class OpenAIChatPassthrough implements PassthroughObserver {
  private readonly sse = new SseParser();
  private done = false;
  private failed = false;
  private lastUsage: Usage | undefined;
  private text = '';
  private readonly clientWantsUsage: boolean;

  constructor(clientWantsUsage: boolean) {
    this.clientWantsUsage = clientWantsUsage;
  }

  push(chunk: Uint8Array): Uint8Array {
    return this.forward(this.sse.push(chunk));
  }

  end(): { tail: Uint8Array; complete: boolean; failed: boolean } {
    const tail = this.forward(this.sse.end());
    return { tail, complete: this.done, failed: this.failed };
  }

  usage(): Usage | undefined {
    return this.lastUsage;
  }

  outputText(): string {
    return this.text;
  }

  private forward(events: SseEvent[]): Uint8Array {
    let out = '';
    for (const ev of events) {
      if (ev.data === '[DONE]') {
        this.done = true;
        out += ev.raw;
        continue;
      }
      let usageOnly = false;
      try {
        const chunk: unknown = JSON.parse(ev.data);
        if (isObject(chunk)) {
          if (isObject(chunk.error)) this.failed = true;
          const usage = chunkUsage(chunk);
          if (usage) this.lastUsage = usage;
          const choices = arr(chunk.choices);
          for (const c of choices) this.text += str(obj(obj(c).delta).content) ?? '';
          usageOnly = usage !== undefined && choices.length === 0;
        }
      } catch {
        // not JSON: forward untouched
      }
      if (usageOnly && !this.clientWantsUsage) continue;
      out += ev.raw;
    }
    return encoder.encode(out);
  }
}
