// openai-responses client, OpenAI provider: forward events untouched, read usage from the
// terminal response.completed / response.incomplete / response.failed event.
import type { PassthroughObserver } from '../canonical/adapter.ts';
import { isObject, obj, str } from '../canonical/json.ts';
import type { Usage } from '../contract.ts';
import { SseParser, type SseEvent } from '../sse/parser.ts';
import { usageFromOpenAI } from './usage.ts';

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);
const encoder = new TextEncoder();

export class OpenAIResponsesPassthrough implements PassthroughObserver {
  private readonly sse = new SseParser();
  private done = false;
  private failed = false;
  private lastUsage: Usage | undefined;
  private text = '';

  push(chunk: Uint8Array): Uint8Array {
    return this.observe(this.sse.push(chunk));
  }
  end(): { tail: Uint8Array; complete: boolean; failed: boolean } {
    const tail = this.observe(this.sse.end());
    return { tail, complete: this.done, failed: this.failed };
  }
  usage(): Usage | undefined {
    return this.lastUsage;
  }
  outputText(): string {
    return this.text;
  }

  private observe(events: SseEvent[]): Uint8Array {
    let out = '';
    for (const ev of events) {
      out += ev.raw;
      try {
        const data: unknown = JSON.parse(ev.data);
        if (!isObject(data)) continue;
        const type = str(data.type) ?? ev.event ?? '';
        if (type === 'error') this.failed = true;
        if (type === 'response.output_text.delta') this.text += str(data.delta) ?? '';
        if (TERMINAL.has(type)) {
          this.done = true;
          const usage = usageFromOpenAI(obj(data.response).usage);
          if (usage) this.lastUsage = usage;
        }
      } catch {
        // non-JSON line: forwarded as is
      }
    }
    return encoder.encode(out);
  }
}
