// OpenAI may interleave argument deltas of parallel tool calls; Anthropic blocks and Responses
// output items must be sequential. This reorders canonical events so at most one tool call is
// open at a time (others are buffered and replayed whole), without changing any content.
import type { CanonicalStreamEvent } from './types.ts';

interface Pending {
  id: string;
  name: string;
  args: string;
  ended: boolean;
}

export class ToolSequencer {
  private current: number | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly order: number[] = [];
  private heldText = '';

  push(ev: CanonicalStreamEvent): CanonicalStreamEvent[] {
    switch (ev.type) {
      case 'tool_call_start':
        if (this.current === undefined) {
          this.current = ev.index;
          return [ev];
        }
        this.pending.set(ev.index, { id: ev.id, name: ev.name, args: '', ended: false });
        this.order.push(ev.index);
        return [];
      case 'tool_call_delta': {
        if (ev.index === this.current) return [ev];
        const p = this.pending.get(ev.index);
        if (p) p.args += ev.argumentsDelta;
        return [];
      }
      case 'tool_call_end': {
        if (ev.index !== this.current) {
          const p = this.pending.get(ev.index);
          if (p) p.ended = true;
          return [];
        }
        this.current = undefined;
        return [ev, ...this.drain()];
      }
      case 'text_delta':
        if (this.current !== undefined) {
          this.heldText += ev.text;
          return [];
        }
        return [ev];
      default:
        // Anything else (finish, usage, error) closes the message: release everything held first.
        return [...this.flushAll(), ev];
    }
  }

  private drain(): CanonicalStreamEvent[] {
    const out: CanonicalStreamEvent[] = [];
    while (this.current === undefined && this.order.length > 0) {
      const index = this.order.shift() as number;
      const p = this.pending.get(index);
      if (!p) continue;
      this.pending.delete(index);
      out.push({ type: 'tool_call_start', index, id: p.id, name: p.name });
      if (p.args) out.push({ type: 'tool_call_delta', index, argumentsDelta: p.args });
      if (p.ended) out.push({ type: 'tool_call_end', index });
      else this.current = index;
    }
    if (this.current === undefined && this.heldText) {
      out.push({ type: 'text_delta', text: this.heldText });
      this.heldText = '';
    }
    return out;
  }

  private flushAll(): CanonicalStreamEvent[] {
    const out: CanonicalStreamEvent[] = [];
    if (this.current !== undefined) {
      out.push({ type: 'tool_call_end', index: this.current });
      this.current = undefined;
    }
    for (const p of this.pending.values()) p.ended = true;
    out.push(...this.drain());
    return out;
  }
}
