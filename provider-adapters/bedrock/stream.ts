// Bedrock ConverseStream: AWS event-stream binary frames -> canonical events. Frames may be split
// anywhere; bytes are buffered until a whole frame (its total length is the first 4 bytes) is in.
import { createRequire } from 'node:module';
import type { EventStreamCodec } from '@smithy/eventstream-codec';
import type * as EventStreamCodecModule from '@smithy/eventstream-codec';
import type * as Utf8Module from '@smithy/util-utf8';
import type { StreamDecoder } from '../canonical/adapter.ts';
import { concatBytes, isObject, num, obj, str } from '../canonical/json.ts';
import { STRUCTURED_OUTPUT_TOOL } from '../canonical/params.ts';
import { toGatewayError } from '../canonical/provider-error.ts';
import type { CanonicalStreamEvent } from '../canonical/types.ts';
import { bedrockExceptionStatus } from './errors.ts';
import { finishFromBedrock } from './finish.ts';
import { usageFromBedrock } from './usage.ts';

// Built with the first Bedrock stream (synchronously, from the CommonJS builds), not at start-up.
let codecInstance: EventStreamCodec | undefined;
function codec(): EventStreamCodec {
  if (!codecInstance) {
    const require = createRequire(import.meta.url);
    const { EventStreamCodec: Codec } = require('@smithy/eventstream-codec') as typeof EventStreamCodecModule;
    const { fromUtf8, toUtf8 } = require('@smithy/util-utf8') as typeof Utf8Module;
    codecInstance = new Codec(toUtf8, fromUtf8);
  }
  return codecInstance;
}
const decoder = new TextDecoder();

type Block = { kind: 'tool'; index: number } | { kind: 'structured' };

export class ConverseStreamDecoder implements StreamDecoder {
  private buffer: Uint8Array = new Uint8Array();
  private readonly blocks = new Map<number, Block>();
  private tools = 0;
  private structured = false;
  private stopped = false;

  push(chunk: Uint8Array): CanonicalStreamEvent[] {
    this.buffer = concatBytes(this.buffer, chunk);
    const out: CanonicalStreamEvent[] = [];
    while (this.buffer.length >= 4) {
      const total = new DataView(this.buffer.buffer, this.buffer.byteOffset, 4).getUint32(0);
      if (this.buffer.length < total) break;
      const frame = this.buffer.subarray(0, total);
      this.buffer = this.buffer.subarray(total);
      let message;
      try {
        message = codec().decode(frame);
      } catch {
        out.push({ type: 'error', error: toGatewayError({ status: 502, message: 'Corrupt event-stream frame from upstream' }, {}) });
        this.buffer = new Uint8Array();
        break;
      }
      const h = (name: string): string | undefined => {
        const v = message.headers[name];
        return v && v.type === 'string' ? v.value : undefined;
      };
      let payload: unknown;
      try {
        payload = JSON.parse(decoder.decode(message.body));
      } catch {
        payload = {};
      }
      const messageType = h(':message-type');
      if (messageType === 'exception' || messageType === 'error') {
        const type = h(':exception-type') ?? h(':error-code');
        const msg = str(obj(payload).message) ?? h(':error-message') ?? type ?? 'Upstream stream error';
        out.push({ type: 'error', error: toGatewayError({ status: bedrockExceptionStatus(type, 500), message: msg }, {}) });
        continue;
      }
      this.event(h(':event-type') ?? '', obj(payload), out);
    }
    return out;
  }

  end(): CanonicalStreamEvent[] {
    return [];
  }

  complete(): boolean {
    return this.stopped;
  }

  private event(type: string, p: Record<string, unknown>, out: CanonicalStreamEvent[]): void {
    const index = num(p.contentBlockIndex) ?? 0;
    switch (type) {
      case 'messageStart':
        out.push({ type: 'message_start' });
        return;
      case 'contentBlockStart': {
        const tu = obj(obj(p.start).toolUse);
        if (tu.name === STRUCTURED_OUTPUT_TOOL) {
          this.structured = true;
          this.blocks.set(index, { kind: 'structured' });
        } else if (isObject(obj(p.start).toolUse)) {
          const b = { kind: 'tool' as const, index: this.tools++ };
          this.blocks.set(index, b);
          out.push({ type: 'tool_call_start', index: b.index, id: str(tu.toolUseId) ?? '', name: str(tu.name) ?? '' });
        }
        return;
      }
      case 'contentBlockDelta': {
        const d = obj(p.delta);
        const b = this.blocks.get(index);
        if (typeof d.text === 'string' && d.text) out.push({ type: 'text_delta', text: d.text });
        const input = str(obj(d.toolUse).input);
        if (input && b?.kind === 'tool') out.push({ type: 'tool_call_delta', index: b.index, argumentsDelta: input });
        if (input && b?.kind === 'structured') out.push({ type: 'text_delta', text: input });
        return;
      }
      case 'contentBlockStop': {
        const b = this.blocks.get(index);
        if (b?.kind === 'tool') out.push({ type: 'tool_call_end', index: b.index });
        return;
      }
      case 'messageStop': {
        this.stopped = true;
        let reason = finishFromBedrock(p.stopReason);
        if (this.structured && reason === 'tool_calls') reason = 'stop';
        out.push({ type: 'finish', reason });
        return;
      }
      case 'metadata': {
        const usage = usageFromBedrock(p.usage);
        if (usage) out.push({ type: 'usage', usage });
        return;
      }
      default:
        return;
    }
  }
}
