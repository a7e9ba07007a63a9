// A passthrough for SSE providers whose format equals the client's: every event is forwarded as
// it arrived, and the provider's own stream decoder reads each complete event on the side for
// usage, answer text and in-band errors.
import type { PassthroughObserver, StreamDecoder } from '../canonical/adapter.ts';
import type { Usage } from '../contract.ts';
import { SseParser, type SseEvent } from './parser.ts';

export class DecodingPassthrough implements PassthroughObserver {
  private readonly sse = new SseParser();
  private readonly encoder = new TextEncoder();
  private readonly decoder: StreamDecoder;
  /** Usage a format carries in every event, read as soon as it arrives (the decoder may hold it). */
  private readonly eagerUsage: ((data: string) => Usage | undefined) | undefined;
  private lastUsage: Usage | undefined;
  private text = '';
  private failed = false;

  constructor(decoder: StreamDecoder, eagerUsage?: (data: string) => Usage | undefined) {
    this.decoder = decoder;
    this.eagerUsage = eagerUsage;
  }

  push(chunk: Uint8Array): Uint8Array {
    return this.observe(this.sse.push(chunk));
  }
  end(): { tail: Uint8Array; complete: boolean; failed: boolean } {
    const tail = this.observe(this.sse.end());
    return { tail, complete: this.decoder.complete(), failed: this.failed };
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
      const eager = this.eagerUsage?.(ev.data);
      if (eager) this.lastUsage = eager;
      // The decoder reads the complete event text, so both paths read usage identically.
      for (const c of this.decoder.push(this.encoder.encode(`data: ${ev.data}\n\n`))) {
        if (c.type === 'usage') this.lastUsage = c.usage;
        if (c.type === 'text_delta') this.text += c.text;
        if (c.type === 'error') this.failed = true;
      }
    }
    return this.encoder.encode(out);
  }
}
