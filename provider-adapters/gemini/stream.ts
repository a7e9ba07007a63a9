// Gemini streamGenerateContent (alt=sse) -> canonical events, and the passthrough observer.
// Gemini has no end marker: a chunk with finishReason is the terminal event.
import type { StreamDecoder } from '../canonical/adapter.ts';
import { arr, isObject, obj, str } from '../canonical/json.ts';
import { toGatewayError } from '../canonical/provider-error.ts';
import type { CanonicalStreamEvent } from '../canonical/types.ts';
import type { Usage } from '../contract.ts';
import { SseParser, type SseEvent } from '../sse/parser.ts';
import { DecodingPassthrough } from '../sse/decoding-passthrough.ts';
import { finishFromGemini } from './finish.ts';
import { usageFromGemini } from './usage.ts';

export class GeminiStreamDecoder implements StreamDecoder {
  private readonly sse = new SseParser();
  private started = false;
  private tools = 0;
  private finished = false;
  private usage: Usage | undefined;

  push(chunk: Uint8Array): CanonicalStreamEvent[] {
    return this.handle(this.sse.push(chunk));
  }
  end(): CanonicalStreamEvent[] {
    const out = this.handle(this.sse.end());
    // usageMetadata repeats cumulatively on every chunk; report the last one once.
    if (this.usage) out.push({ type: 'usage', usage: this.usage });
    return out;
  }
  complete(): boolean {
    return this.finished;
  }

  private handle(events: SseEvent[]): CanonicalStreamEvent[] {
    const out: CanonicalStreamEvent[] = [];
    for (const ev of events) {
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        continue;
      }
      if (!isObject(data)) continue;
      if (isObject(data.error)) {
        const e = data.error;
        out.push({ type: 'error', error: toGatewayError({ status: typeof e.code === 'number' ? e.code : 500, message: str(e.message) ?? 'Upstream stream error' }, {}) });
        continue;
      }
      if (!this.started) {
        this.started = true;
        out.push({ type: 'message_start', id: str(data.responseId), model: str(data.modelVersion) });
      }
      const usage = usageFromGemini(data.usageMetadata);
      if (usage) this.usage = usage;
      const cand = obj(arr(data.candidates)[0]);
      for (const p of arr(obj(cand.content).parts)) {
        if (!isObject(p) || p.thought === true) continue;
        if (typeof p.text === 'string' && p.text !== '') out.push({ type: 'text_delta', text: p.text });
        if (isObject(p.functionCall)) {
          // Gemini sends each call whole: start, all arguments, end.
          const fc = p.functionCall;
          const index = this.tools++;
          out.push({ type: 'tool_call_start', index, id: str(fc.id) ?? `call_${index}`, name: str(fc.name) ?? '' });
          out.push({ type: 'tool_call_delta', index, argumentsDelta: JSON.stringify(fc.args ?? {}) });
          out.push({ type: 'tool_call_end', index });
        }
      }
      const blocked = str(obj(data.promptFeedback).blockReason);
      if (cand.finishReason !== undefined || blocked) {
        this.finished = true;
        out.push({ type: 'finish', reason: blocked ? 'content_filter' : finishFromGemini(cand.finishReason, this.tools > 0) });
      }
    }
    return out;
  }
}

export class GeminiPassthrough extends DecodingPassthrough {
  constructor() {
    super(new GeminiStreamDecoder(), geminiEventUsage);
  }
}

/** Gemini repeats usageMetadata in stream events; its decoder reports usage only at the end. */
function geminiEventUsage(data: string): Usage | undefined {
  try {
    return usageFromGemini(obj(JSON.parse(data) as unknown).usageMetadata);
  } catch {
    return undefined; // forwarded as is
  }
}
