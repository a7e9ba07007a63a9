// OpenAI finish_reason <-> canonical.
import type { FinishReason } from '../canonical/types.ts';

export function finishFromOpenAI(reason: unknown): FinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export function finishToOpenAI(reason: FinishReason): string {
  switch (reason) {
    case 'stop_sequence':
      return 'stop';
    case 'error':
      return 'stop';
    default:
      return reason;
  }
}
