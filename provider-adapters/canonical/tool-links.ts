// Fills tool_result names from the matching tool_call (Gemini needs the function name on results).
import type { CanonicalMessage } from './types.ts';

export function linkToolResultNames(messages: CanonicalMessage[]): void {
  const names = new Map<string, string>();
  for (const m of messages) {
    for (const p of m.content) {
      if (p.type === 'tool_call') names.set(p.id, p.name);
      else if (p.type === 'tool_result' && p.name === undefined) {
        const name = names.get(p.toolCallId);
        if (name !== undefined) p.name = name;
      }
    }
  }
}
