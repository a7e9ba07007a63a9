// Redaction writes back into every dialect's body shape, for every text-bearing part.
import { createGuardrails } from '../../../extproc/guardrails/index.ts';
import { extractText } from '../../../extproc/guardrails/extract.ts';
import type { IngressDialect } from '../../../provider-adapters/contract.ts';

const KEY = 'AKIAQ2X7EXAMPLE4KEYZ';
const RED = '[REDACTED:aws_access_key]';
const s = (where: string) => `${where} ${KEY}`;

const guardrails = createGuardrails({ policies: { default: { actions: { secret: 'redact' } } } });

const bodies: Record<IngressDialect, unknown> = {
  'openai-chat': {
    model: 'gpt-4o',
    messages: [
      { role: 'system', content: s('system') },
      { role: 'user', content: [{ type: 'text', text: s('user part') }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: JSON.stringify({ q: s('args') }) } }] },
      { role: 'tool', tool_call_id: 'c1', content: s('tool result') },
      { role: 'developer', content: s('developer') },
    ],
    tools: [{ type: 'function', function: { name: 'f', description: s('tool description'), parameters: { type: 'object', properties: { q: { type: 'string', description: s('param') } } } } }],
  },
  'openai-embeddings': { model: 'text-embedding-3-small', input: [s('first'), s('second')] },
  'openai-responses': {
    model: 'gpt-4o',
    instructions: s('instructions'),
    input: [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: s('input text') }] },
      { type: 'message', role: 'assistant', content: s('assistant string') },
      { type: 'function_call', call_id: 'c', name: 'f', arguments: JSON.stringify({ a: s('call args') }) },
      { type: 'function_call_output', call_id: 'c', output: s('call output') },
    ],
    tools: [{ type: 'function', name: 'f', description: s('tool'), parameters: { type: 'object', properties: { a: { enum: [s('enum')] } } } }],
  },
  'anthropic-messages': {
    model: 'claude-sonnet-4-5',
    max_tokens: 100,
    system: [{ type: 'text', text: s('system block') }],
    messages: [
      { role: 'user', content: s('user string') },
      { role: 'assistant', content: [{ type: 'text', text: s('assistant') }, { type: 'tool_use', id: 't', name: 'f', input: { q: s('tool input'), nested: [s('nested')] } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: s('tool result') }] }] },
    ],
    tools: [{ name: 'f', description: s('tool'), input_schema: { type: 'object', properties: { q: { description: s('schema') } } } }],
  },
  'anthropic-count-tokens': { model: 'claude-sonnet-4-5', system: s('system string'), messages: [{ role: 'user', content: s('count me') }] },
  'gemini-generate': {
    systemInstruction: { parts: [{ text: s('system instruction') }] },
    contents: [
      { role: 'user', parts: [{ text: s('user') }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }] },
      { role: 'model', parts: [{ functionCall: { name: 'f', args: { q: s('call args') } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'f', response: { result: s('response') } } }] },
    ],
    tools: [{ functionDeclarations: [{ name: 'f', description: s('decl'), parameters: { type: 'OBJECT', properties: { q: { description: s('param') } } } }] }],
  },
};

function countStrings(value: unknown, needle: string): number {
  if (typeof value === 'string') return value.split(needle).length - 1;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countStrings(v, needle), 0);
  if (typeof value === 'object' && value !== null) return Object.values(value).reduce((n: number, v) => n + countStrings(v, needle), 0);
  return 0;
}

describe.each(Object.entries(bodies))('%s', (dialect, body) => {
  test('every planted secret is extracted with a path that leads to it', () => {
    const parts = extractText(dialect as IngressDialect, body);
    expect(parts.filter((p) => p.text.includes(KEY))).toHaveLength(countStrings(body, KEY));
  });

  test('redaction rewrites every occurrence in place and leaves the rest of the body alone', async () => {
    const original = structuredClone(body);
    const result = await guardrails.scanRequest(dialect as IngressDialect, body);
    expect(result.action).toBe('redact');
    expect(body).toEqual(original); // the caller's object is not mutated
    const planted = countStrings(body, KEY);
    expect(planted).toBeGreaterThan(0);
    expect(JSON.stringify(result.body)).not.toContain(KEY);
    expect(countStrings(result.body, RED)).toBe(planted);
    expect(result.findings).toHaveLength(planted);
    // Same shape: only the redacted strings differ.
    expect(JSON.parse(JSON.stringify(result.body).split(RED).join(KEY))).toEqual(body);
    // Tool-call arguments stay valid JSON after redaction.
    const reparsed = JSON.stringify(result.body);
    expect(() => JSON.parse(reparsed)).not.toThrow();
  });
});
