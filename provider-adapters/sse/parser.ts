// Incremental Server-Sent Events parser. Chunks may split anywhere: mid-line, between CR and LF,
// or inside a multi-byte UTF-8 character (TextDecoder in stream mode holds partial characters).
export interface SseEvent {
  event?: string;
  data: string;
  /** The exact text of this event (and any comments before it), for byte-faithful passthrough. */
  raw: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  private raw = '';
  private eventName: string | undefined;
  private dataLines: string[] = [];

  push(chunk: Uint8Array): SseEvent[] {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    return this.drain(false);
  }

  /** Flushes at end of stream; a last event without its blank line is still delivered. */
  end(): SseEvent[] {
    this.buffer += this.decoder.decode();
    const out = this.drain(true);
    if (this.buffer.length > 0) {
      this.raw += this.buffer;
      this.takeLine(this.buffer, out);
      this.buffer = '';
    }
    if (this.dataLines.length > 0 || this.eventName !== undefined) out.push(this.dispatch());
    return out;
  }

  /** Text received but not yet part of a complete event (e.g. trailing comments). */
  pendingRaw(): string {
    return this.raw + this.buffer;
  }

  private drain(final: boolean): SseEvent[] {
    const out: SseEvent[] = [];
    const buf = this.buffer;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      let end = i + 1;
      if (c === 13) {
        // A CR at the very end may be the first half of CRLF: wait for the next chunk.
        if (i + 1 >= buf.length && !final) break;
        if (buf.charCodeAt(i + 1) === 10) end = i + 2;
      }
      this.raw += buf.slice(start, end);
      this.takeLine(buf.slice(start, i), out);
      start = end;
      i = end - 1;
    }
    this.buffer = buf.slice(start);
    return out;
  }

  private takeLine(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.dataLines.length > 0 || this.eventName !== undefined) out.push(this.dispatch());
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.eventName = value;
  }

  private dispatch(): SseEvent {
    const ev: SseEvent = { data: this.dataLines.join('\n'), raw: this.raw };
    if (this.eventName !== undefined) ev.event = this.eventName;
    this.raw = '';
    this.eventName = undefined;
    this.dataLines = [];
    return ev;
  }
}
